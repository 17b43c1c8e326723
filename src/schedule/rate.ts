import {Credit, OTHERS_IN_FLIGHT, OTHERS_RESERVE} from './credit.js';
import {Gate} from './gate.js';
import {SendHistory} from './history.js';
import {Learning, rateFrom429, spentBudget} from './learning.js';
import {LONGEST_WINDOW_MS, merge, NOTHING, ratePerMinute, type Decision, type ModelStats, type PauseReason, type Rate, type RateReply, type RateSource, type RateTimeline} from './rate-types.js';

export {ratePerMinute, type BudgetMode, type Decision, type ModelStats, type Pause, type PauseReason, type Rate, type RateReply, type RateSource, type RateTimeline} from './rate-types.js';

/** Requests are spaced this much wider than the rate, so arrival jitter never tips a window over. */
const MARGIN = 1.02;

/**
 * The rate model of one token: a state machine over an explicit `now`, no timers, no I/O. The pacer
 * asks it whether a request may leave (`maySend`), tells it when one did (`sent`) and what came back
 * (`observe`), and applies the `Decision`s. Its parts: credit.ts, learning.ts, gate.ts.
 *
 * - A per-minute limit is a budget, not a speed: where answers carry `X-RateLimit-Remaining` (and
 *   no lower `--rate` was told), requests go as soon as there is credit — the latest Remaining (in
 *   send order) less what was sent since and what was still in flight — down to none, with no
 *   spacing (`bursting`). After a pause, or when nothing heard is fresh, one request goes first and
 *   its answer tells the credit.
 * - Otherwise (no rate headers, or a told rate below the budget) requests are spaced evenly at the
 *   rate (`spacingMs`), 2% wide of it, and at no credit left the next waits for an answer briefly.
 * - A gate — one "not before" time — is closed by a 429's `Retry-After` and by a spent budget
 *   window (`X-RateLimit-Remaining: 0`), timed from the answer of the window's first request.
 * - A 429 while pacing at a told rate teaches the real one; once the budget is ours alone again
 *   the learned rate climbs back.
 * - With a budget shared between `processes` through Redis: bursting, Redis grants the window's
 *   room (a spent window closes no gate here); spaced, our sends are 1/processes of all.
 */
export class RateModel {
	#rate: Rate;
	#source: RateSource;
	readonly #told: Rate | undefined; // `--rate`: at most this fast, whatever the budget
	/** The token's rate per minute as introspect gave it. */
	#introspectPerMinute: number | undefined;
	/** After a faster rate: not before one spacing after the last request. */
	#spacedFrom = 0;
	/** The server's budget per window (`X-RateLimit-Limit`). */
	#burst: number | undefined;
	/** The server's rate per minute, from introspect, else from `X-RateLimit-Limit` (per minute). */
	#budgetPerMinute: number | undefined;
	/** Whether answers carry `X-RateLimit-Remaining` ('unknown' before the first answer). */
	#headers: 'unknown' | 'yes' | 'no' = 'unknown';
	/**
	 * The last spent-window pause: when its window began, and when the gate opens. A window worked
	 * out before introspect told the rate (from the header alone, a minute) is shortened once it does.
	 */
	#spent: {readonly began: number; readonly until: number} | undefined;
	readonly #inFlight = new Set<number>();
	readonly #history = new SendHistory();
	readonly #credit = new Credit({history: this.#history, inFlight: this.#inFlight});
	readonly #learning = new Learning();
	readonly #gate: Gate;
	/** Processes sharing the budget through Redis, this one included (undefined: not shared). */
	#processes: number | undefined;

	/** `maxWaitMs`: no pause is longer (`--max-wait`). @default no bound */
	constructor({rate, source, maxWaitMs = Number.POSITIVE_INFINITY}: {rate: Rate; source: RateSource; maxWaitMs?: number}) {
		this.#rate = rate;
		this.#source = source;
		this.#told = source === 'told' ? rate : undefined;
		this.#gate = new Gate(maxWaitMs);
	}

	get rate(): Rate {
		return this.#rate;
	}

	get source(): RateSource {
		return this.#source;
	}

	/** Until when every request waits (a 429 or a spent window); 0 before the first pause. */
	get pausedUntil(): number {
		return this.#gate.notBefore;
	}

	/**
	 * Whether the budget is spent as soon as there is work: answers carry Remaining to follow, and
	 * no told rate is lower than the budget (`--rate` means "at most this fast").
	 */
	get bursting(): boolean {
		return this.#headers === 'yes'
			&& !(this.#told !== undefined && this.#budgetPerMinute !== undefined && ratePerMinute(this.#told) < this.#budgetPerMinute)
			// Not while another client is seen spending the window: racing it for the budget costs 429s.
			// (Never seen with a budget shared through Redis: there every process's grants are counted.)
			&& !this.#credit.crowded;
	}

	/** Spaced evenly (no rate headers, or a lower `--rate`): not bursting, and not before the first answer either. */
	get spaced(): boolean {
		return this.#headers !== 'unknown' && !this.bursting;
	}

	/** Slots are this far apart: none while bursting, else the rate's even spacing, 2% wide. */
	get spacingMs(): number {
		return this.bursting ? 0 : this.#evenSpacingMs;
	}

	/** The earliest time the gate lets a request out. */
	get openAt(): number {
		return Math.max(this.#gate.notBefore, this.#spacedFrom);
	}

	/**
	 * The server's budget per window and the window, once an answer said it: what a budget shared
	 * through Redis grants against (see redis-scripts.ts).
	 */
	get sharedWindow(): {readonly limit: number; readonly windowMs: number} | undefined {
		return this.#burst === undefined ? undefined : {limit: this.#burst, windowMs: this.#spentWindowMs};
	}

	/** How long a spent window would have needed waiting, past `--max-wait`: nothing more is sent. */
	get overlongWaitMs(): number | undefined {
		return this.#gate.overlongMs;
	}

	/**
	 * Whether a request may leave at `now`: the gate is open and the last Remaining heard leaves room
	 * (bursting with a budget shared through Redis, Redis grants the room instead).
	 */
	maySend(now: number): boolean {
		if (now < this.openAt) {
			return false;
		}

		if (this.#headers === 'unknown') {
			return this.#inFlight.size === 0;
		}

		if (this.#processes !== undefined && this.bursting) {
			return true;
		}

		return this.bursting ? this.#credit.hasCredit(this.#gate.pausedAfter) : !this.#credit.outOfCredit(now, Math.min(this.#serverWindowMs, Math.max(4 * this.#evenSpacingMs, 250)));
	}

	/** A request leaves now; returns its number, to hand back with its answer (or to `lost`). */
	sent(now: number): number {
		this.#gate.sent(now);
		const sequence = this.#history.sent(now);
		this.#inFlight.add(sequence);
		return sequence;
	}

	/** Request `sequence` will never be answered (it threw): no longer in flight, still counted as sent. */
	lost(sequence: number): void {
		this.#inFlight.delete(sequence);
	}

	/**
	 * The budget is shared through Redis by `processes` (this one included): bursting, Redis grants
	 * the window's room to every process and a spent window closes no gate here; spaced, the spacing
	 * is every process's.
	 */
	share(processes: number): Decision {
		const spacing = this.spacingMs;
		this.#processes = processes;
		return this.#spacingChanged(spacing) ?? NOTHING;
	}

	/** Sharing ended (Redis went away): carry on alone at `share` of the rate. */
	leaveShared(share: number): Decision {
		const spacing = this.spacingMs;
		this.#processes = undefined;
		this.#rate = {count: this.#rate.count * share, windowMs: this.#rate.windowMs};
		return this.#spacingChanged(spacing) ?? {rate: {rate: this.#rate, faster: false}};
	}

	/** Sets the rate (from `introspect`, say), unless a lower one was told. */
	setRate(rate: Rate, source: RateSource): Decision {
		const spacing = this.spacingMs;
		if (source === 'introspect') {
			// The budget: a told rate below it makes the requests spaced.
			this.#budgetPerMinute = ratePerMinute(rate);
			this.#introspectPerMinute = ratePerMinute(rate);
		}

		if (source !== 'learned' && this.#source === 'told' && ratePerMinute(rate) >= ratePerMinute(this.#rate)) {
			this.#reviseSpentWindow();
			return this.#spacingChanged(spacing) ?? NOTHING;
		}

		this.#rate = rate;
		this.#source = source;
		this.#reviseSpentWindow();
		return this.#spacingChanged(spacing) ?? {rate: {rate, faster: false}};
	}

	/**
	 * Another process on the shared budget paused every request for `forMs` (a duration: the
	 * machines' clocks may differ), said at `now`.
	 */
	pausedByPeer(forMs: number, reason: PauseReason | undefined, now: number): Decision {
		const known: PauseReason = reason === '429' ? '429 (another process)' : reason === 'remaining' ? 'remaining (another process)' : 'pause (another process)';
		return this.#gate.close({until: now + forMs, reason: known, now, publish: false, lastSent: this.#history.sequence});
	}

	/** What an answer to request `sequence` says, arriving at `now`. */
	observe(reply: RateReply, sequence: number, now: number): Decision {
		this.#history.answered(sequence, now);
		this.#inFlight.delete(sequence);
		const spacing = this.spacingMs;
		const decision = this.#observe(reply, sequence, now);
		const changed = this.#spacingChanged(spacing);
		return changed ? merge(decision, changed) : decision;
	}

	/**
	 * What was counted up to `now`: a pause still running counts only as far as it was waited (a run
	 * stopped at the start of a pause — a Retry-After beyond --max-wait, say — waited none of it).
	 */
	stats(now: number): ModelStats {
		return {requests: this.#gate.requests, tooManyRequests: this.#gate.tooManyRequests, pauses: this.#gate.pauses, pausedMs: this.#gate.pausedMs(now), rate: this.#rate, source: this.#source, sentSpan: this.#history.span};
	}

	timeline(): RateTimeline {
		return this.#gate.timeline();
	}

	#observe(reply: RateReply, sequence: number, now: number): Decision {
		let decision = NOTHING;
		if (this.#headers === 'unknown' && reply.status !== undefined) {
			this.#headers = reply.remaining === undefined ? 'no' : 'yes';
		}

		if (reply.limit !== undefined && reply.limit > 0) {
			this.#burst = reply.limit;
			// The header is per minute (Webflow's documented meaning).
			this.#budgetPerMinute ??= reply.limit;
			if (this.#source === 'default') {
				// The first answer tells the budget.
				decision = merge(decision, this.setRate({count: reply.limit, windowMs: 60_000}, 'header'));
			}
		}

		if (reply.status === 429) {
			return merge(decision, this.#observe429(reply, sequence, now));
		}

		const {remaining} = reply;
		if (remaining === undefined) {
			return decision;
		}

		const othersNow = this.#credit.hear({sequence, remaining, now, bursting: this.bursting, burst: this.#burst});
		if (this.#processes === undefined) {
			this.#credit.watchCrowd(this.#credit.othersSure, now, this.#serverWindowMs);
		}

		const climbed = this.#learning.climbBack({remaining, othersNow, now, burst: this.#burst, rate: this.#rate, evenSpacingMs: this.#evenSpacingMs, history: this.#history, watched: this.#processes === undefined && !this.bursting});
		if (climbed) {
			decision = merge(decision, this.setRate(climbed.rate, climbed.source));
		}

		const heard = this.#credit.heard;
		// Others spend this window too (without Redis we only see them in Remaining): they may take
		// the last request any moment, and a 429 costs a whole Retry-After, so the last one is left.
		const others = this.#processes === undefined && heard?.others === true;
		// Bursting, what the other client may have in flight is left to it too; not knowing when the
		// window began, a whole one is waited from now.
		// Bursting, the window is always timed from the answer that showed it begun too: our own
		// requests may not be all of it.
		const othersSince = this.bursting ? heard?.windowFrom ?? (others ? now : undefined) : others ? heard?.windowFrom : undefined;
		const reserve = this.bursting ? OTHERS_IN_FLIGHT : OTHERS_RESERVE;
		// Bursting through Redis, every process's grants are counted there against the window.
		const sharedBurst = this.#processes !== undefined && this.bursting;
		if (!sharedBurst && (remaining === 0 || (others && othersSince !== undefined && remaining <= reserve))) {
			const began = this.#spentWindowBegan(sequence, othersSince, now);
			const closed = this.#gate.close({until: began + this.#spentWindowMs, reason: 'remaining', now, publish: true, lastSent: this.#history.sequence});
			if (closed.pause) {
				this.#spent = {began, until: closed.pause.until};
			}

			decision = merge(decision, closed);
		}

		return decision;
	}

	#observe429(reply: RateReply, sequence: number, now: number): Decision {
		this.#gate.limited(now);
		const retryAfter = reply.retryAfterMs ?? this.#rate.windowMs;
		const until = now + retryAfter;
		let decision = NOTHING;
		if (spentBudget(reply, sequence, this.#credit.heard)) {
			// Whole seconds are rounded up by the server: the window really ends within the last second.
			decision = this.#learnFrom429({sequence, resetAt: {latest: until, likely: retryAfter >= 1000 && retryAfter % 1000 === 0 ? until - 500 : until}, now});
		}

		decision = merge(decision, this.#gate.close({until, reason: '429', now, publish: true, lastSent: this.#history.sequence}));
		// Headroom is watched from when sending resumes: a pause would look like budget to spare.
		this.#learning.paused(Math.max(until, this.#gate.notBefore));
		return decision;
	}

	#learnFrom429({sequence, resetAt, now}: {sequence: number; resetAt: {readonly latest: number; readonly likely: number}; now: number}): Decision {
		const burst = this.#burst;
		const windowSequence = this.#credit.heard?.windowSequence;
		const windowBegan = windowSequence === undefined ? undefined : this.#history.sentBefore(windowSequence, 0);
		const burstAgo = burst === undefined ? undefined : this.#history.sentBefore(sequence, burst);
		const {bursting, crowded} = {bursting: this.bursting, crowded: this.#credit.crowded};
		const learned = rateFrom429({sequence, resetAt, current: this.#rate, burst, bursting, crowded, windowUnconfirmed: this.#windowUnconfirmed, ourWindowBegan: this.#windowBegan(), windowBegan, burstAgo, processes: this.#processes ?? 1});
		return learned && this.#learning.lower({current: this.#rate, source: this.#source, learned, now}) ? this.setRate(learned, 'learned') : NOTHING;
	}

	/**
	 * When our first request in the current window was sent: the one whose answer showed the window
	 * begun, or for the first window, our first request if the server counted nothing before it.
	 */
	#windowBegan(): number | undefined {
		const heard = this.#credit.heard;
		if (heard?.windowSequence !== undefined) {
			return this.#history.sentBefore(heard.windowSequence, 0);
		}

		return heard !== undefined && this.#credit.firstWindowOurs ? this.#history.span?.first : undefined;
	}

	/** The rate changed the server's window: a spent-window pause still running ends with it, if sooner. */
	#reviseSpentWindow(): void {
		const spent = this.#spent;
		if (spent === undefined || this.#gate.notBefore !== spent.until) {
			return;
		}

		const until = Math.max(this.#spacedFrom, spent.began + this.#serverWindowMs);
		if (until < spent.until) {
			this.#gate.shorten(spent.until, until);
			this.#spent = {began: spent.began, until};
		}
	}

	get #evenSpacingMs(): number {
		return this.#rate.windowMs / this.#rate.count * MARGIN;
	}

	/**
	 * The server's budget window: the time its `X-RateLimit-Limit` requests take at the rate the
	 * server gave (introspect, or learned from its 429s) — not at a told rate below it — and never
	 * more than a minute (the header is per minute).
	 */
	get #serverWindowMs(): number {
		const burst = this.#burst ?? this.#rate.count;
		const perMinute = this.#source === 'learned' || this.#introspectPerMinute === undefined ? ratePerMinute(this.#rate) : this.#introspectPerMinute;
		return Math.min(LONGEST_WINDOW_MS, burst * 60_000 / perMinute);
	}

	/**
	 * How long a spent window is waited, from its start. A window only a told rate implies (no
	 * introspect, nothing learned yet) may be far too short: it is waited to the next whole second
	 * (Webflow's windows are a minute; Retry-After counts whole seconds), so the request after it
	 * either finds the window renewed, or gets the one 429 whose Retry-After times the window.
	 */
	get #spentWindowMs(): number {
		const windowMs = this.#serverWindowMs;
		return this.#windowUnconfirmed ? Math.ceil(windowMs / 1000) * 1000 : windowMs;
	}

	/** The server's window is only what a told rate implies: no introspect, nothing learned yet. */
	get #windowUnconfirmed(): boolean {
		return this.#source === 'told' && this.#introspectPerMinute === undefined;
	}

	/**
	 * A new spacing, if it changed from `before`: `faster` when slots come sooner now (the slots
	 * already given out were at the old pace, so the next is one new spacing after the last request).
	 */
	#spacingChanged(before: number): Decision | undefined {
		const after = this.spacingMs;
		if (after === before) {
			return undefined;
		}

		const faster = after < before;
		if (this.#processes === undefined) {
			// The next slot is one new spacing after the last request (Bottleneck would keep the old one).
			this.#spacedFrom = faster ? this.#history.lastSentAt + after : Math.max(this.#spacedFrom, this.#history.lastSentAt + after);
		}

		return {rate: {rate: this.#rate, faster}};
	}

	/**
	 * The budget is spent: the next slot frees a window after the first request it counted. With a
	 * shared budget our sends are 1/processes of all. When we have not sent that many (the budget
	 * was spent by others), wait a whole window.
	 */
	#spentWindowBegan(sequence: number, othersSince: number | undefined, now: number): number {
		const burst = this.#burst ?? this.#rate.count;
		// The window began no later than the server counted that request, and that was no later
		// than its answer came back: timing from its answer, not its send, is safe whatever the
		// latency or its jitter (a request sent on time can arrive late and open the window late).
		const first = this.#history.answeredBefore(sequence, Math.ceil((burst - 1) / (this.#processes ?? 1)));
		// With others in the window our own oldest request says little of when it began; it began
		// no later than the answer that first showed it.
		return Math.max(first ?? now, othersSince ?? 0);
	}
}

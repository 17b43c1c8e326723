import {SendHistory} from './history.js';

/** A rate: `count` requests per `windowMs`. */
export type Rate = {readonly count: number; readonly windowMs: number};

/** Where the current rate came from; only a guessed rate is replaced by the first `X-RateLimit-Limit`. */
export type RateSource = 'told' | 'introspect' | 'default' | 'header' | 'learned';

/** What an answer says about the budget. */
export type RateReply = {
	readonly limit: number | undefined;
	readonly remaining: number | undefined;
	readonly status: number | undefined;
	readonly retryAfterMs: number | undefined;
};

/** Why every request waits: a 429's `Retry-After`, a spent budget window, or either heard from another process. */
export type PauseReason = '429' | 'remaining' | '429 (another process)' | 'remaining (another process)' | 'pause (another process)';

export type Pause = {readonly from: number; readonly until: number; readonly reason: PauseReason};

/** Requests over time (per second) and the pauses, for the report. */
export type RateTimeline = {
	readonly sent: ReadonlyMap<number, number>;
	readonly limited: ReadonlyMap<number, number>;
	readonly pauses: readonly Pause[];
};

/** How the budget is kept: by this process alone, through Redis with others, or alone again after Redis went away. */
export type BudgetMode = {readonly kind: 'local'} | {readonly kind: 'shared'; readonly peers: number} | {readonly kind: 'fallback'; readonly share: number; readonly reason: string};

export type ModelStats = {
	readonly requests: number;
	readonly tooManyRequests: number;
	readonly pauses: number;
	readonly pausedMs: number;
	readonly rate: Rate;
	readonly source: RateSource;
	/** When the first and the last request were sent (undefined before the first). */
	readonly sentSpan: {readonly first: number; readonly last: number} | undefined;
};

/**
 * What the pacer has to do after the model changed its mind: close the gate (and, for a pause of
 * our own, tell the other processes), or take a new spacing (`faster`: the old slots are too late).
 */
export type Decision = {
	readonly pause?: Pause & {readonly publish: boolean};
	readonly rate?: {readonly rate: Rate; readonly faster: boolean};
};

const NOTHING: Decision = {};

/** Requests are spaced this much wider than the rate, so arrival jitter never tips a window over. */
const MARGIN = 1.02;
/** `X-RateLimit-Limit` is per minute (Webflow's documented meaning): no budget window is longer. */
const LONGEST_WINDOW_MS = 60_000;
/** Requests left unused at the end of a window that others spend too: a 429 would cost more. */
const OTHERS_RESERVE = 1;
/**
 * Bursting, requests left unused in a window others spend too: what another client (another run,
 * at the default --concurrency) may have in flight that no Remaining showed yet.
 */
const OTHERS_IN_FLIGHT = 4;
/** Pause log entries kept for the report. */
const PAUSE_LOG_SIZE = 10_000;

export function ratePerMinute(rate: Rate): number {
	return rate.count * 60_000 / rate.windowMs;
}

/**
 * The latest `X-RateLimit-Remaining` in send order: when it was heard, when a window was last seen to
 * begin (the answer after which more remained than before), and whether requests not ours were
 * counted since then.
 */
type Heard = {
	readonly sequence: number;
	readonly remaining: number;
	readonly at: number;
	/** Our earlier requests still in flight when it was heard: the server may count them after it. */
	readonly olderInFlight: number;
	readonly windowFrom: number | undefined;
	/** The request whose answer showed the window begun. */
	readonly windowSequence: number | undefined;
	readonly others: boolean;
	/** Others were seen in the window before this one: they may come back at its start. */
	readonly othersBefore: boolean;
};

/** One stretch of answers watched for headroom after learning down. */
type Watch = {readonly since: number; readonly fewest: number; readonly othersSeen: boolean};
type Recovery = {readonly ceiling: Rate; readonly ceilingSource: RateSource; watch: Watch};

function freshWatch(since: number): Watch {
	return {since, fewest: Number.POSITIVE_INFINITY, othersSeen: false};
}

function merge(a: Decision, b: Decision): Decision {
	const rate = b.rate && a.rate ? {rate: b.rate.rate, faster: a.rate.faster || b.rate.faster} : b.rate ?? a.rate;
	return {...(b.pause ?? a.pause ? {pause: b.pause ?? a.pause} : {}), ...(rate ? {rate} : {})};
}

/**
 * The rate model of one token: a small state machine over an explicit `now`, with no timers and no
 * I/O, so every case is a table test. The pacer asks it whether a request may leave (`maySend`),
 * tells it when one did (`sent`) and what came back (`observe`), and applies the `Decision`s.
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
 * - With a budget shared between `processes`, our sends are 1/processes of all.
 */
export class RateModel {
	#rate: Rate;
	#source: RateSource;
	/** `--rate`: at most this fast, whatever the budget. */
	readonly #told: Rate | undefined;
	/** `--max-wait`: no pause is longer. */
	readonly #maxWaitMs: number;
	/** Set when a spent window opens again later than `--max-wait` allows to wait: how much later. */
	#overlongMs: number | undefined;
	/** The token's rate per minute as introspect gave it. */
	#introspectPerMinute: number | undefined;
	#notBefore = 0;
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
	/** The last request sent before the gate last closed: answers to it or older are from before the pause. */
	#pausedAfter = 0;
	readonly #inFlight = new Set<number>();
	readonly #history = new SendHistory();
	#heard: Heard | undefined;
	/**
	 * When an answer last showed another client spending the window (without Redis: Remaining fell
	 * by more than we sent); undefined once a whole window passed without one. Meanwhile requests are
	 * spaced evenly, leaving the window's last one, instead of bursting.
	 */
	#crowdedAt: number | undefined;
	/** Since crowded: the first answer after which no other client was seen. */
	#aloneSince: number | undefined;
	/** Whether the answer just heard showed requests that can't be ours, whatever the order the server counted ours in. */
	#othersSure = false;
	/** The first answer heard showed only our requests counted: the first window began with our first request. */
	#firstWindowOurs = false;
	/** After learning a lower rate: what is watched to take the rate back up (see `#climbBack`). */
	#recovery: Recovery | undefined;
	/** Processes sharing the budget through Redis (this one included); undefined when not shared. */
	#processes: number | undefined;
	#requests = 0;
	#tooMany = 0;
	#pauses = 0;
	#pausedMs = 0;
	readonly #sent = new Map<number, number>();
	readonly #limited = new Map<number, number>();
	readonly #pauseLog: Pause[] = [];

	/** `maxWaitMs`: no pause is longer (`--max-wait`). @default no bound */
	constructor({rate, source, maxWaitMs = Number.POSITIVE_INFINITY}: {rate: Rate; source: RateSource; maxWaitMs?: number}) {
		this.#rate = rate;
		this.#source = source;
		this.#told = source === 'told' ? rate : undefined;
		this.#maxWaitMs = maxWaitMs;
	}

	get rate(): Rate {
		return this.#rate;
	}

	get source(): RateSource {
		return this.#source;
	}

	/** Until when every request waits (a 429 or a spent window); 0 before the first pause. */
	get pausedUntil(): number {
		return this.#notBefore;
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
			&& this.#crowdedAt === undefined;
	}

	/** Slots are this far apart: none while bursting, else the rate's even spacing, 2% wide. */
	get spacingMs(): number {
		return this.bursting ? 0 : this.#evenSpacingMs;
	}

	/** The earliest time the gate lets a request out. */
	get openAt(): number {
		return Math.max(this.#notBefore, this.#spacedFrom);
	}

	/**
	 * The server's budget per window and the window, once an answer said it: what a budget shared
	 * through Redis grants against (see redis-scripts.ts).
	 */
	get sharedWindow(): {readonly limit: number; readonly windowMs: number} | undefined {
		return this.#burst === undefined ? undefined : {limit: this.#burst, windowMs: this.#spentWindowMs};
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

		return this.bursting ? this.#hasCredit() : !this.#outOfCredit(now);
	}

	/** A request leaves now; returns its number, to hand back with its answer (or to `lost`). */
	sent(now: number): number {
		this.#requests++;
		const second = Math.floor(now / 1000);
		this.#sent.set(second, (this.#sent.get(second) ?? 0) + 1);
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
	pausedByPeer(forMs: number, reason: string, now: number): Decision {
		const known: PauseReason = reason === '429' ? '429 (another process)' : reason === 'remaining' ? 'remaining (another process)' : 'pause (another process)';
		return this.#closeGate({until: now + forMs, reason: known, now, publish: false});
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

		this.#othersSure = false;
		const othersNow = this.#hear(sequence, remaining, now);
		this.#watchCrowd(this.#othersSure, now);
		decision = merge(decision, this.#climbBack(remaining, othersNow, now));
		// Others spend this window too (without Redis we only see them in Remaining): they may take
		// the last request any moment, and a 429 costs a whole Retry-After, so the last one is left.
		const others = this.#processes === undefined && this.#heard?.others === true;
		// Bursting, what the other client may have in flight is left to it too; not knowing when the
		// window began, a whole one is waited from now.
		// Bursting, the window is always timed from the answer that showed it begun too: our own
		// requests may not be all of it.
		const othersSince = this.bursting ? this.#heard?.windowFrom ?? (others ? now : undefined) : others ? this.#heard?.windowFrom : undefined;
		const reserve = this.bursting ? OTHERS_IN_FLIGHT : OTHERS_RESERVE;
		// Bursting through Redis, every process's grants are counted there against the window.
		const sharedBurst = this.#processes !== undefined && this.bursting;
		if (!sharedBurst && (remaining === 0 || (others && othersSince !== undefined && remaining <= reserve))) {
			const began = this.#spentWindowBegan(sequence, othersSince, now);
			const closed = this.#closeGate({until: began + this.#spentWindowMs, reason: 'remaining', now, publish: true});
			if (closed.pause) {
				this.#spent = {began, until: closed.pause.until};
			}

			decision = merge(decision, closed);
		}

		return decision;
	}

	/**
	 * What was counted up to `now`: a pause still running counts only as far as it was waited (a run
	 * stopped at the start of a pause — a Retry-After beyond --max-wait, say — waited none of it).
	 */
	stats(now: number): ModelStats {
		// Pauses never overlap and the last ends at the gate: what lies after `now` is not waited yet.
		const pausedMs = this.#pausedMs - Math.max(0, this.#notBefore - now);
		return {requests: this.#requests, tooManyRequests: this.#tooMany, pauses: this.#pauses, pausedMs, rate: this.#rate, source: this.#source, sentSpan: this.#history.span};
	}

	timeline(): RateTimeline {
		return {sent: this.#sent, limited: this.#limited, pauses: this.#pauseLog};
	}

	#observe429(reply: RateReply, sequence: number, now: number): Decision {
		this.#tooMany++;
		const second = Math.floor(now / 1000);
		this.#limited.set(second, (this.#limited.get(second) ?? 0) + 1);
		const retryAfter = reply.retryAfterMs ?? this.#rate.windowMs;
		const until = now + retryAfter;
		let decision = NOTHING;
		if (this.#spentBudget(reply, sequence)) {
			// Whole seconds are rounded up by the server: the window really ends within the last second.
			decision = this.#learnFrom429({sequence, resetAt: {latest: until, likely: retryAfter >= 1000 && retryAfter % 1000 === 0 ? until - 500 : until}, now});
		}

		decision = merge(decision, this.#closeGate({until, reason: '429', now, publish: true}));
		if (this.#recovery) {
			// Headroom is watched from when sending resumes: a pause would look like budget to spare.
			this.#recovery.watch = freshWatch(Math.max(until, this.#notBefore));
		}

		return decision;
	}

	/**
	 * Another client seen spending the window: spaced (and the window's last request left to it)
	 * while it is seen, bursting again once a whole window passed without it. Two runs bursting at
	 * one budget each send what the other has in flight unseen: 429s.
	 */
	#watchCrowd(othersNow: boolean, now: number): void {
		if (this.#processes !== undefined) {
			return;
		}

		if (othersNow) {
			this.#crowdedAt = now;
			this.#aloneSince = undefined;
			return;
		}

		if (this.#crowdedAt === undefined) {
			return;
		}

		// Alone for a window of answers (a pause in between shows nothing either way).
		this.#aloneSince ??= now;
		if (now - this.#aloneSince >= this.#serverWindowMs) {
			this.#crowdedAt = undefined;
			this.#aloneSince = undefined;
		}
	}

	/** Processes spending the budget, this one included. */
	get #processCount(): number {
		return this.#processes ?? 1;
	}

	/** The rate changed the server's window: a spent-window pause still running ends with it, if sooner. */
	#reviseSpentWindow(): void {
		const spent = this.#spent;
		if (spent === undefined || this.#notBefore !== spent.until) {
			return;
		}

		const until = Math.max(this.#spacedFrom, spent.began + this.#serverWindowMs);
		if (until < spent.until) {
			this.#pausedMs -= spent.until - until;
			const logged = this.#pauseLog.at(-1);
			if (logged?.until === spent.until) {
				this.#pauseLog[this.#pauseLog.length - 1] = {...logged, until: Math.max(logged.from, until)};
			}

			this.#notBefore = until;
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
	 * While bursting: the latest Remaining heard since the last pause, less what we sent after it
	 * and what was still in flight before it, leaves room (with others seen spending the window, one
	 * is left to them). When nothing fresh is known — after a pause, or answers without the header —
	 * one request may go once nothing sent since the pause is in flight: its answer tells.
	 */
	#hasCredit(): boolean {
		const heard = this.#heard;
		if (heard !== undefined && heard.sequence > this.#pausedAfter) {
			// Others seen in the last window may come back: the first request of this one is left to them.
			const reserve = heard.others ? OTHERS_IN_FLIGHT : heard.othersBefore ? OTHERS_RESERVE : 0;
			if (heard.remaining - (this.#history.sequence - heard.sequence) - heard.olderInFlight > reserve) {
				return true;
			}
		}

		for (const sequence of this.#inFlight) {
			if (sequence > this.#pausedAfter) {
				return false;
			}
		}

		return true;
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
		const first = this.#history.answeredBefore(sequence, Math.ceil((burst - 1) / this.#processCount));
		// With others in the window our own oldest request says little of when it began; it began
		// no later than the answer that first showed it.
		return Math.max(first ?? now, othersSince ?? 0);
	}

	/**
	 * The server said how many requests are left; those sent since count against it. At none left,
	 * wait for an answer (or a window) rather than send: jitter can bunch requests into one window.
	 * Only for a short while: a slow answer must not hold back sends for a whole window. At `0` the
	 * spent-window pause has taken over.
	 */
	#outOfCredit(now: number): boolean {
		const heard = this.#heard;
		if (heard === undefined || heard.remaining === 0 || now - heard.at > Math.min(this.#serverWindowMs, Math.max(4 * this.#evenSpacingMs, 250))) {
			return false;
		}

		return heard.remaining - (this.#history.sequence - heard.sequence) <= 0;
	}

	/**
	 * Follows Remaining in send order (answers out of order teach nothing); returns whether requests
	 * not ours were counted since the previous answer: it fell by more than we sent in between.
	 */
	#hear(sequence: number, remaining: number, now: number): boolean {
		const last = this.#heard;
		if (last !== undefined && sequence <= last.sequence) {
			return false;
		}

		let olderInFlight = 0;
		for (const older of this.#inFlight) {
			olderInFlight += older < sequence ? 1 : 0;
		}

		// Bursting, a rise by a quarter of the budget at once is a new window; a smaller one is a
		// rolling window's slots freeing one by one.
		const newWindow = last === undefined || (remaining > last.remaining && !(this.bursting && this.#burst !== undefined && remaining - last.remaining < this.#burst / 4));
		if (newWindow) {
			// A new window began. Were others in it before us? Fewer are left than a fresh window would
			// leave after every request of ours that may be counted in it.
			const ours = sequence - (last?.sequence ?? 0) + olderInFlight + this.#history.sequence - sequence;
			const others = last !== undefined && (this.bursting || this.#crowdedAt !== undefined) && this.#burst !== undefined && remaining + ours < this.#burst;
			this.#othersSure = others;
			if (last === undefined) {
				this.#firstWindowOurs = this.#burst !== undefined && remaining + sequence >= this.#burst;
			}

			this.#heard = last === undefined
				? {sequence, remaining, at: now, olderInFlight, windowFrom: undefined, windowSequence: undefined, others, othersBefore: false}
				: {sequence, remaining, at: now, olderInFlight, windowFrom: now, windowSequence: sequence, others, othersBefore: last.others};
			return others;
		}

		const others = remaining < last.remaining && last.remaining - remaining > sequence - last.sequence;
		// Surely others: more than ours sent in between and ours in flight before it (the server may
		// have counted those after it).
		this.#othersSure = last.remaining - remaining > sequence - last.sequence + last.olderInFlight;
		this.#heard = {...last, sequence, remaining, at: now, olderInFlight, others: last.others || others};
		return others;
	}

	/**
	 * Whether a 429 says the budget is spent (and so teaches a rate): not when the answer itself says
	 * requests remain, nor when an earlier answer left room for this request. Either is a 429 for
	 * another reason, waited out but not learned from.
	 */
	#spentBudget(reply: RateReply, sequence: number): boolean {
		if (reply.remaining !== undefined && reply.remaining > 0) {
			return false;
		}

		const heard = this.#heard;
		return heard === undefined || heard.remaining === 0 || heard.sequence >= sequence || heard.remaining - (sequence - heard.sequence) < 0;
	}

	/**
	 * A 429 while pacing at our rate means the server's rate is lower: `burst` requests per observed
	 * window. `resetAt`: when the window ends at the latest (the Retry-After as given) and most
	 * likely (the server rounds it up to whole seconds).
	 */
	#learnFrom429({sequence, resetAt, now}: {sequence: number; resetAt: {readonly latest: number; readonly likely: number}; now: number}): Decision {
		const current = this.#rate;
		const burst = this.#burst;
		if (burst !== undefined && sequence <= burst) {
			return NOTHING; // Fewer requests than the budget sent so far: the budget was spent by someone else.
		}

		if (burst !== undefined && this.bursting && this.#windowUnconfirmed) {
			// Bursting alone at a rate only told, a window is timed whole: from our first request in it
			// to the latest end the 429 allows. Taken long, it is the server's window or a little more
			// (never a second 429), however far off the told rate was: no step down is needed.
			const began = this.#windowBegan();
			if (began !== undefined) {
				return this.#learned(current, {count: burst, windowMs: Math.max(1, resetAt.latest - began)}, now);
			}
		}

		const windowSequence = this.#heard?.windowSequence;
		const windowBegan = windowSequence === undefined ? undefined : this.#history.sentBefore(windowSequence, 0);
		const first = burst === undefined ? undefined : this.#history.sentBefore(sequence, burst);
		let learned = {count: current.count, windowMs: current.windowMs * 2};
		if (burst !== undefined && (this.bursting || this.#crowdedAt !== undefined) && windowBegan !== undefined) {
			// Bursting, a window is timed whole: from our first request in it to the end the 429 gives;
			// so too when spaced for another client (our requests are not all of it).
			learned = {count: burst, windowMs: Math.max(1, resetAt.likely - windowBegan)};
		} else if (burst !== undefined && first !== undefined) {
			// With a shared budget, our last `burst` sends span the others' too: scale the window back.
			learned = {count: burst, windowMs: Math.max(1, (resetAt.likely - first) / this.#processCount)};
		}

		// Learned from a spacing, a rate far below the one we had is taken a quarter at a time.
		const floor = ratePerMinute(current) / 4;
		return this.#learned(current, ratePerMinute(learned) < floor ? {count: current.count, windowMs: current.windowMs * 4} : learned, now);
	}

	#learned(current: Rate, learned: Rate, now: number): Decision {
		if (ratePerMinute(learned) >= ratePerMinute(current)) {
			return NOTHING;
		}

		this.#recovery ??= {ceiling: current, ceilingSource: this.#source, watch: freshWatch(now)};
		return this.setRate(learned, 'learned');
	}

	/**
	 * When our first request in the current window was sent: the one whose answer showed the window
	 * begun, or for the first window, our first request if the server counted nothing before it.
	 */
	#windowBegan(): number | undefined {
		const heard = this.#heard;
		if (heard?.windowSequence !== undefined) {
			return this.#history.sentBefore(heard.windowSequence, 0);
		}

		return heard !== undefined && this.#firstWindowOurs ? this.#history.span?.first : undefined;
	}

	/**
	 * After learning down, the rate climbs back once the budget is ours alone again (another client
	 * that spent part of it has stopped, say): for two whole windows, no answer showed requests that
	 * were not ours (Remaining fell by exactly as many as we sent between two answers) and at least a
	 * tenth of the budget was always left. The new rate is what we sent in the last window plus the
	 * fewest remaining, less one, never above the rate known before; with the window taken long, each step
	 * falls short of the budget and the steps close in on it. While others still spend the budget the
	 * learned rate stays. Not with a shared budget: there the spacing and the headroom are every process's.
	 */
	#climbBack(remaining: number, othersNow: boolean, now: number): Decision {
		const recovery = this.#recovery;
		const burst = this.#burst;
		// Not while bursting either: a window is learned whole there, others in it or not.
		if (!recovery || burst === undefined || this.#processes !== undefined || this.bursting) {
			return NOTHING;
		}

		const watch = {since: recovery.watch.since, fewest: Math.min(recovery.watch.fewest, remaining), othersSeen: recovery.watch.othersSeen || othersNow};
		recovery.watch = watch;
		// The server's window, taken long rather than short (a rate from a longer window is lower):
		// the time `burst` requests take at the rate before learning or at the rate now, whichever is longer.
		const windowMs = Math.max(recovery.ceiling.windowMs / recovery.ceiling.count, this.#rate.windowMs / this.#rate.count) * burst;
		if (now - watch.since < 2 * windowMs) {
			return NOTHING;
		}

		recovery.watch = freshWatch(now);
		if (watch.othersSeen || watch.fewest < Math.max(2, Math.ceil(burst / 10))) {
			return NOTHING;
		}

		// Ours in the window (counted, or at the pace we were set to, whichever is fewer) plus what
		// remained, less one for counting across the window's edge.
		const ours = Math.min(this.#history.sentSince(now - windowMs), windowMs / this.#evenSpacingMs);
		const freed = {count: ours + watch.fewest - 1, windowMs};
		if (ratePerMinute(freed) >= ratePerMinute(recovery.ceiling)) {
			this.#recovery = undefined;
			return this.setRate(recovery.ceiling, recovery.ceilingSource);
		}

		return ratePerMinute(freed) > ratePerMinute(this.#rate) ? this.setRate(freed, 'learned') : NOTHING;
	}

	/** How long the spent window would have needed waiting, when that is past `--max-wait`: nothing more is sent. */
	get overlongWaitMs(): number | undefined {
		return this.#overlongMs;
	}

	#closeGate({until: asked, reason, now, publish}: {until: number; reason: PauseReason; now: number; publish: boolean}): Decision {
		// No pause is longer than --max-wait: a Retry-After beyond it stops the run (withRetries); any
		// other pause ends there, and what the server says then decides.
		const until = Math.min(asked, now + this.#maxWaitMs);
		if (reason === 'remaining' && asked - now > this.#maxWaitMs) {
			// The spent window opens again past --max-wait: sending at the end of the wait would only
			// take a 429 asking for the rest. The run stops now instead (the pacer throws).
			this.#overlongMs ??= asked - now;
		}

		if (until <= this.#notBefore || until <= now) {
			return NOTHING;
		}

		const from = Math.max(now, this.#notBefore);
		this.#pausedMs += until - from;
		this.#pauses++;
		if (this.#pauseLog.length < PAUSE_LOG_SIZE) {
			this.#pauseLog.push({from, until, reason});
		}

		this.#notBefore = until;
		this.#pausedAfter = this.#history.sequence;
		return {pause: {from, until, reason, publish}};
	}
}

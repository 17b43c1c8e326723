import Bottleneck from 'bottleneck';
import {sleep, StoppedError} from './sleep.js';

/** A rate: `count` requests per `windowMs`. */
export type Rate = {readonly count: number; readonly windowMs: number};

/** Where the current rate came from; only a guessed rate is replaced by the first `X-RateLimit-Limit`. */
export type RateSource = 'told' | 'introspect' | 'default' | 'header' | 'learned';

export type RateReply = {
	readonly limit: number | undefined;
	readonly remaining: number | undefined;
	readonly status: number | undefined;
	readonly retryAfterMs: number | undefined;
};

/** Requests over time (per second) and the pauses, for the report. */
export type RateTimeline = {
	readonly sent: ReadonlyMap<number, number>;
	readonly limited: ReadonlyMap<number, number>;
	readonly pauses: ReadonlyArray<{readonly from: number; readonly until: number; readonly reason: string}>;
};

export type RateStats = {
	readonly requests: number;
	readonly tooManyRequests: number;
	readonly pauses: number;
	readonly pausedMs: number;
	readonly rate: Rate;
	readonly source: RateSource;
};

/** Requests are spaced this much wider than the rate, so arrival jitter never tips a window over. */
const MARGIN = 1.02;
const HISTORY = 4096;

export function ratePerMinute(rate: Rate): number {
	return rate.count * 60_000 / rate.windowMs;
}

/**
 * Paces requests for one token: evenly spaced at the rate (Bottleneck's `minTime`), and a gate —
 * one "not before" time — that a 429's `Retry-After` or `X-RateLimit-Remaining: 0` closes for
 * every request. The gate is checked again inside the scheduled job just before sending, so no
 * request leaves while it is closed. The rate learns down from 429s.
 */
export class RateGovernor {
	#rate: Rate;
	#source: RateSource;
	#limiter: Bottleneck;
	#notBefore = 0;
	/** After a new limiter: not before one spacing after the last request. */
	#spacedFrom = 0;
	#burst: number | undefined;
	readonly #sentAt: number[] = Array.from({length: HISTORY}, () => 0);
	#sequence = 0;
	#requests = 0;
	#tooMany = 0;
	#pauses = 0;
	#pausedMs = 0;
	#jobId = 0;
	readonly #sent = new Map<number, number>();
	readonly #limited = new Map<number, number>();
	readonly #pauseLog: Array<{from: number; until: number; reason: string}> = [];
	readonly #now: () => number;
	readonly #onPause: ((untilMs: number, reason: string) => void) | undefined;

	constructor({rate, source, now = Date.now, onPause}: {rate: Rate; source: RateSource; now?: () => number; onPause?: (untilMs: number, reason: string) => void}) {
		this.#rate = rate;
		this.#source = source;
		this.#now = now;
		this.#onPause = onPause;
		this.#limiter = new Bottleneck({maxConcurrent: null, minTime: this.#spacing()});
	}

	get rate(): Rate {
		return this.#rate;
	}

	get pausedUntil(): number {
		return this.#notBefore;
	}

	timeline(): RateTimeline {
		return {sent: this.#sent, limited: this.#limited, pauses: this.#pauseLog};
	}

	stats(): RateStats {
		return {requests: this.#requests, tooManyRequests: this.#tooMany, pauses: this.#pauses, pausedMs: this.#pausedMs, rate: this.#rate, source: this.#source};
	}

	/** Sets the rate (from `introspect`, say), unless a lower one was told. */
	setRate(rate: Rate, source: RateSource): void {
		if (source !== 'learned' && this.#source === 'told' && ratePerMinute(rate) >= ratePerMinute(this.#rate)) {
			return;
		}

		const faster = ratePerMinute(rate) > ratePerMinute(this.#rate);
		this.#rate = rate;
		this.#source = source;
		if (!faster) {
			this.#limiter.updateSettings({minTime: this.#spacing()});
			return;
		}

		// Bottleneck keeps the next slot it computed at the old pace: start a new limiter (its
		// waiting jobs are handed over by `send`), spaced from the last request sent.
		const old = this.#limiter;
		this.#limiter = new Bottleneck({maxConcurrent: null, minTime: this.#spacing()});
		void old.stop({dropWaitingJobs: true}).catch(() => undefined);
		this.#spacedFrom = (this.#sequence > 0 ? this.#sentAt[this.#sequence % HISTORY] ?? 0 : 0) + this.#spacing();
	}

	/**
	 * Sends through the pacer: waits for the gate, takes the next slot, checks the gate again and
	 * sends. Throws `StoppedError` if `signal` aborts before the request leaves.
	 */
	async send<T>({request, describe, signal}: {request: () => Promise<T>; describe: (reply: T) => RateReply; signal: AbortSignal}): Promise<T> {
		for (;;) {
			await this.#waitForGate(signal);
			const limiter = this.#limiter;
			const sent = await limiter.schedule({id: `r${++this.#jobId}`}, async (): Promise<{reply: T; sequence: number; at: number} | undefined> => {
				if (signal.aborted || this.#now() < this.#nextAllowed()) {
					return undefined;
				}

				const sequence = ++this.#sequence;
				const at = this.#now();
				this.#sentAt[sequence % HISTORY] = at;
				this.#requests++;
				const second = Math.floor(at / 1000);
				this.#sent.set(second, (this.#sent.get(second) ?? 0) + 1);
				return {reply: await request(), sequence, at};
			}).catch((error: unknown) => {
				if (limiter !== this.#limiter) {
					return undefined; // Dropped by a rate change: schedule again on the new limiter.
				}

				throw error;
			});
			if (sent === undefined) {
				if (signal.aborted) {
					throw new StoppedError();
				}

				continue;
			}

			this.#observe(describe(sent.reply), sent.sequence);
			return sent.reply;
		}
	}

	async #waitForGate(signal: AbortSignal): Promise<void> {
		for (let wait = this.#nextAllowed() - this.#now(); wait > 0; wait = this.#nextAllowed() - this.#now()) {
			await sleep(wait, signal);
		}

		if (signal.aborted) {
			throw new StoppedError();
		}
	}

	#nextAllowed(): number {
		return Math.max(this.#notBefore, this.#spacedFrom);
	}

	#spacing(): number {
		return this.#rate.windowMs / this.#rate.count * MARGIN;
	}

	#sentBefore(sequence: number, back: number): number | undefined {
		const earlier = sequence - back;
		return earlier >= 1 && back < HISTORY ? this.#sentAt[earlier % HISTORY] : undefined;
	}

	#closeGate(until: number, reason: string): void {
		if (until <= this.#notBefore) {
			return;
		}

		const now = this.#now();
		this.#pausedMs += until - Math.max(now, this.#notBefore);
		this.#pauses++;
		if (this.#pauseLog.length < 10_000) {
			this.#pauseLog.push({from: Math.max(now, this.#notBefore), until, reason});
		}

		this.#notBefore = until;
		this.#onPause?.(until, reason);
	}

	#observe(reply: RateReply, sequence: number): void {
		const now = this.#now();
		if (reply.limit !== undefined && reply.limit > 0) {
			this.#burst = reply.limit;
			if (this.#source === 'default') {
				// The header is per minute (Webflow's documented meaning): the first answer tells the budget.
				this.setRate({count: reply.limit, windowMs: 60_000}, 'header');
			}
		}

		if (reply.status === 429) {
			this.#tooMany++;
			const second = Math.floor(now / 1000);
			this.#limited.set(second, (this.#limited.get(second) ?? 0) + 1);
			const retryAfter = reply.retryAfterMs ?? this.#rate.windowMs;
			const until = now + retryAfter;
			// Whole seconds are rounded up by the server: the window really ends within the last second.
			this.#learnFrom429(sequence, retryAfter >= 1000 && retryAfter % 1000 === 0 ? until - 500 : until);
			this.#closeGate(until, '429');
			return;
		}

		if (reply.remaining === 0) {
			// The budget is spent: the next slot frees a window after the first request it counted. When
			// that request was not ours (another run used the budget), wait a whole window from now.
			const burst = this.#burst ?? this.#rate.count;
			const serverWindowMs = this.#rate.windowMs * burst / this.#rate.count;
			const first = this.#sentBefore(sequence, burst - 1);
			this.#closeGate((first ?? now) + serverWindowMs, 'remaining');
		}
	}

	/** A 429 while pacing at our rate means the server's rate is lower: `burst` requests per observed window. */
	#learnFrom429(sequence: number, resetAt: number): void {
		const current = this.#rate;
		let learned: Rate;
		const burst = this.#burst;
		if (burst !== undefined && sequence <= burst) {
			return; // Fewer requests than the budget sent so far: the budget was spent by someone else.
		}

		const first = burst === undefined ? undefined : this.#sentBefore(sequence, burst);
		if (burst !== undefined && first !== undefined) {
			learned = {count: burst, windowMs: Math.max(1, resetAt - first)};
		} else {
			learned = {count: current.count, windowMs: current.windowMs * 2};
		}

		const floor = ratePerMinute(current) / 4;
		if (ratePerMinute(learned) < ratePerMinute(current)) {
			this.setRate(ratePerMinute(learned) < floor ? {count: current.count, windowMs: current.windowMs * 4} : learned, 'learned');
		}
	}

	async close(): Promise<void> {
		await this.#limiter.stop({dropWaitingJobs: true}).catch(() => undefined);
	}
}

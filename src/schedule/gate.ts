import {NOTHING, type Decision, type Pause, type PauseReason, type RateTimeline} from './rate-types.js';

/** Pause log entries kept for the report. */
const PAUSE_LOG_SIZE = 10_000;

/**
 * The gate, pure: one "not before" time that every request waits for, closed by a 429's
 * `Retry-After` or a spent window, never longer than `--max-wait`; and what the summary and the
 * report show of it: the pauses it made, and the requests sent and limited per second.
 */
export class Gate {
	/** `--max-wait`: no pause is longer. */
	readonly #maxWaitMs: number;
	#notBefore = 0;
	/** The last request sent before the gate last closed: answers to it or older are from before the pause. */
	#pausedAfter = 0;
	/** Set when a spent window opens again later than `--max-wait` allows to wait: how much later. */
	#overlongMs: number | undefined;
	#pauses = 0;
	#pausedMs = 0;
	readonly #log: Pause[] = [];
	#requests = 0;
	#tooMany = 0;
	readonly #sent = new Map<number, number>();
	readonly #limited = new Map<number, number>();

	constructor(maxWaitMs: number) {
		this.#maxWaitMs = maxWaitMs;
	}

	/** Until when every request waits; 0 before the first pause. */
	get notBefore(): number {
		return this.#notBefore;
	}

	get pausedAfter(): number {
		return this.#pausedAfter;
	}

	/** How long the spent window would have needed waiting, when that is past `--max-wait`: nothing more is sent. */
	get overlongMs(): number | undefined {
		return this.#overlongMs;
	}

	get pauses(): number {
		return this.#pauses;
	}

	get requests(): number {
		return this.#requests;
	}

	get tooManyRequests(): number {
		return this.#tooMany;
	}

	timeline(): RateTimeline {
		return {sent: this.#sent, limited: this.#limited, pauses: this.#log};
	}

	/** A request left at `now`. */
	sent(now: number): void {
		this.#requests++;
		const second = Math.floor(now / 1000);
		this.#sent.set(second, (this.#sent.get(second) ?? 0) + 1);
	}

	/** A 429 came at `now`. */
	limited(now: number): void {
		this.#tooMany++;
		const second = Math.floor(now / 1000);
		this.#limited.set(second, (this.#limited.get(second) ?? 0) + 1);
	}

	/** Time paused up to `now`: a pause still running counts only as far as it was waited. */
	pausedMs(now: number): number {
		// Pauses never overlap and the last ends at the gate: what lies after `now` is not waited yet.
		return this.#pausedMs - Math.max(0, this.#notBefore - now);
	}

	/** Closes the gate until `until` (asked at `now`), after request `lastSent`; nothing when it is already closed as long. */
	close({until: asked, reason, now, publish, lastSent}: {until: number; reason: PauseReason; now: number; publish: boolean; lastSent: number}): Decision {
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
		if (this.#log.length < PAUSE_LOG_SIZE) {
			this.#log.push({from, until, reason});
		}

		this.#notBefore = until;
		this.#pausedAfter = lastSent;
		return {pause: {from, until, reason, publish}};
	}

	/** The pause that ends at `until`, still running, ends at `sooner` instead. */
	shorten(until: number, sooner: number): void {
		if (this.#notBefore !== until || sooner >= until) {
			return;
		}

		this.#pausedMs -= until - sooner;
		const logged = this.#log.at(-1);
		if (logged?.until === until) {
			this.#log[this.#log.length - 1] = {...logged, until: Math.max(logged.from, sooner)};
		}

		this.#notBefore = sooner;
	}
}

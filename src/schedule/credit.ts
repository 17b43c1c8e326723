import type {SendHistory} from './history.js';

/** Requests left unused at the end of a window that others spend too: a 429 would cost more. */
export const OTHERS_RESERVE = 1;
/**
 * Bursting, requests left unused in a window others spend too: what another client (another run,
 * at the default --concurrency) may have in flight that no Remaining showed yet.
 */
export const OTHERS_IN_FLIGHT = 4;

/**
 * The latest `X-RateLimit-Remaining` in send order: when it was heard, when a window was last seen to
 * begin (the answer after which more remained than before), and whether requests not ours were
 * counted since then.
 */
export type Heard = {
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

/** Our requests as the model keeps them: numbered sends with their answers, and those in flight. */
export type Sends = {readonly history: SendHistory; readonly inFlight: ReadonlySet<number>};

/**
 * The burst logic, pure: what the server's Remaining says is left to spend (the credit), and whether
 * another client is seen spending the same window (crowded: then requests are spaced, not burst).
 */
export class Credit {
	readonly #sends: Sends;
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

	constructor(sends: Sends) {
		this.#sends = sends;
	}

	get heard(): Heard | undefined {
		return this.#heard;
	}

	/** Another client is seen spending the window. */
	get crowded(): boolean {
		return this.#crowdedAt !== undefined;
	}

	/** Whether the answer just heard surely showed requests not ours. */
	get othersSure(): boolean {
		return this.#othersSure;
	}

	get firstWindowOurs(): boolean {
		return this.#firstWindowOurs;
	}

	/**
	 * Follows Remaining in send order (answers out of order teach nothing); returns whether requests
	 * not ours were counted since the previous answer: it fell by more than we sent in between.
	 */
	hear({sequence, remaining, now, bursting, burst}: {sequence: number; remaining: number; now: number; bursting: boolean; burst: number | undefined}): boolean {
		this.#othersSure = false;
		const {history, inFlight} = this.#sends;
		const last = this.#heard;
		if (last !== undefined && sequence <= last.sequence) {
			return false;
		}

		let olderInFlight = 0;
		for (const older of inFlight) {
			olderInFlight += older < sequence ? 1 : 0;
		}

		// Bursting, a rise by a quarter of the budget at once is a new window; a smaller one is a
		// rolling window's slots freeing one by one.
		const newWindow = last === undefined || (remaining > last.remaining && !(bursting && burst !== undefined && remaining - last.remaining < burst / 4));
		if (newWindow) {
			// A new window began. Were others in it before us? Fewer are left than a fresh window would
			// leave after every request of ours that may be counted in it.
			const ours = sequence - (last?.sequence ?? 0) + olderInFlight + history.sequence - sequence;
			const others = last !== undefined && (bursting || this.#crowdedAt !== undefined) && burst !== undefined && remaining + ours < burst;
			this.#othersSure = others;
			if (last === undefined) {
				this.#firstWindowOurs = burst !== undefined && remaining + sequence >= burst;
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
	 * Another client seen spending the window: spaced (and the window's last request left to it)
	 * while it is seen, bursting again once a whole window (`windowMs`) passed without it. Two runs
	 * bursting at one budget each send what the other has in flight unseen: 429s.
	 */
	watchCrowd(othersNow: boolean, now: number, windowMs: number): void {
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
		if (now - this.#aloneSince >= windowMs) {
			this.#crowdedAt = undefined;
			this.#aloneSince = undefined;
		}
	}

	/**
	 * While bursting: the latest Remaining heard since the last pause (after request `pausedAfter`),
	 * less what we sent after it and what was still in flight before it, leaves room (with others
	 * seen spending the window, one is left to them). When nothing fresh is known — after a pause, or
	 * answers without the header — one request may go once nothing sent since the pause is in
	 * flight: its answer tells.
	 */
	hasCredit(pausedAfter: number): boolean {
		const {history, inFlight} = this.#sends;
		const heard = this.#heard;
		if (heard !== undefined && heard.sequence > pausedAfter) {
			// Others seen in the last window may come back: the first request of this one is left to them.
			const reserve = heard.others ? OTHERS_IN_FLIGHT : heard.othersBefore ? OTHERS_RESERVE : 0;
			if (heard.remaining - (history.sequence - heard.sequence) - heard.olderInFlight > reserve) {
				return true;
			}
		}

		for (const sequence of inFlight) {
			if (sequence > pausedAfter) {
				return false;
			}
		}

		return true;
	}

	/**
	 * Spaced: the server said how many requests are left; those sent since count against it. At none
	 * left, wait for an answer (or a window) rather than send: jitter can bunch requests into one
	 * window. Only for a short while (`holdMs`): a slow answer must not hold back sends for a whole
	 * window. At `0` the spent-window pause has taken over.
	 */
	outOfCredit(now: number, holdMs: number): boolean {
		const heard = this.#heard;
		if (heard === undefined || heard.remaining === 0 || now - heard.at > holdMs) {
			return false;
		}

		return heard.remaining - (this.#sends.history.sequence - heard.sequence) <= 0;
	}
}

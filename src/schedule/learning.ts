import type {Heard} from './credit.js';
import type {SendHistory} from './history.js';
import {ratePerMinute, type Rate, type RateReply, type RateSource} from './rate-types.js';

/**
 * Whether a 429 says the budget is spent (and so teaches a rate): not when the answer itself says
 * requests remain, nor when an earlier answer (`heard`) left room for this request. Either is a 429
 * for another reason, waited out but not learned from.
 */
export function spentBudget(reply: RateReply, sequence: number, heard: Heard | undefined): boolean {
	if (reply.remaining !== undefined && reply.remaining > 0) {
		return false;
	}

	return heard === undefined || heard.remaining === 0 || heard.sequence >= sequence || heard.remaining - (sequence - heard.sequence) < 0;
}

/** What a 429 that spent the budget is learned from. */
export type Limited = {
	readonly sequence: number;
	/** When the window ends at the latest (the Retry-After as given) and most likely (the server rounds it up to whole seconds). */
	readonly resetAt: {readonly latest: number; readonly likely: number};
	readonly current: Rate;
	/** The server's budget per window (`X-RateLimit-Limit`). */
	readonly burst: number | undefined;
	readonly bursting: boolean;
	/** Another client is seen spending the window. */
	readonly crowded: boolean;
	/** The server's window is only what a told rate implies. */
	readonly windowUnconfirmed: boolean;
	/** When our first request in this window was sent, if known (see `RateModel`). */
	readonly ourWindowBegan: number | undefined;
	/** When the request whose answer showed this window begun was sent. */
	readonly windowBegan: number | undefined;
	/** When the request `burst` before this one was sent. */
	readonly burstAgo: number | undefined;
	/** Processes spending the budget, this one included. */
	readonly processes: number;
};

/**
 * A 429 while pacing at our rate means the server's rate is lower: `burst` requests per observed
 * window. Undefined when fewer requests than the budget were sent so far (someone else spent it).
 */
export function rateFrom429({sequence, resetAt, current, burst, bursting, crowded, windowUnconfirmed, ourWindowBegan, windowBegan, burstAgo, processes}: Limited): Rate | undefined {
	if (burst !== undefined && sequence <= burst) {
		return undefined;
	}

	if (burst !== undefined && bursting && windowUnconfirmed && ourWindowBegan !== undefined) {
		// Bursting alone at a rate only told, a window is timed whole: from our first request in it
		// to the latest end the 429 allows. Taken long, it is the server's window or a little more
		// (never a second 429), however far off the told rate was: no step down is needed.
		return {count: burst, windowMs: Math.max(1, resetAt.latest - ourWindowBegan)};
	}

	let learned = {count: current.count, windowMs: current.windowMs * 2};
	if (burst !== undefined && (bursting || crowded) && windowBegan !== undefined) {
		// Bursting, a window is timed whole: from our first request in it to the end the 429 gives;
		// so too when spaced for another client (our requests are not all of it).
		learned = {count: burst, windowMs: Math.max(1, resetAt.likely - windowBegan)};
	} else if (burst !== undefined && burstAgo !== undefined) {
		// With a shared budget, our last `burst` sends span the others' too: scale the window back.
		learned = {count: burst, windowMs: Math.max(1, (resetAt.likely - burstAgo) / processes)};
	}

	// Learned from a spacing, a rate far below the one we had is taken a quarter at a time.
	const floor = ratePerMinute(current) / 4;
	return ratePerMinute(learned) < floor ? {count: current.count, windowMs: current.windowMs * 4} : learned;
}

/** One stretch of answers watched for headroom after learning down. */
type Watch = {readonly since: number; readonly fewest: number; readonly othersSeen: boolean};

function freshWatch(since: number): Watch {
	return {since, fewest: Number.POSITIVE_INFINITY, othersSeen: false};
}

/**
 * The learning, pure: a rate learned down from 429s, and taken back up once the budget is ours
 * alone again. The model asks; this says which rate to set.
 */
export class Learning {
	/** After learning a lower rate: the rate before, and what is watched to take the rate back up. */
	#recovery: {readonly ceiling: Rate; readonly ceilingSource: RateSource; watch: Watch} | undefined;

	/** Whether `learned` is lower than `current` (from `source`), to be set; the first time, `current` is the ceiling to climb back to. */
	lower({current, source, learned, now}: {current: Rate; source: RateSource; learned: Rate; now: number}): boolean {
		if (ratePerMinute(learned) >= ratePerMinute(current)) {
			return false;
		}

		this.#recovery ??= {ceiling: current, ceilingSource: source, watch: freshWatch(now)};
		return true;
	}

	/** Headroom is watched from when sending resumes (`from`): a pause would look like budget to spare. */
	paused(from: number): void {
		if (this.#recovery) {
			this.#recovery.watch = freshWatch(from);
		}
	}

	/**
	 * After learning down, the rate climbs back once the budget is ours alone again (another client
	 * that spent part of it has stopped, say): for two whole windows, no answer showed requests that
	 * were not ours (Remaining fell by exactly as many as we sent between two answers) and at least a
	 * tenth of the budget was always left. The new rate is what we sent in the last window plus the
	 * fewest remaining, less one, never above the rate known before; with the window taken long, each step
	 * falls short of the budget and the steps close in on it. While others still spend the budget the
	 * learned rate stays. Not with a shared budget (`watched` false): there the spacing and the
	 * headroom are every process's; nor while bursting: a window is learned whole there.
	 */
	climbBack({remaining, othersNow, now, burst, rate, evenSpacingMs, history, watched}: {remaining: number; othersNow: boolean; now: number; burst: number | undefined; rate: Rate; evenSpacingMs: number; history: SendHistory; watched: boolean}): {rate: Rate; source: RateSource} | undefined {
		const recovery = this.#recovery;
		if (!recovery || burst === undefined || !watched) {
			return undefined;
		}

		const watch = {since: recovery.watch.since, fewest: Math.min(recovery.watch.fewest, remaining), othersSeen: recovery.watch.othersSeen || othersNow};
		recovery.watch = watch;
		// The server's window, taken long rather than short (a rate from a longer window is lower):
		// the time `burst` requests take at the rate before learning or at the rate now, whichever is longer.
		const windowMs = Math.max(recovery.ceiling.windowMs / recovery.ceiling.count, rate.windowMs / rate.count) * burst;
		if (now - watch.since < 2 * windowMs) {
			return undefined;
		}

		recovery.watch = freshWatch(now);
		if (watch.othersSeen || watch.fewest < Math.max(2, Math.ceil(burst / 10))) {
			return undefined;
		}

		// Ours in the window (counted, or at the pace we were set to, whichever is fewer) plus what
		// remained, less one for counting across the window's edge.
		const ours = Math.min(history.sentSince(now - windowMs), windowMs / evenSpacingMs);
		const freed = {count: ours + watch.fewest - 1, windowMs};
		if (ratePerMinute(freed) >= ratePerMinute(recovery.ceiling)) {
			this.#recovery = undefined;
			return {rate: recovery.ceiling, source: recovery.ceilingSource};
		}

		return ratePerMinute(freed) > ratePerMinute(rate) ? {rate: freed, source: 'learned'} : undefined;
	}
}

/** A rate limit: at most `count` requests in each `windowMs`. */
export type SandboxRate = {readonly count: number; readonly windowMs: number};

/** `fixed`: windows back to back from a token's first request; `sliding`: any `windowMs` span. */
export type WindowKind = 'fixed' | 'sliding';

/** What one request did to its token's budget: what is left, or how long until there is room. */
export type Spend = {readonly remaining: number; readonly retryAfterMs: number | undefined};

/** The `Retry-After` (whole seconds, at least 1) that tells a client to wait `ms`. */
export function retryAfterSeconds(ms: number): number {
	return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Each token's budget, counted as Webflow describes its limit: so many requests per window, any
 * beyond refused until the window has room again. Time comes in as `now` (ms since the epoch), so
 * the counting holds no clock.
 */
export class Budgets {
	readonly #window: WindowKind;
	readonly #fixed = new Map<string, {windowStart: number; used: number}>();
	readonly #sliding = new Map<string, number[]>();

	constructor(window: WindowKind) {
		this.#window = window;
	}

	/** Counts one request of `key` at `now` against `rate`; a refused request is not counted. */
	spend(key: string, rate: SandboxRate, now: number): Spend {
		return this.#window === 'fixed' ? this.#spendFixed(key, rate, now) : this.#spendSliding(key, rate, now);
	}

	#spendFixed(key: string, rate: SandboxRate, now: number): Spend {
		let budget = this.#fixed.get(key);
		if (!budget) {
			budget = {windowStart: now, used: 0};
			this.#fixed.set(key, budget);
		}

		if (now - budget.windowStart >= rate.windowMs) {
			budget.windowStart = now - ((now - budget.windowStart) % rate.windowMs);
			budget.used = 0;
		}

		if (budget.used >= rate.count) {
			return {remaining: 0, retryAfterMs: budget.windowStart + rate.windowMs - now};
		}

		budget.used++;
		return {remaining: rate.count - budget.used, retryAfterMs: undefined};
	}

	#spendSliding(key: string, rate: SandboxRate, now: number): Spend {
		let sent = this.#sliding.get(key);
		if (!sent) {
			sent = [];
			this.#sliding.set(key, sent);
		}

		while ((sent[0] ?? Number.POSITIVE_INFINITY) <= now - rate.windowMs) {
			sent.shift();
		}

		if (sent.length >= rate.count) {
			return {remaining: 0, retryAfterMs: (sent[0] ?? now) + rate.windowMs - now};
		}

		sent.push(now);
		return {remaining: rate.count - sent.length, retryAfterMs: undefined};
	}
}

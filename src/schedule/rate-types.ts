/** The rate model's words: rates, what an answer says, pauses, decisions (shared by its parts and its readers). */

/** A rate: `count` requests per `windowMs`. */
export type Rate = {readonly count: number; readonly windowMs: number};

/** When neither `--rate`, introspect nor an answer's `X-RateLimit-Limit` tells one: Webflow's Starter plan, 60 a minute. */
export const DEFAULT_RATE: Rate = {count: 60, windowMs: 60_000};

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

export const NOTHING: Decision = {};

/** `X-RateLimit-Limit` is per minute (Webflow's documented meaning): no budget window is longer. */
export const LONGEST_WINDOW_MS = 60_000;

export function ratePerMinute(rate: Rate): number {
	return rate.count * 60_000 / rate.windowMs;
}

/** Two decisions as one: the later pause, the later rate (faster if either was). */
export function merge(a: Decision, b: Decision): Decision {
	const rate = b.rate && a.rate ? {rate: b.rate.rate, faster: a.rate.faster || b.rate.faster} : b.rate ?? a.rate;
	return {...(b.pause ?? a.pause ? {pause: b.pause ?? a.pause} : {}), ...(rate ? {rate} : {})};
}

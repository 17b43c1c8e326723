import {setMaxListeners} from 'node:events';
import type {Logger} from '../logger.js';
import type {Outcome, StopCode} from '../rows/result.js';
import {Reachability, withRetries, type Attempted, type RetryPolicy} from '../schedule/attempts.js';
import {Pacer, type RateStats} from '../schedule/pacer.js';
import {ratePerMinute, type Rate, type RateTimeline} from '../schedule/rate.js';
import {DEFAULT_RATE} from '../schedule/rate-types.js';
import {budgetKey} from '../schedule/shared-budget.js';
import {readIntrospection, WebflowClient, type ApiReply} from '../webflow/client.js';

/** Every waiting row listens to the stop signal: more than Node's default of 10 is expected. */
function withoutListenerLimit(controller: AbortController): AbortController {
	setMaxListeners(0, controller.signal);
	return controller;
}

/**
 * A signal of its own that follows `signal` and takes any number of listeners: every session (one
 * per token) follows the interrupt, and every request in flight the abort, far more than Node's
 * default of 10 with many sites, and no leak.
 */
export function followedByMany(signal: AbortSignal): AbortSignal {
	const own = AbortSignal.any([signal]);
	setMaxListeners(0, own);
	return own;
}

/** `locale`: an export's `--locale` that no site has (not the token's fault: no `auth`). `ledger`: the ledger could not be written, so nothing more may be sent. */
export type StopReason = 'auth' | 'unreachable' | 'max_wait' | 'interrupted' | 'locale' | 'ledger';

export type Stop = {readonly reason: StopReason; readonly rowCode: StopCode; readonly message: string};

/** A stop as a summary shows it: why and what, without the row code. */
export type RunStopped = {readonly reason: StopReason; readonly message: string};

export function publicStop(stop: RunStopped | undefined): RunStopped | undefined {
	return stop ? {reason: stop.reason, message: stop.message} : undefined;
}

/** The one decision to stop the run, and the signal every wait listens to. */
export class RunStop {
	readonly #controller = withoutListenerLimit(new AbortController());
	#stop: Stop | undefined;

	get signal(): AbortSignal {
		return this.#controller.signal;
	}

	get current(): Stop | undefined {
		return this.#stop;
	}

	trigger(stop: Stop): void {
		if (this.#stop === undefined) {
			this.#stop = stop;
			this.#controller.abort();
		}
	}

	/** Ctrl-C (the `interrupt` signal) stops this too; returns the function that stops listening. */
	followInterrupt(interrupt: AbortSignal | undefined): () => void {
		const onInterrupt = () => {
			this.trigger({reason: 'interrupted', rowCode: 'interrupted', message: 'the run was interrupted before this row was done'});
		};

		if (interrupt?.aborted) {
			onInterrupt();
		}

		interrupt?.addEventListener('abort', onInterrupt, {once: true});
		return () => {
			interrupt?.removeEventListener('abort', onInterrupt);
		};
	}
}

function authMessage(reply: {status: number; code: string; message: string}, origin: string | undefined): string {
	if (reply.status === 401) {
		return `the token was refused (401 ${reply.code}): it is invalid, expired or revoked; check ${origin ?? 'WEBFLOW_TOKEN or --token-file'}`;
	}

	if (reply.code === 'missing_scopes' || /scope/i.test(reply.message)) {
		return `the token lacks a scope this needs (403 ${reply.code}: ${reply.message}); give it assets:write`;
	}

	return `the token has no access to this asset or site (403 ${reply.code}: ${reply.message})`;
}

/**
 * Whether a call's end stops every row of its token: a refused token (401, 403), or a pause longer
 * than --max-wait. Pure: `Session.heed` applies it.
 */
export function stopFor(attempted: Attempted, maxWaitMs: number, tokenOrigin?: string): Stop | undefined {
	switch (attempted.kind) {
		case 'auth': {
			return {reason: 'auth', rowCode: 'aborted', message: authMessage(attempted.reply, tokenOrigin)};
		}

		case 'too_long': {
			return {reason: 'max_wait', rowCode: 'rate_limited', message: tooLongMessage(attempted, maxWaitMs)};
		}

		default: {
			return undefined;
		}
	}
}

function tooLongMessage(attempted: Extract<Attempted, {kind: 'too_long'}>, maxWaitMs: number): string {
	const seconds = Math.round(attempted.waitMs / 1000);
	const limit = `longer than --max-wait (${Math.round(maxWaitMs / 1000)} s)`;
	// Without a reply the wait was seen coming: the spent window opens too late, so nothing was sent into it.
	return attempted.reply ? `the API asked to wait ${seconds} s (Retry-After), ${limit}` : `the rate budget's window is spent and opens again in ${seconds} s, ${limit}; nothing was sent into it`;
}

/** What a row's request (with retries) means for its result, `stopped` saying the run's stop (`current`). Pure: it stops nothing. */
export function outcomeOf(attempted: Attempted, current: Stop | undefined, maxWaitMs: number): Outcome {
	const {reply, attempts} = attempted;
	switch (attempted.kind) {
		case 'ok': {
			return {status: 'updated', httpStatus: attempted.reply.status, attempts};
		}

		case 'auth': {
			return {status: 'failed', httpStatus: attempted.reply.status, errorCode: attempted.reply.code, errorMessage: attempted.reply.message, attempts};
		}

		case 'too_long': {
			return {status: 'not_attempted', httpStatus: attempted.reply?.status, errorCode: 'rate_limited', errorMessage: tooLongMessage(attempted, maxWaitMs), attempts};
		}

		case 'stopped': {
			const stop = current ?? {rowCode: 'interrupted', message: 'stopped'};
			return {status: 'not_attempted', errorCode: stop.rowCode, errorMessage: stop.message, attempts};
		}

		case 'failed': {
			if (reply?.kind === 'error') {
				const code = reply.status === 429 ? 'rate_limited' : reply.code;
				return {status: 'failed', httpStatus: reply.status, errorCode: code, errorMessage: reply.message, attempts};
			}

			if (reply?.kind === 'transport') {
				const code = reply.code === 'bad_body' ? 'bad_response' : reply.code;
				return {status: 'failed', httpStatus: reply.status, errorCode: code, errorMessage: reply.message, attempts};
			}

			return {status: 'failed', errorCode: 'internal_error', errorMessage: 'no answer recorded', attempts};
		}
	}
}

/** How to reach the API with one token, at what pace, with what retries. */
export type ConnectionConfig = {
	readonly apiBase: string;
	readonly token: string | undefined;
	readonly rate: Rate | undefined;
	readonly concurrency: number;
	readonly timeoutMs: number;
	readonly maxAttempts: number;
	readonly backoffBaseMs: number;
	readonly maxWaitMs: number;
};

export type SessionOptions = ConnectionConfig & {
	readonly token: string;
	readonly logger: Logger;
	readonly now: () => number;
	readonly interrupt?: AbortSignal | undefined;
	readonly abort?: AbortSignal | undefined;
	/** `--redis`: share this token's budget and pauses with every process using it. */
	readonly redis?: string | undefined;
	/** Where the token came from, for a refused token's message (a `--tokens` file's line); else WEBFLOW_TOKEN or --token-file. */
	readonly tokenOrigin?: string | undefined;
};

/** One token's connection to the API: its client, its pace, its retries and the run's stop. */
export class Session {
	readonly client: WebflowClient;
	readonly governor: Pacer;
	readonly stop = new RunStop();
	readonly policy: RetryPolicy;
	readonly #reachability: Reachability;
	readonly #options: SessionOptions;
	readonly #unfollowInterrupt: () => void;

	constructor(options: SessionOptions) {
		this.#options = options;
		const {logger, now} = options;
		this.client = new WebflowClient({apiBase: options.apiBase, token: options.token, timeoutMs: options.timeoutMs, concurrency: options.concurrency});
		this.governor = new Pacer({
			rate: options.rate ?? DEFAULT_RATE,
			source: options.rate ? 'told' : 'default',
			maxWaitMs: options.maxWaitMs,
			now,
			logger,
			onPause(until, reason) {
				logger.info({seconds: Math.round((until - now()) / 100) / 10, reason}, reason === '429' ? 'rate limit hit: every request paused' : 'rate budget spent: waiting for it to refill');
			},
		});
		this.policy = {maxAttempts: options.maxAttempts, backoffBaseMs: options.backoffBaseMs, backoffMaxMs: 30_000, maxWaitMs: options.maxWaitMs};
		this.#reachability = new Reachability({
			threshold: Math.max(8, 2 * options.concurrency),
			onUnreachable: () => {
				this.stop.trigger({reason: 'unreachable', rowCode: 'network_error', message: `the API at ${options.apiBase} is unreachable: every request failed on the network`});
			},
		});
		this.#unfollowInterrupt = this.stop.followInterrupt(options.interrupt);
	}

	/** With `--redis`: joins the token's shared budget (or says why it carries on alone). */
	async connectShared(): Promise<void> {
		this.#joining ??= this.#join();
		return this.#joining;
	}

	#joining: Promise<void> | undefined;

	async #join(): Promise<void> {
		const {redis, logger, token} = this.#options;
		if (redis === undefined) {
			return;
		}

		await this.governor.share({
			url: redis,
			key: budgetKey(token),
			onChange(mode) {
				if (mode.kind === 'shared') {
					logger.info('rate budget shared through Redis');
				} else if (mode.kind === 'fallback') {
					const what = mode.reason.startsWith('Redis unreachable at start') ? 'Redis could not be reached' : 'Redis is gone';
					logger.warn({share: mode.share, reason: mode.reason}, `${what}: carrying on with a local budget (${Math.round(mode.share * 100)}% of the rate)`);
				}
			},
		});
	}

	/** The signal that cancels requests in flight (a second Ctrl-C). */
	get abort(): AbortSignal | undefined {
		return this.#options.abort;
	}

	/** One call with its pacing and retries; `maxAttempts` narrows the policy for this call. */
	async request(send: () => Promise<ApiReply>, maxAttempts?: number): Promise<Attempted> {
		const policy = maxAttempts === undefined ? this.policy : {...this.policy, maxAttempts: Math.min(maxAttempts, this.policy.maxAttempts)};
		return withRetries({send, governor: this.governor, policy, reachability: this.#reachability, stop: this.stop.signal});
	}

	/** What this token's pacer saw: requests, 429s, pauses, the rate it paces to and where from, how the budget is kept. */
	stats(): RateStats {
		return this.governor.stats();
	}

	/** Requests sent and limited per second, and the pauses, for the report. */
	timeline(): RateTimeline {
		return this.governor.timeline();
	}

	/** Until when every request of this token waits (0 or past when none does). */
	get pausedUntil(): number {
		return this.governor.pausedUntil;
	}

	/** Stops every row of this token where a call's end calls for it (a refused token, a pause beyond --max-wait). */
	heed(attempted: Attempted): void {
		const stop = stopFor(attempted, this.#options.maxWaitMs, this.#options.tokenOrigin);
		if (stop) {
			this.stop.trigger(stop);
		}
	}

	/** A call's end as a row's outcome (answers only: `heed` is what stops). */
	outcome(attempted: Attempted): Outcome {
		return outcomeOf(attempted, this.stop.current, this.#options.maxWaitMs);
	}

	async close(): Promise<void> {
		this.#unfollowInterrupt();
		await this.governor.close();
	}
}

/** What introspect told about a token: whether it vouched for it, and the sites it may touch (when said). */
export type TokenFacts = {
	readonly vouched: boolean;
	readonly siteIds: readonly string[] | undefined;
	/** The token's scopes, when introspect said them. */
	readonly scopes?: readonly string[] | undefined;
	/** Introspect's requests, told only to the session's first caller (so a token's sites count them once). */
	readonly requests: number;
};

const learned = new WeakMap<Session, Promise<TokenFacts>>();

/**
 * Asks `introspect` for the token's budget and scopes before the first PATCH, once per session
 * however many sites share the token. A token for which introspect is refused still works: the
 * first PATCH's `X-RateLimit-Limit` tells the budget then. A missing scope stops the session (every
 * site of the token); whether each site is reachable is the caller's to check (`siteRefusal`).
 */
export async function learnBudget({session, scope, logger}: {session: Session; scope: string | undefined; logger: Logger}): Promise<TokenFacts> {
	const known = learned.get(session);
	if (known) {
		return {...await known, requests: 0}; // Counted once: by the token's first caller.
	}

	const facts = introspect({session, scope, logger});
	learned.set(session, facts);
	return facts;
}

async function introspect({session, scope, logger}: {session: Session; scope: string | undefined; logger: Logger}): Promise<TokenFacts> {
	const {governor, stop} = session;
	const attempted = await session.request(() => session.client.introspect(session.abort), 2);
	if (attempted.kind === 'too_long') {
		session.heed(attempted);
		return {vouched: false, siteIds: undefined, requests: attempted.attempts};
	}

	if (attempted.kind !== 'ok') {
		logger.info({status: attempted.reply?.kind === 'error' ? attempted.reply.status : undefined}, 'introspect refused: the rate comes from --rate or the first answer');
		return {vouched: false, siteIds: undefined, requests: attempted.attempts};
	}

	const info = readIntrospection(attempted.reply.body);
	if (info.rateLimit !== undefined) {
		governor.setRate({count: info.rateLimit, windowMs: 60_000}, 'introspect');
	}

	logger.info({rateLimitPerMinute: info.rateLimit, pacedPerMinute: ratePerMinute(governor.rate)}, 'token introspected');
	if (scope !== undefined && info.scopes !== undefined && !info.scopes.includes(scope)) {
		stop.trigger({reason: 'auth', rowCode: 'aborted', message: `the token is missing the ${scope} scope (it has: ${info.scopes.join(', ') || 'none'})`});
	}

	return {vouched: true, siteIds: info.siteIds, scopes: info.scopes, requests: attempted.attempts};
}

/** Why the token cannot reach the site, when introspect said so; undefined when it can (or nothing was said). */
export function siteRefusal(facts: TokenFacts, site: string): string | undefined {
	return facts.siteIds !== undefined && !facts.siteIds.includes(site) ? `the token has no access to site ${site} (it is authorized for: ${facts.siteIds.join(', ') || 'none'})` : undefined;
}

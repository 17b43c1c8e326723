import type {ApiReply} from '../engine/reply.js';
import type {Pacer} from './pacer.js';
import type {RateReply} from './rate.js';
import {sleep, StoppedError, WaitTooLongError} from './sleep.js';

export type RetryPolicy = {
	/** Tries per row for retryable failures (5xx, network, timeouts, unreadable bodies). */
	readonly maxAttempts: number;
	/** First backoff; doubles each try, with jitter. */
	readonly backoffBaseMs: number;
	readonly backoffMaxMs: number;
	/** A `Retry-After` longer than this stops the run. */
	readonly maxWaitMs: number;
};

/** How one request (with its retries) ended. */
export type Attempted =
	| {readonly kind: 'ok'; readonly reply: ApiReply & {kind: 'ok'}; readonly attempts: number}
	| {readonly kind: 'failed'; readonly reply: ApiReply; readonly attempts: number}
	| {readonly kind: 'auth'; readonly reply: ApiReply & {kind: 'error'}; readonly attempts: number}
	/** `reply`: the 429 whose Retry-After was too long; none when the spent window was seen to open too late, before sending. */
	| {readonly kind: 'too_long'; readonly reply: (ApiReply & {kind: 'error'}) | undefined; readonly waitMs: number; readonly attempts: number}
	| {readonly kind: 'stopped'; readonly reply: ApiReply | undefined; readonly attempts: number};

/** Watches for an API that answers nothing at all, across every row. */
export class Reachability {
	#consecutive = 0;
	readonly #threshold: number;
	readonly #onUnreachable: () => void;

	constructor({threshold, onUnreachable}: {threshold: number; onUnreachable: () => void}) {
		this.#threshold = threshold;
		this.#onUnreachable = onUnreachable;
	}

	observe(reply: ApiReply): void {
		if (reply.kind === 'transport' && (reply.code === 'network_error' || reply.code === 'timeout')) {
			if (++this.#consecutive === this.#threshold) {
				this.#onUnreachable();
			}
		} else if (reply.kind !== 'transport' || reply.code === 'bad_body') {
			this.#consecutive = 0;
		}
	}
}

const MAX_RATE_LIMITED_TRIES = 50;

function isRetryable(reply: ApiReply): boolean {
	if (reply.kind === 'transport') {
		return reply.code !== 'aborted';
	}

	return reply.kind === 'error' && reply.status >= 500;
}

function describeReply(reply: ApiReply): RateReply {
	return {
		limit: reply.rate?.limit,
		remaining: reply.rate?.remaining,
		status: reply.kind === 'transport' ? undefined : reply.status,
		retryAfterMs: reply.kind === 'error' ? reply.retryAfterMs : undefined,
	};
}

export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
	const full = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
	return full / 2 + random() * full / 2;
}

/**
 * One request with its retries: paced by the governor, retried with backoff on 5xx and transport
 * failures, waited out on 429 (not counted as an attempt). Stops cleanly when `stop` aborts.
 */
export async function withRetries({send, governor, policy, reachability, stop}: {
	send: () => Promise<ApiReply>;
	governor: Pacer;
	policy: RetryPolicy;
	reachability: Reachability;
	stop: AbortSignal;
}): Promise<Attempted> {
	let attempts = 0;
	let rateLimited = 0;
	let last: ApiReply | undefined;
	try {
		for (;;) {
			attempts++;
			const reply = await governor.send({request: send, describe: describeReply, signal: stop});
			last = reply;
			reachability.observe(reply);
			if (reply.kind === 'ok') {
				return {kind: 'ok', reply, attempts};
			}

			if (reply.kind === 'error' && reply.status === 429) {
				attempts--;
				if ((reply.retryAfterMs ?? 0) > policy.maxWaitMs) {
					return {kind: 'too_long', reply, waitMs: reply.retryAfterMs ?? 0, attempts};
				}

				if (++rateLimited >= MAX_RATE_LIMITED_TRIES) {
					return {kind: 'failed', reply, attempts};
				}

				continue;
			}

			if (reply.kind === 'error' && (reply.status === 401 || reply.status === 403)) {
				return {kind: 'auth', reply, attempts};
			}

			if (reply.kind === 'transport' && reply.code === 'aborted') {
				return {kind: 'stopped', reply, attempts};
			}

			if (!isRetryable(reply) || attempts >= policy.maxAttempts) {
				return {kind: 'failed', reply, attempts};
			}

			if (stop.aborted) {
				return {kind: 'stopped', reply, attempts};
			}

			await sleep(backoffMs(policy, attempts), stop);
		}
	} catch (error) {
		if (error instanceof StoppedError) {
			return {kind: 'stopped', reply: last, attempts: Math.max(0, attempts - 1)};
		}

		if (error instanceof WaitTooLongError) {
			return {kind: 'too_long', reply: undefined, waitMs: error.waitMs, attempts: Math.max(0, attempts - 1)};
		}

		throw error;
	}
}

import {afterEach, describe, expect, it} from 'vitest';
import {apiCode} from '../../src/errors.js';
import {silentLogger} from '../../src/logger.js';
import type {ApiReply} from '../../src/engine/reply.js';
import {backoffMs, Reachability, withRetries, type RetryPolicy} from '../../src/schedule/attempts.js';
import {Pacer} from '../../src/schedule/pacer.js';

const RATE = {limit: undefined, remaining: undefined};
const ok: ApiReply = {kind: 'ok', status: 200, body: {}, rate: RATE};
const error = (status: number, retryAfterMs?: number): ApiReply => ({kind: 'error', status, code: apiCode(`http_${status}`), message: `HTTP ${status}`, retryAfterMs, rate: RATE});
const transport = (code: 'timeout' | 'network_error' | 'bad_body' | 'aborted'): ApiReply => ({kind: 'transport', code, message: code, status: undefined, rate: undefined});
const policy: RetryPolicy = {maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 2, maxWaitMs: 60_000};

const pacers: Pacer[] = [];
afterEach(async () => {
	await Promise.all(pacers.splice(0).map(pacer => pacer.close()));
});

/** One request through its retries, the API answering `replies` in turn (the last one again after that). */
async function attempt(replies: ApiReply[], {stop = new AbortController().signal, reachability = new Reachability({threshold: 100, onUnreachable() {}})}: {stop?: AbortSignal; reachability?: Reachability} = {}) {
	const governor = new Pacer({rate: {count: 1000, windowMs: 1000}, source: 'told', maxWaitMs: policy.maxWaitMs, logger: silentLogger()});
	pacers.push(governor);
	let sent = 0;
	const attempted = await withRetries({send: async () => replies[Math.min(sent++, replies.length - 1)] ?? ok, governor, policy, reachability, stop});
	return {attempted, sent};
}

describe('one request with its retries', () => {
	it('ends at the first answer that is fine', async () => {
		expect(await attempt([ok])).toEqual({attempted: {kind: 'ok', reply: ok, attempts: 1}, sent: 1});
	});

	it('retries a 5xx and a network failure, counting each try', async () => {
		expect(await attempt([error(500), transport('network_error'), ok])).toMatchObject({attempted: {kind: 'ok', attempts: 3}, sent: 3});
	});

	it('gives up after the policy\'s tries with the last answer', async () => {
		expect(await attempt([error(502)])).toMatchObject({attempted: {kind: 'failed', reply: {status: 502}, attempts: 3}, sent: 3});
	});

	it('does not retry a 4xx: it is the row\'s answer', async () => {
		expect(await attempt([error(400), ok])).toMatchObject({attempted: {kind: 'failed', attempts: 1}, sent: 1});
	});

	it('says auth on a 401 or a 403, at once', async () => {
		expect(await attempt([error(401)])).toMatchObject({attempted: {kind: 'auth', attempts: 1}, sent: 1});
		expect(await attempt([error(403)])).toMatchObject({attempted: {kind: 'auth', attempts: 1}, sent: 1});
	});

	it('waits out a 429 without counting it as a try', async () => {
		expect(await attempt([error(429, 1), ok])).toMatchObject({attempted: {kind: 'ok', attempts: 1}, sent: 2});
	});

	it('says too_long for a 429 whose Retry-After is past --max-wait', async () => {
		expect(await attempt([error(429, policy.maxWaitMs + 1)])).toMatchObject({attempted: {kind: 'too_long', attempts: 0}, sent: 1});
	});

	it('says stopped when the request was cancelled, or when the run stops before a retry', async () => {
		expect(await attempt([transport('aborted')])).toMatchObject({attempted: {kind: 'stopped', attempts: 1}});
		const stop = new AbortController();
		stop.abort();
		expect(await attempt([error(500)], {stop: stop.signal})).toMatchObject({attempted: {kind: 'stopped'}});
	});
});

describe('an API that answers nothing at all', () => {
	it('is called unreachable once, after that many network failures or timeouts in a row', () => {
		let calls = 0;
		const reachability = new Reachability({threshold: 3, onUnreachable() {
			calls++;
		}});
		for (const reply of [transport('network_error'), transport('timeout'), transport('network_error'), transport('network_error')]) {
			reachability.observe(reply);
		}

		expect(calls).toBe(1);
	});

	it('counts again from nothing after any answer, even an unreadable one', () => {
		let calls = 0;
		const reachability = new Reachability({threshold: 2, onUnreachable() {
			calls++;
		}});
		for (const reply of [transport('network_error'), error(500), transport('timeout'), transport('bad_body'), transport('timeout'), ok]) {
			reachability.observe(reply);
		}

		expect(calls).toBe(0);
	});
});

describe('the backoff between tries', () => {
	it('doubles from the base, with jitter in the upper half, up to the cap', () => {
		const backoff = {...policy, backoffBaseMs: 100, backoffMaxMs: 1000};
		expect(backoffMs(backoff, 1, () => 0)).toBe(50);
		expect(backoffMs(backoff, 1, () => 1)).toBe(100);
		expect(backoffMs(backoff, 3, () => 1)).toBe(400);
		expect(backoffMs(backoff, 10, () => 1)).toBe(1000);
	});
});

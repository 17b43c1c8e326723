import {afterEach, describe, expect, it} from 'vitest';
import {apiCode} from '../../src/errors.js';
import {silentLogger} from '../../src/logger.js';
import type {ApiReply} from '../../src/engine/reply.js';
import {Pacer} from '../../src/schedule/pacer.js';
import type {RateReply} from '../../src/schedule/rate.js';

const RATE = {limit: undefined, remaining: undefined};
const ok: ApiReply = {kind: 'ok', status: 200, body: {}, rate: RATE};
const tooMany = (retryAfterMs: number): ApiReply => ({kind: 'error', status: 429, code: apiCode('too_many_requests'), message: 'Too Many Requests', retryAfterMs, rate: RATE});

const describeReply = (reply: ApiReply): RateReply => ({
	limit: reply.rate?.limit,
	remaining: reply.rate?.remaining,
	status: reply.kind === 'transport' ? undefined : reply.status,
	retryAfterMs: reply.kind === 'error' ? reply.retryAfterMs : undefined,
});

const pacers: Pacer[] = [];
afterEach(async () => {
	await Promise.all(pacers.splice(0).map(pacer => pacer.close()));
});

describe('the pacer and a Retry-After', () => {
	it('sends nothing while a Retry-After runs, not even requests already waiting for their slot (exact: no grace)', async () => {
		// Told 20/s: requests are spaced 50 ms apart, so when the first answer (a 429) comes the others wait for their slots.
		const pacer = new Pacer({rate: {count: 20, windowMs: 1000}, source: 'told', maxWaitMs: 60_000, logger: silentLogger()});
		pacers.push(pacer);
		const retryAfterMs = 600;
		const sends: Array<{at: number; after429: boolean}> = [];
		let answered429: number | undefined;
		const signal = new AbortController().signal;
		await Promise.all(Array.from({length: 8}, async (_, i) => pacer.send({
			signal,
			describe: describeReply,
			async request() {
				sends.push({at: Date.now(), after429: answered429 !== undefined});
				if (i === 0 && answered429 === undefined) {
					// The pacer reads this answer after this moment, so its pause ends no earlier than this + Retry-After.
					answered429 = Date.now();
					return tooMany(retryAfterMs);
				}

				return ok;
			},
		})));
		const after = sends.filter(send => send.after429);
		expect(after).toHaveLength(7);
		expect(after.filter(send => send.at < answered429! + retryAfterMs)).toEqual([]);
	});
});

describe('the pacer while bursting', () => {
	it('sends a burst at once: no slot of the limiter between requests when there is no spacing to keep', async () => {
		// The sandbox's budget is large: once the first answer says so, the model bursts (spacing 0).
		const pacer = new Pacer({rate: {count: 100_000, windowMs: 1000}, source: 'introspect', maxWaitMs: 60_000, logger: silentLogger()});
		pacers.push(pacer);
		const signal = new AbortController().signal;
		const roomy: ApiReply = {kind: 'ok', status: 200, body: {}, rate: {limit: 100_000, remaining: 99_000}};
		await pacer.send({signal, describe: describeReply, request: async () => roomy});
		let started = 0;
		const held: Array<() => void> = [];
		const sends = Array.from({length: 16}, async () => pacer.send({
			signal,
			describe: describeReply,
			async request() {
				started++;
				await new Promise<void>(resolve => {
					held.push(resolve);
				});
				return roomy;
			},
		}));
		// Bottleneck gave one slot every 2–3 ms even at minTime 0: after 10 ms, a handful had started.
		await new Promise(resolve => setTimeout(resolve, 10));
		expect(started).toBe(16);
		for (const release of held) {
			release();
		}

		await Promise.all(sends);
	});
});

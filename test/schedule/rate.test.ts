import {describe, expect, it} from 'vitest';
import {RateModel, ratePerMinute, type Rate, type RateReply} from '../../src/schedule/rate.js';
import {simulate, utilisation} from './simulate.js';

const PER_SECOND = (count: number): Rate => ({count, windowMs: 1000});
const PER_MINUTE = (count: number): Rate => ({count, windowMs: 60_000});

function answer(remaining: number | undefined, {limit = 10, status = 200, retryAfterMs}: {limit?: number; status?: number; retryAfterMs?: number} = {}): RateReply {
	return {limit, remaining, status, retryAfterMs};
}

/** Sends `count` requests one `everyMs` apart from `from`; returns their numbers. */
function sendMany(model: RateModel, count: number, from = 0, everyMs = 1): number[] {
	return Array.from({length: count}, (_, i) => model.sent(from + i * everyMs));
}

describe('the rate model', () => {
	it('closes the gate for a 429\'s Retry-After: nothing may leave before it ends', () => {
		const model = new RateModel({rate: PER_SECOND(10), source: 'told'});
		const sequence = model.sent(0);
		const decision = model.observe(answer(0, {status: 429, retryAfterMs: 2000}), sequence, 10);
		expect(decision.pause).toMatchObject({until: 2010, reason: '429', publish: true});
		expect(model.maySend(2009)).toBe(false);
		expect(model.maySend(2010)).toBe(true);
		expect(model.stats()).toMatchObject({tooManyRequests: 1, pauses: 1, pausedMs: 2000});
	});

	it('waits a whole window when another client already spent the budget, and learns nothing from it', () => {
		const model = new RateModel({rate: PER_MINUTE(600), source: 'introspect'});
		const decision = model.observe(answer(0), model.sent(0), 5);
		expect(decision.pause).toMatchObject({until: 1005, reason: 'remaining'});
		expect(model.rate).toEqual(PER_MINUTE(600));
		expect(model.source).toBe('introspect');
	});

	it('times a spent window from the answer of its first request, not from when it was sent', () => {
		const model = new RateModel({rate: PER_MINUTE(600), source: 'introspect'});
		const [first, ...rest] = sendMany(model, 10, 0, 100);
		// The first request reached the server 90 ms late: its answer came at 95, not at 5.
		model.observe(answer(9), first!, 95);
		let decision = {};
		for (const [i, sequence] of rest.entries()) {
			decision = model.observe(answer(8 - i), sequence, (i + 1) * 100 + 5);
		}

		expect(decision).toMatchObject({pause: {until: 1095, reason: 'remaining'}});
	});

	it('times a spent window of a shared budget from our share of the window\'s requests', () => {
		const model = new RateModel({rate: PER_MINUTE(600), source: 'introspect'});
		model.share(2);
		const sequences = sendMany(model, 10, 0, 10);
		let decision = {};
		for (const [i, sequence] of sequences.entries()) {
			decision = model.observe(answer(9 - i), sequence, i * 10 + 5);
		}

		// Ten requests of the window, half of them ours: the window began with our fifth from last.
		expect(decision).toMatchObject({pause: {until: 4 * 10 + 5 + 1000}});
	});

	it('holds the next request for an answer at none left, but a slow answer only briefly', () => {
		const model = new RateModel({rate: PER_MINUTE(600), source: 'introspect'});
		model.observe(answer(2), model.sent(0), 5);
		model.sent(110);
		model.sent(220);
		expect(model.maySend(330)).toBe(false);
		// Credit is trusted for 4 spacings (408 ms) at most.
		expect(model.maySend(413)).toBe(false);
		expect(model.maySend(414)).toBe(true);
	});

	it('takes a guessed rate from the first X-RateLimit-Limit, and never raises a told rate', () => {
		const guessed = new RateModel({rate: PER_MINUTE(60), source: 'default'});
		expect(guessed.observe(answer(5999, {limit: 6000}), guessed.sent(0), 5).rate).toEqual({rate: PER_MINUTE(6000), faster: true});
		expect(guessed.source).toBe('header');

		const told = new RateModel({rate: PER_SECOND(10), source: 'told'});
		expect(told.setRate(PER_MINUTE(3000), 'introspect')).toEqual({});
		expect(told.source).toBe('told');
		expect(told.setRate(PER_MINUTE(300), 'introspect').rate).toEqual({rate: PER_MINUTE(300), faster: false});
	});

	it('spaces the first request after a faster rate one new spacing after the last one sent', () => {
		const model = new RateModel({rate: PER_MINUTE(60), source: 'default'});
		model.sent(1000);
		model.setRate(PER_MINUTE(6000), 'introspect');
		expect(model.openAt).toBeCloseTo(1010.2);
	});

	it('leaves the last request of a window to another client seen spending it (without Redis)', () => {
		const alone = new RateModel({rate: PER_MINUTE(1200), source: 'introspect'});
		const shared = new RateModel({rate: PER_MINUTE(1200), source: 'introspect'});
		shared.share(2);
		for (const model of [alone, shared]) {
			const [a, b, c, d] = sendMany(model, 4, 0, 50);
			model.observe(answer(3, {limit: 20}), a!, 5);
			// More remain than before: a window began. Then Remaining falls by 4 for one request of
			// ours: someone else spends this window.
			model.observe(answer(19, {limit: 20}), b!, 55);
			model.observe(answer(15, {limit: 20}), c!, 105);
			const decision = model.observe(answer(1, {limit: 20}), d!, 155);
			// Alone, one left is left to the other client: a whole window, as we sent too few to time it.
			expect(decision.pause).toEqual(model === alone ? {from: 155, until: 1155, reason: 'remaining', publish: true} : undefined);
		}
	});

	describe('a 429 that is not the budget is waited out and teaches nothing', () => {
		it.each([
			{case: 'the 429 says requests remain', earlier: undefined, remaining: 3, learns: false},
			{case: 'an earlier answer left room for it', earlier: 5, remaining: 0, learns: false},
			{case: 'nothing said there was room (the budget)', earlier: undefined, remaining: 0, learns: true},
		])('$case', ({earlier, remaining, learns}) => {
			const model = new RateModel({rate: PER_SECOND(40), source: 'told'});
			const sequences = sendMany(model, 25, 0, 25);
			if (earlier !== undefined) {
				model.observe(answer(earlier), sequences[23]!, 600);
			}

			const decision = model.observe(answer(remaining, {status: 429, retryAfterMs: 1000}), sequences[24]!, 610);
			expect(decision.pause?.until).toBe(1610);
			expect(model.source).toBe(learns ? 'learned' : 'told');
			expect(ratePerMinute(model.rate) < 2400).toBe(learns);
		});
	});
});

describe('the rate model against a simulated server', () => {
	it.each([
		{window: 'fixed' as const},
		{window: 'sliding' as const},
	])('paces a known limit at about 98% of it with no 429 ($window window)', ({window}) => {
		const server = {count: 50, windowMs: 1000, window};
		const run = simulate({rate: PER_MINUTE(3000), source: 'introspect', server, rows: 300});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBe(0);
		expect(utilisation(run, server)).toBeGreaterThan(0.95);
		expect(utilisation(run, server)).toBeLessThanOrEqual(1);
	});

	it('costs no 429 when the first request of a window reached the server late', () => {
		const run = simulate({rate: PER_MINUTE(600), source: 'introspect', server: {count: 10, windowMs: 1000}, rows: 14, lateFirstMs: 90});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBe(0);
	});

	it('learns a told rate that is too high down with one 429, and not from the pause after it', () => {
		const run = simulate({rate: PER_SECOND(40), source: 'told', server: {count: 20, windowMs: 1000}, rows: 150});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBe(1);
		expect(run.sentDuringRetryAfter).toBe(0);
		expect(run.model.source).toBe('learned');
		expect(ratePerMinute(run.model.rate)).toBeLessThanOrEqual(1200);
		expect(ratePerMinute(run.model.rate)).toBeGreaterThan(1000);
	});

	it('climbs back to near the limit once another client that spent part of the budget stops', () => {
		// Introspect overstates the limit (60/s against 40/s) while another client spends half the
		// budget for 1.5 s: the rate learned then is far too low and must climb back.
		const run = simulate({rate: PER_MINUTE(3600), source: 'introspect', server: {count: 40, windowMs: 1000}, rows: 300, others: {everyMs: 50, untilMs: 1500}});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBeGreaterThan(0);
		expect(run.sentDuringRetryAfter).toBe(0);
		expect(run.model.source).toBe('learned');
		expect(ratePerMinute(run.model.rate)).toBeGreaterThanOrEqual(2040);
		expect(ratePerMinute(run.model.rate)).toBeLessThanOrEqual(2400);
	});

	it('keeps the learned rate while another client goes on spending the budget, with no 429', () => {
		const run = simulate({rate: PER_MINUTE(1200), source: 'introspect', server: {count: 20, windowMs: 1000}, rows: 200, others: {everyMs: 167, untilMs: 600_000}});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBe(0);
	});
});

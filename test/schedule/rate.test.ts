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
		expect(model.stats(2010)).toMatchObject({tooManyRequests: 1, pauses: 1, pausedMs: 2000});
	});

	it('counts a pause only as far as it was waited: a run stopped at its start waited none of it', () => {
		const model = new RateModel({rate: PER_SECOND(10), source: 'told', maxWaitMs: 5000});
		model.observe(answer(0, {status: 429, retryAfterMs: 60_000}), model.sent(0), 10);
		expect(model.stats(10).pausedMs).toBe(0);
		expect(model.stats(1010).pausedMs).toBe(1000);
		expect(model.stats(60_000).pausedMs).toBe(5000);
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

	it('bursting with a budget shared through Redis, leaves the window to Redis: no gate at none left, no spacing', () => {
		const model = new RateModel({rate: PER_MINUTE(600), source: 'introspect'});
		model.share(2);
		expect(model.sharedWindow).toBeUndefined();
		const sequences = sendMany(model, 10, 0, 10);
		let decision = {};
		for (const [i, sequence] of sequences.entries()) {
			decision = model.observe(answer(9 - i), sequence, i * 10 + 5);
		}

		expect(model.bursting).toBe(true);
		expect(model.spacingMs).toBe(0);
		expect(decision).toEqual({});
		expect(model.maySend(100)).toBe(true);
		// What Redis grants against: the header's budget, over the window introspect's rate gives it.
		expect(model.sharedWindow).toEqual({limit: 10, windowMs: 1000});
	});

	it('spaced at a told rate with a shared budget, times a spent window from our share of the window\'s requests', () => {
		const model = new RateModel({rate: PER_MINUTE(300), source: 'told'});
		model.setRate(PER_MINUTE(600), 'introspect');
		model.share(2);
		const sequences = sendMany(model, 10, 0, 10);
		let decision = {};
		for (const [i, sequence] of sequences.entries()) {
			decision = model.observe(answer(9 - i), sequence, i * 10 + 5);
		}

		// Ten requests of the window, half of them ours: the window began with our fifth from last.
		expect(decision).toMatchObject({pause: {until: 4 * 10 + 5 + 1000}});
	});

	it('spaced at a told rate, holds the next request for an answer at none left, but a slow answer only briefly', () => {
		const model = new RateModel({rate: PER_MINUTE(300), source: 'told'});
		model.setRate(PER_MINUTE(600), 'introspect');
		model.observe(answer(2), model.sent(0), 5);
		expect(model.bursting).toBe(false);
		model.sent(210);
		model.sent(420);
		expect(model.maySend(630)).toBe(false);
		// Credit is trusted for 4 spacings (816 ms) at most.
		expect(model.maySend(821)).toBe(false);
		expect(model.maySend(822)).toBe(true);
	});

	it('bursting, sends while Remaining less what is in flight leaves room, and one request at a time when nothing fresh is heard', () => {
		const model = new RateModel({rate: PER_MINUTE(600), source: 'introspect'});
		expect(model.maySend(0)).toBe(true);
		const first = model.sent(0);
		// Before the first answer nothing is known: one request at a time.
		expect(model.maySend(1)).toBe(false);
		expect(model.observe(answer(3), first, 5).rate).toEqual({rate: PER_MINUTE(600), faster: true});
		expect(model.bursting).toBe(true);
		expect(model.spacingMs).toBe(0);
		const [a, b] = sendMany(model, 2, 5);
		expect(model.maySend(7)).toBe(true);
		model.sent(7);
		// Three sent after an answer that left three: none left until an answer says otherwise.
		expect(model.maySend(8)).toBe(false);
		expect(model.maySend(60_000)).toBe(false);
		model.observe(answer(2), a!, 10);
		expect(model.maySend(11)).toBe(false);
		// An answer that says more remain (a new window) frees room; one that is out of order does not.
		model.observe(answer(9), b!, 12);
		expect(model.maySend(13)).toBe(true);
	});

	it('bursting, counts its earlier requests still in flight against the Remaining of a later answer', () => {
		const model = new RateModel({rate: PER_MINUTE(600), source: 'introspect'});
		model.observe(answer(9), model.sent(0), 5);
		const [a, b, c] = sendMany(model, 3, 5);
		model.observe(answer(2), c!, 10);
		// a and b may reach the server after c: they take the two that c's answer left.
		expect(model.maySend(11)).toBe(false);
		model.observe(answer(1), a!, 12);
		model.observe(answer(0), b!, 13);
		expect(model.maySend(14)).toBe(false);
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

	it('stops bursting while another client is seen spending the window (spaced, its last request left), and bursts again after a window alone', () => {
		const model = new RateModel({rate: PER_MINUTE(1200), source: 'introspect'});
		const [a, b, c] = sendMany(model, 3, 0, 1);
		model.observe(answer(19, {limit: 20}), a!, 5);
		expect(model.bursting).toBe(true);
		// Remaining fell by 4 for one request of ours: another run on the token spends this window.
		const decision = model.observe(answer(15, {limit: 20}), b!, 55);
		expect(model.bursting).toBe(false);
		expect(decision.rate?.faster).toBe(false);
		expect(model.spacingMs).toBeCloseTo(51);
		model.observe(answer(10, {limit: 20}), c!, 60);
		expect(model.bursting).toBe(false);
		// Then a window of answers showing only our own requests: bursting again.
		const [d, e] = sendMany(model, 2, 1100, 1000);
		model.observe(answer(19, {limit: 20}), d!, 1105);
		expect(model.bursting).toBe(false);
		expect(model.observe(answer(18, {limit: 20}), e!, 2105).rate?.faster).toBe(true);
		expect(model.bursting).toBe(true);
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

/** The time the budget windows need for `requests`: a window for each budget's worth, the last one's start. */
function windowsNeed(requests: number, server: {count: number; windowMs: number}): number {
	return (Math.ceil(requests / server.count) - 1) * server.windowMs;
}

describe('a per-minute budget spent as soon as there is work (60 per 6 s, introspect knows it)', () => {
	const budget = PER_MINUTE(600);
	it.each([
		{case: 'a job under the budget', rows: 50, window: 'fixed' as const},
		{case: 'exactly the budget', rows: 60, window: 'fixed' as const},
		{case: '2.5 windows, fixed windows', rows: 150, window: 'fixed' as const},
		{case: '2.5 windows, rolling windows', rows: 150, window: 'sliding' as const},
		{case: '10 windows, rolling windows', rows: 600, window: 'sliding' as const},
	])('$case: $rows rows in what the windows need, with no 429', ({rows, window}) => {
		const server = {count: 60, windowMs: 6000, window};
		const run = simulate({rate: budget, source: 'introspect', server, rows});
		expect(run.tooMany).toBe(0);
		const need = windowsNeed(rows, server);
		expect(run.finishedAt).toBeGreaterThanOrEqual(need);
		expect(run.finishedAt).toBeLessThanOrEqual(need * 1.08 + 1500);
	});

	it('another client spending part of every window: what is left goes to us, with no 429', () => {
		const server = {count: 60, windowMs: 6000};
		// The other client takes 30 of each window's 60.
		const run = simulate({rate: budget, source: 'introspect', server, rows: 150, others: {everyMs: 200, untilMs: 600_000}});
		expect(run.tooMany).toBe(0);
		expect(run.finishedAt).toBeLessThanOrEqual(windowsNeed(150, {count: 30, windowMs: 6000}) * 1.08 + 1500);
	});

	it('a 429 in the middle of a burst that is not the budget: waited out, nothing sent inside it, nothing learned', () => {
		const server = {count: 60, windowMs: 6000, limited: [20]};
		const run = simulate({rate: budget, source: 'introspect', server, rows: 50});
		expect(run.tooMany).toBe(1);
		expect(run.sentDuringRetryAfter).toBe(0);
		expect(run.model.rate).toEqual(budget);
		expect(run.finishedAt).toBeGreaterThanOrEqual(1000);
		expect(run.finishedAt).toBeLessThan(2000);
	});

	it('a told rate below the budget is a speed: evenly spaced at it', () => {
		const run = simulate({rate: PER_MINUTE(300), source: 'told', server: {count: 60, windowMs: 6000}, rows: 20, prime: model => model.setRate(budget, 'introspect')});
		expect(run.model.bursting).toBe(false);
		const gaps = run.sent.slice(1).map((s, i) => s.at - run.sent[i]!.at);
		expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
	});

	it('no rate headers at all: evenly spaced at the rate', () => {
		const run = simulate({rate: budget, source: 'introspect', server: {count: 60, windowMs: 6000, headers: false}, rows: 20});
		expect(run.model.bursting).toBe(false);
		expect(run.finishedAt).toBeGreaterThanOrEqual(19 * 100);
	});
});

describe('the rate model against a simulated server', () => {
	it.each([
		{window: 'fixed' as const},
		{window: 'sliding' as const},
	])('spends a known limit window by window with no 429 ($window window)', ({window}) => {
		const server = {count: 50, windowMs: 1000, window};
		const run = simulate({rate: PER_MINUTE(3000), source: 'introspect', server, rows: 300});
		expect(run.tooMany).toBe(0);
		expect(run.finishedAt).toBeLessThanOrEqual(windowsNeed(300, server) * 1.08 + 1500);
	});

	it.each([
		{case: 'no rate headers', headers: false},
		{case: 'a told rate below the budget', headers: true},
	])('spaced ($case), paces a known limit at about 98% of it with no 429', ({headers}) => {
		const server = {count: 50, windowMs: 1000, headers};
		const run = simulate({rate: PER_MINUTE(2990), source: 'told', server, rows: 300, prime: model => model.setRate(PER_MINUTE(3000), 'introspect')});
		expect(run.tooMany).toBe(0);
		expect(utilisation(run, server)).toBeGreaterThan(0.95);
		expect(utilisation(run, server)).toBeLessThanOrEqual(1);
	});

	it('costs no 429 when the first request of a window reached the server late', () => {
		const run = simulate({rate: PER_MINUTE(600), source: 'introspect', server: {count: 10, windowMs: 1000}, rows: 14, lateFirstMs: 90});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBe(0);
	});

	it.each([
		{case: 'told 2x, a 1 s window', server: {count: 20, windowMs: 1000}, told: PER_SECOND(40), rows: 150, tooMany: 0},
		{case: 'told 10x, a 1 s window', server: {count: 50, windowMs: 1000}, told: PER_SECOND(500), rows: 300, tooMany: 0},
		{case: 'told 10x, a 6 s window', server: {count: 60, windowMs: 6000}, told: PER_SECOND(100), rows: 300, tooMany: 1},
		{case: 'told 10x, a minute', server: {count: 60, windowMs: 60_000}, told: PER_MINUTE(600), rows: 300, tooMany: 1},
		{case: 'told 3x, a sliding 6 s window', server: {count: 60, windowMs: 6000, window: 'sliding' as const}, told: PER_SECOND(30), rows: 300, tooMany: 1},
	])('bursting at a told rate above the limit ($case), finds the window with at most one 429 and spends 90% of it', ({server, told, rows, tooMany}) => {
		const run = simulate({rate: told, source: 'told', server, rows, untilMs: 600_000});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBe(tooMany);
		expect(run.sentDuringRetryAfter).toBe(0);
		// The windows the rows need, against the time from the first request to the last row's.
		expect(windowsNeed(rows, server) / run.finishedAt!).toBeGreaterThan(0.9);
		if (tooMany > 0) {
			// The window learned from the one 429 is the server's, a little long rather than short.
			expect(run.model.source).toBe('learned');
			expect(ratePerMinute(run.model.rate)).toBeLessThanOrEqual(ratePerMinute(server));
			expect(ratePerMinute(run.model.rate)).toBeGreaterThan(ratePerMinute(server) * 0.95);
		}
	});

	it('spaced, climbs back to near the limit once another client that spent part of the budget stops', () => {
		// A told rate (50/s, below what introspect says: spaced) is above the real limit (40/s) while
		// another client spends half the budget for 1.5 s: the rate learned then is far too low and
		// must climb back.
		const run = simulate({rate: PER_MINUTE(3000), source: 'told', server: {count: 40, windowMs: 1000}, rows: 300, others: {everyMs: 50, untilMs: 1500}, prime: model => model.setRate(PER_MINUTE(3600), 'introspect')});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBeGreaterThan(0);
		expect(run.sentDuringRetryAfter).toBe(0);
		expect(run.model.source).toBe('learned');
		expect(ratePerMinute(run.model.rate)).toBeGreaterThanOrEqual(2040);
		expect(ratePerMinute(run.model.rate)).toBeLessThanOrEqual(2400);
	});

	it('bursting, learns a window that introspect overstated from the 429 that ends it', () => {
		// Introspect says 60/s against 40/s, while another client spends half the budget for 1.5 s.
		const run = simulate({rate: PER_MINUTE(3600), source: 'introspect', server: {count: 40, windowMs: 1000}, rows: 300, others: {everyMs: 50, untilMs: 1500}});
		expect(run.finishedAt).toBeLessThanOrEqual(windowsNeed(300 + 30, {count: 40, windowMs: 1000}) * 1.15 + 1500);
		expect(run.sentDuringRetryAfter).toBe(0);
		expect(run.model.source).toBe('learned');
		expect(ratePerMinute(run.model.rate)).toBeGreaterThanOrEqual(1800);
		expect(ratePerMinute(run.model.rate)).toBeLessThanOrEqual(2400);
	});

	it('keeps within the budget while another client goes on spending it, with no 429', () => {
		const run = simulate({rate: PER_MINUTE(1200), source: 'introspect', server: {count: 20, windowMs: 1000}, rows: 200, others: {everyMs: 167, untilMs: 600_000}});
		expect(run.finishedAt).toBeDefined();
		expect(run.tooMany).toBe(0);
	});
});

describe('pauses are bounded: the window the server said, and --max-wait', () => {
	it.each([
		{case: 'a told rate below the budget introspect gave', introspect: true},
		{case: 'a told rate alone (the header is per minute)', introspect: false},
	])('$case: a spent window is the server\'s (a minute), not the told rate\'s (6 minutes)', ({introspect}) => {
		const model = new RateModel({rate: PER_MINUTE(10), source: 'told'});
		if (introspect) {
			model.setRate(PER_MINUTE(60), 'introspect');
		}

		const decision = model.observe(answer(0, {limit: 60}), model.sent(0), 5);
		expect(decision.pause?.until).toBe(5 + 60_000);
	});

	it.each([
		{case: 'a Retry-After of an hour', act: (model: RateModel) => model.observe(answer(0, {status: 429, retryAfterMs: 3_600_000}), model.sent(0), 5), until: 5 + 900_000},
		{case: 'another process\'s pause of an hour', act: (model: RateModel) => model.pausedByPeer(3_600_000, '429', 5), until: 5 + 900_000},
		{case: 'a spent minute window', act: (model: RateModel) => model.observe(answer(0, {limit: 60}), model.sent(0), 5), until: 5 + 900_000, maxWaitMs: 900_000, expectedWindow: 60_000},
	])('$case ends at --max-wait at the latest', ({act, until, expectedWindow}) => {
		const model = new RateModel({rate: PER_MINUTE(60), source: 'introspect', maxWaitMs: 900_000});
		const decision = act(model);
		expect(decision.pause?.until).toBe(expectedWindow === undefined ? until : 5 + expectedWindow);
		const short = new RateModel({rate: PER_MINUTE(60), source: 'introspect', maxWaitMs: 30_000});
		expect(act(short).pause?.until).toBe(5 + 30_000);
	});

	it('shortens a spent window worked out from the header alone (a minute) once introspect tells the rate', () => {
		const model = new RateModel({rate: PER_MINUTE(60), source: 'default'});
		// The introspect's own answer: another run spent this window already.
		expect(model.observe(answer(0, {limit: 10}), model.sent(0), 5).pause?.until).toBe(5 + 60_000);
		model.setRate(PER_MINUTE(600), 'introspect');
		expect(model.pausedUntil).toBe(5 + 1000);
		expect(model.stats(5 + 1000).pausedMs).toBe(1000);
	});

	it('takes another process\'s pause as a duration from when it is heard (the clocks may differ)', () => {
		const model = new RateModel({rate: PER_MINUTE(60), source: 'introspect'});
		expect(model.pausedByPeer(5000, '429', 1_000_000).pause).toMatchObject({from: 1_000_000, until: 1_005_000, reason: '429 (another process)', publish: false});
	});
});

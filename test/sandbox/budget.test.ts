import {describe, expect, it} from 'vitest';
import {Budgets, retryAfterSeconds} from '../../src/sandbox/budget.js';

const rate = {count: 3, windowMs: 1000};

describe('the sandbox\'s budget, counted without a clock', () => {
	it('counts fixed windows from a token\'s first request and says how long until the next one', () => {
		const budgets = new Budgets('fixed');
		expect([0, 100, 200].map(now => budgets.spend('a', rate, now).remaining)).toEqual([2, 1, 0]);
		expect(budgets.spend('a', rate, 400)).toEqual({remaining: 0, retryAfterMs: 600});
		// Another token has a budget of its own.
		expect(budgets.spend('b', rate, 400).remaining).toBe(2);
		// The next window starts on the boundary, even when the first request after it comes late.
		expect(budgets.spend('a', rate, 2100)).toEqual({remaining: 2, retryAfterMs: undefined});
		expect(budgets.spend('a', rate, 2950).remaining).toBe(1);
		expect(budgets.spend('a', rate, 3000).remaining).toBe(2);
	});

	it('counts a sliding window over the last windowMs, refused requests not counted', () => {
		const budgets = new Budgets('sliding');
		for (const now of [0, 400, 800]) {
			budgets.spend('a', rate, now);
		}

		expect(budgets.spend('a', rate, 900)).toEqual({remaining: 0, retryAfterMs: 100});
		expect(budgets.spend('a', rate, 1000)).toEqual({remaining: 0, retryAfterMs: undefined});
		expect(budgets.spend('a', rate, 1300)).toEqual({remaining: 0, retryAfterMs: 100});
		expect(budgets.spend('a', rate, 1400).remaining).toBe(0);
		expect(budgets.spend('a', rate, 2401).remaining).toBe(2);
	});

	it('asks for at least a second in Retry-After, rounding up', () => {
		expect([1, 999, 1000, 1001, 59_400].map(retryAfterSeconds)).toEqual([1, 1, 1, 2, 60]);
	});
});

import {describe, expect, it} from 'vitest';
import {SendHistory} from '../../src/schedule/history.js';

describe('the send history', () => {
	it('numbers requests in send order and looks back by count, answers included', () => {
		const history = new SendHistory();
		expect(history.span).toBeUndefined();
		for (let i = 0; i < 5; i++) {
			history.sent(1000 + (i * 100));
		}

		history.answered(2, 1150);
		expect(history.sequence).toBe(5);
		expect(history.span).toEqual({first: 1000, last: 1400});
		expect(history.sentBefore(5, 3)).toBe(1100);
		expect(history.answeredBefore(5, 3)).toBe(1150);
		expect(history.answeredBefore(5, 2)).toBeUndefined(); // still in flight
		expect(history.sentBefore(5, 5)).toBeUndefined(); // before the first
		expect(history.sentSince(1250)).toBe(2);
	});

	it('forgets what is older than it keeps, and a late answer to a forgotten request changes nothing', () => {
		const history = new SendHistory();
		for (let i = 1; i <= 5000; i++) {
			history.sent(i);
		}

		expect(history.sentBefore(5000, 4095)).toBe(905);
		expect(history.sentBefore(5000, 4096)).toBeUndefined();
		history.answered(904, 99_999); // shares a slot with request 5000
		expect(history.answeredBefore(5000, 0)).toBeUndefined();
		expect(history.sentSince(0)).toBe(4095);
	});
});

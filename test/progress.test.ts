import {describe, expect, it} from 'vitest';
import {formatProgress} from '../src/report/format.js';

describe('the progress line', () => {
	it('counts a pause going on in the ETA: never less time left than the pause', () => {
		const now = 1_000_000;
		// 30 rows in a minute, 15 left: 30 s at that pace, after a pause of 60 s more.
		const line = formatProgress({done: 30, total: 45, elapsedMs: 60_000, pausedUntil: now + 60_000}, now);
		expect(line).toBe('30/45 rows, 30/min, ETA 1 min 30 s — paused 60 s by the rate limit');
		expect(formatProgress({done: 30, total: 45, elapsedMs: 60_000, pausedUntil: now - 1}, now)).toBe('30/45 rows, 30/min, ETA 30 s');
	});
});

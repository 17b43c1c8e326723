import {describe, expect, it} from 'vitest';
import {RowPool} from '../../src/schedule/pool.js';

describe('the row pool', () => {
	it('reports a task that threw when drained, instead of an unhandled rejection, and runs the others', async () => {
		const pool = new RowPool(2);
		const done: number[] = [];
		for (const i of [1, 2, 3, 4]) {
			await pool.add(async () => {
				if (i === 2) {
					throw new Error('disk full');
				}

				done.push(i);
			});
		}

		await expect(pool.drain()).rejects.toThrow('disk full');
		expect(done.sort()).toEqual([1, 3, 4]);
	});
});

import {describe, expect, it} from 'vitest';
import {hash53, hash53Fields} from '../../src/rows/hash.js';

describe('hash53Fields', () => {
	it('is hash53 of the count and the fields joined by NUL, without joining them', () => {
		const cases = [[], [''], ['a'], ['a', ''], ['', ''], ['', 'b', 'c\u0000d'], ['😀é', 'x'], ['A photo, number 1', 'batch 1', '', 'image-1.jpg']];
		for (const fields of cases) {
			expect(hash53Fields(fields), JSON.stringify(fields)).toBe(hash53(`${fields.length}\u0000${fields.join('\u0000')}`));
		}
	});
});

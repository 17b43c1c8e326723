import {describe, expect, it} from 'vitest';
import {neutralize, unneutralize} from '../../src/rows/formula.js';
import {NASTY} from './nasty.js';

describe('the formula guard', () => {
	it('writes no cell a spreadsheet would run as a formula', () => {
		for (const value of NASTY) {
			expect([value, neutralize(value)]).not.toEqual([value, expect.stringMatching(/^[=+\-@\t\r]/)]);
		}
	});

	it('is exactly reversible: every value reads back byte for byte, a value starting with \' included', () => {
		for (const value of [...NASTY, '']) {
			expect([value, unneutralize(neutralize(value))]).toEqual([value, value]);
		}
	});

	it('gives two values two cells', () => {
		const cells = new Map<string, string>();
		for (const value of NASTY) {
			const cell = neutralize(value);
			expect([value, cells.get(cell)]).toEqual([value, undefined]);
			cells.set(cell, value);
		}
	});

	it('a value that itself starts with \' before a formula start is written with one more \'', () => {
		expect(neutralize('\'-5 degrees')).toBe('\'\'-5 degrees');
		expect(neutralize('=x')).toBe('\'=x');
		expect(neutralize('\'hello')).toBe('\'hello');
		expect(unneutralize('\'\'-5 degrees')).toBe('\'-5 degrees');
	});

	it('marks a value of spaces only, which a jobs cell would read as empty (leave as is)', () => {
		expect(neutralize('  ')).toBe('\'  ');
		expect(unneutralize('\'  ')).toBe('  ');
		expect(neutralize('')).toBe('');
	});
});

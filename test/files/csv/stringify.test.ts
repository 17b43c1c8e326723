import {stringify} from 'csv-stringify/sync';
import {describe, expect, it} from 'vitest';
import {csvLine, csvLines} from '../../../src/files/csv/stringify.js';
import {neutralize} from '../../../src/rows/formula.js';

/** What csv-stringify writes for these rows with the options the results files were written with before the fast path. */
function library(rows: string[][]): string {
	const lineBreak = rows.some(row => row.some(cell => cell.includes('\n') || cell.includes('\r')));
	return stringify(rows, lineBreak ? {record_delimiter: '\r\n', quoted_match: /[\r\n]/} : {record_delimiter: '\r\n'});
}

const TRICKY = [
	'', ' ', '  ', 'plain', 'a,b', ',', ',,', '"', '""', 'say "hi"', '"quoted"', 'a"b,c', 'line\nbreak', 'line\r\nbreak', 'cr\ronly',
	'\n', '\r', '\r\n', 'ends with\r', '\nstarts', ' leading', 'trailing ', '\ttab', 'a;b', 'semi;colon', '=SUM(A1)', '+1', '-5 degrees',
	'@me', '\'quoted already', '\'=guarded', 'é accent', '日本語, text', '\u2028sep', '\uFEFFbom', 'emoji 😀, "x"', 'a\u0000b',
	'lone \uD800 surrogate',
];

/** A little pseudo-random generator, so a failure can be run again. */
function randomCells(seed: number, count: number): string[] {
	let state = seed;
	const next = () => {
		state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
		return state;
	};

	const alphabet = ['a', 'B', ' ', ',', '"', '\r', '\n', ';', '\t', '=', '-', '\'', 'é', '😀', '+', '@'];
	return Array.from({length: count}, () => Array.from({length: next() % 7}, () => alphabet[next() % alphabet.length] ?? '').join(''));
}

describe('writing CSV lines without csv-stringify (the fast path)', () => {
	it('writes each tricky cell as csv-stringify does, alone and among others', () => {
		for (const cell of TRICKY) {
			expect(csvLine([cell])).toBe(library([[cell]]));
			expect(csvLine(['1', cell, 'x'])).toBe(library([['1', cell, 'x']]));
			expect(csvLine([neutralize(cell)])).toBe(library([[neutralize(cell)]]));
		}

		expect(csvLine(TRICKY)).toBe(library([TRICKY]));
	});

	it('writes many lines as csv-stringify does, with and without line breaks among them', () => {
		const rows = TRICKY.map((cell, i) => [String(i + 2), cell, TRICKY[(i * 7) % TRICKY.length] ?? '', '']);
		expect(csvLines(rows)).toBe(library(rows));
		const plain = rows.filter(row => !row.some(cell => cell.includes('\n') || cell.includes('\r')));
		expect(csvLines(plain)).toBe(library(plain));
		expect(csvLines([])).toBe(library([]));
		expect(csvLine([])).toBe(library([[]]));
	});

	it('agrees with csv-stringify on thousands of random rows', () => {
		for (let seed = 1; seed <= 3000; seed++) {
			const row = randomCells(seed, 1 + (seed % 9));
			expect(csvLine(row), JSON.stringify(row)).toBe(library([row]));
		}
	});
});

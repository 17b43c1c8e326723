import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {EarlierResults} from '../../../src/engine/resume.js';
import {ResultsJournal} from '../../../src/files/csv/journal.js';
import {scanResultRows, type ScannedRow} from '../../../src/files/csv/results-scan.js';
import {csvLine} from '../../../src/files/csv/stringify.js';
import {resultHeader} from '../../../src/rows/result.js';
import {tempDir} from '../../helpers.js';

const INPUT = ['assetId', 'altText', 'note'];
const HEADER = resultHeader(INPUT);
const PIECES = ['a', 'b', 'alt text', ',', '"', '""', '\n', '\r\n', ' ', 'é', '€', '😀', 'ß', '0', 'updated', ''];

/** A small seeded random source (the same files on every run). */
function random(seed: number): () => number {
	let state = seed;
	return () => {
		state = (Math.imul(state ^ (state >>> 15), 0x2c_1b_3c_6d) + 0x6d_2b_79_f5) | 0;
		return ((state >>> 0) % 1_000_000) / 1_000_000;
	};
}

/** A cell as a writer might leave it: quoted only when it must be (as we write), or always. */
function quoted(cell: string, always: boolean): string {
	return always || /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** A results file's text: our header line, rows in or out of order (some again), short records, CRLF (a lone LF now and then), maybe a torn end. */
function resultsText(next: () => number): string {
	const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
	const cell = () => Array.from({length: Math.floor(next() * 4)}, () => pick(PIECES)).join('');
	let text = csvLine(HEADER);
	const rows = Math.floor(next() * 30);
	for (let i = 0; i < rows; i++) {
		const row = next() < 0.8 ? i + 2 : Math.floor(next() * 40) + 2;
		const status = pick(['updated', 'unchanged', 'failed', 'updated', '']);
		const cells = [String(row), cell(), cell(), cell(), status, ...HEADER.slice(5).map(() => (next() < 0.3 ? cell() : ''))];
		const kept = next() < 0.15 ? cells.slice(0, Math.floor(next() * cells.length) + 1) : cells;
		const always = next() < 0.2;
		// Now and then a lone LF ends a line: csv-parse, having found CRLF, reads it as text (so must we).
		text += kept.map((value, k) => (k === 0 ? value : quoted(value, always))).join(',') + (next() < 0.995 ? '\r\n' : '\n');
	}

	return next() < 0.3 ? `${text}${rows + 2},torn "cel` : text;
}

async function both(path: string): Promise<{fast: EarlierResults; slow: EarlierResults}> {
	return {
		fast: await EarlierResults.read({path, header: HEADER, width: INPUT.length}),
		slow: await EarlierResults.read({path, header: HEADER, width: INPUT.length, fast: false}),
	};
}

function sameReading({fast, slow}: {fast: EarlierResults; slow: EarlierResults}, label: string): void {
	expect(fast.journal, label).toEqual(slow.journal);
	for (let row = 0; row < 80; row++) {
		expect([fast.status(row), fast.cells(row)], `${label}, row ${row}`).toEqual([slow.status(row), slow.cells(row)]);
	}
}

describe('a results file read straight from its bytes (--resume)', () => {
	it('reads as csv-parse does: each row\'s status and the print of its cells, and the journal\'s end, order and highest row', async () => {
		const dir = await tempDir();
		const next = random(7);
		let taken = 0;
		for (let n = 0; n < 400; n++) {
			const path = join(dir, `r${n}.csv`);
			await writeFile(path, resultsText(next));
			const label = `file ${n}`;
			sameReading(await both(path), label);
			const big: ScannedRow[] = [];
			const end = scanResultRows({path, from: Buffer.byteLength(csvLine(HEADER)), width: INPUT.length, onRow: row => big.push(row)});
			taken += end === undefined ? 0 : 1;
			// Read again a few bytes at a time: records cut anywhere (inside a quote, a character, a CRLF).
			const small: ScannedRow[] = [];
			const smallEnd = scanResultRows({path, from: Buffer.byteLength(csvLine(HEADER)), width: INPUT.length, onRow: row => small.push(row), bufferBytes: 1 + (n % 13)});
			expect([smallEnd, small], label).toEqual([end, big]);
		}

		// The regular files (nearly all) were read from their bytes, not handed to csv-parse.
		expect(taken).toBeGreaterThan(340);
	});

	it('leaves to csv-parse a file that is not as we write it, and reads it the same', async () => {
		const dir = await tempDir();
		const line = (cells: string[]) => `${cells.join(',')}\r\n`;
		const row = (n: number, altText: string, status = 'updated') => line([String(n), 'a', altText, '', status, ...HEADER.slice(5).map(() => '')]);
		const cases: Record<string, string> = {
			'a stray quote in a plain cell': csvLine(HEADER) + row(2, 'say "hi"') + row(3, 'b'),
			'an empty line': `${csvLine(HEADER)}${row(2, 'a')}\r\n${row(3, 'b')}`,
			'a line that is no row': `${csvLine(HEADER)}${row(2, 'a')}x,junk\r\n${row(3, 'b')}`,
			'a lone CR': `${csvLine(HEADER)}${row(2, 'a').replace('\r\n', '\r')}${row(3, 'b')}`,
			'text after a closing quote': `${csvLine(HEADER)}${row(2, '"a"b')}${row(3, 'b')}`,
			'a byte order mark': `\uFEFF${csvLine(HEADER)}${row(2, 'a')}`,
			'another header': `${csvLine([...HEADER].reverse())}${row(2, 'a')}`,
		};
		for (const [name, text] of Object.entries(cases)) {
			const path = join(dir, `${name}.csv`);
			await writeFile(path, text);
			expect(ResultsJournal.readRows({path, header: HEADER, width: INPUT.length, onRow() {}}), name).toBeUndefined();
			sameReading(await both(path), name);
		}

		// Bytes that are no UTF-8 (an overlong form, a lone continuation byte, a surrogate): csv-parse's reading, with its replacement characters.
		for (const bad of [[0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80]]) {
			const path = join(dir, `bad-${bad.join('-')}.csv`);
			await writeFile(path, Buffer.concat([Buffer.from(csvLine(HEADER)), Buffer.from('2,a,'), Buffer.from(bad), Buffer.from(',,updated\r\n')]));
			expect(ResultsJournal.readRows({path, header: HEADER, width: INPUT.length, onRow() {}})).toBeUndefined();
			sameReading(await both(path), `bytes ${bad.join(' ')}`);
		}
	});

	it('gives a quote that never closes to csv-parse past 8 MB instead of holding the rest of the file', async () => {
		const dir = await tempDir();
		const path = join(dir, 'open-quote.csv');
		const row = (n: number, altText: string) => `${[String(n), 'a', altText, '', 'updated', ...HEADER.slice(5).map(() => '')].join(',')}\r\n`;
		// Row 3's alt text opens a quote no later line closes: 9 MB of rows after it, no quote among them.
		const rest = Array.from({length: 200_000}, (_, i) => row(i + 4, 'plain text for this row')).join('');
		await writeFile(path, `${csvLine(HEADER)}${row(2, 'fine')}${row(3, '"never closed')}${rest}`);
		let rows = 0;
		expect(scanResultRows({path, from: Buffer.byteLength(csvLine(HEADER)), width: INPUT.length, onRow() {
			rows++;
		}})).toBeUndefined();
		expect(rows).toBe(1);
		sameReading(await both(path), 'a quote never closed');
	});
});

import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ResultsJournal} from '../../../src/files/csv/journal.js';
import {readResults} from '../../../src/files/csv/read-back.js';
import {tempDir} from '../../helpers.js';

const HEADER = ['row', 'assetId', 'altText', 'status'];

describe('the results journal', () => {
	it('drops a last line torn by a kill, and keeps every whole line before it', async () => {
		const dir = await tempDir();
		const path = join(dir, 'out.csv');
		await writeFile(path, 'row,assetId,altText,status\r\n2,a,one,updated\r\n3,b,"two,\r\nlines",updated\r\n4,c,thr');
		const {rows} = await readResults(path);
		expect([...rows.keys()]).toEqual([2, 3]);
		expect(rows.get(3)!.values.get('altText')).toBe('two,\r\nlines');
	});

	it('drops a last record torn inside a quoted cell', async () => {
		const dir = await tempDir();
		const path = join(dir, 'out.csv');
		await writeFile(path, 'row,assetId,altText,status\r\n2,a,one,updated\r\n3,b,"two\r\nli');
		const {rows} = await readResults(path);
		expect([...rows.keys()]).toEqual([2]);
	});

	it('writes rows that finish out of order back in input order, one line per row', async () => {
		const dir = await tempDir();
		const path = join(dir, 'out.csv');
		const journal = ResultsJournal.create({path, header: HEADER});
		journal.write(['3', 'b', 'two', 'updated']);
		journal.write(['2', 'a', 'one', 'updated']);
		expect(await readFile(path, 'utf8')).toBe('row,assetId,altText,status\r\n3,b,two,updated\r\n2,a,one,updated\r\n');
		await journal.finish({lastRow: 3});
		expect(await readFile(path, 'utf8')).toBe('row,assetId,altText,status\r\n2,a,one,updated\r\n3,b,two,updated\r\n');
	});

	it('writes a staged journal (a dry run\'s) byte for byte, a cell longer than its buffer and thousands of lines included', async () => {
		const dir = await tempDir();
		const path = join(dir, 'dry.csv');
		const journal = ResultsJournal.create({path, header: HEADER, durable: false});
		const long = `${'é'.repeat(400_000)},"x"\n`;
		const rows = Array.from({length: 5000}, (_, i) => [String(i + 2), `id${i}`, i === 2500 ? long : `alt ${i}, "q"`, 'would_update']);
		for (const row of rows) {
			journal.write(row);
		}

		journal.finish({lastRow: 5001});
		const cell = (text: string) => /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
		expect(await readFile(path, 'utf8')).toBe(['row,assetId,altText,status\r\n', ...rows.map(row => `${row.map(cell).join(',')}\r\n`)].join(''));
	});

	it('resumes a file already in order without rewriting it, and rewrites it when a row comes again, out of order, or past the input', async () => {
		const dir = await tempDir();
		const start = 'row,assetId,altText,status\r\n2,a,one,updated\r\n3,b,"two, ""2""",updated\r\n';
		const cases: Array<{name: string; text: string; rows: string[][]; lastRow: number; expected: string}> = [
			{name: 'appended after', text: `${start}4,c,thr`, rows: [['4', 'c', 'three', 'updated'], ['5', 'd', 'four', 'updated']], lastRow: 5, expected: `${start}4,c,three,updated\r\n5,d,four,updated\r\n`},
			{name: 'the last row again', text: start, rows: [['3', 'b', 'again', 'updated']], lastRow: 3, expected: 'row,assetId,altText,status\r\n2,a,one,updated\r\n3,b,again,updated\r\n'},
			{name: 'an earlier row again', text: start, rows: [['2', 'a', 'again', 'updated']], lastRow: 3, expected: 'row,assetId,altText,status\r\n2,a,again,updated\r\n3,b,"two, ""2""",updated\r\n'},
			{name: 'rows past the input', text: `${start}9,z,gone,updated\r\n`, rows: [], lastRow: 3, expected: start},
			{name: 'rows out of order', text: 'row,assetId,altText,status\r\n3,b,two,updated\r\n2,a,one,updated\r\n', rows: [], lastRow: 3, expected: 'row,assetId,altText,status\r\n2,a,one,updated\r\n3,b,two,updated\r\n'},
			{name: 'a byte order mark', text: `\uFEFF${start}`, rows: [], lastRow: 3, expected: start},
			{name: 'a header quoted otherwise', text: `"row",assetId,altText,status\r\n2,a,one,updated\r\n`, rows: [], lastRow: 3, expected: 'row,assetId,altText,status\r\n2,a,one,updated\r\n'},
			{name: 'a line that is no row', text: `${start}x,junk\r\n`, rows: [], lastRow: 3, expected: start},
			// Only the lines after the file's own are put in order (the last of a row wins); a torn line is cut first.
			{name: 'later rows out of order', text: `${start}4,c,thr`, rows: [['6', 'e', 'five', 'updated'], ['4', 'c', 'three', 'failed'], ['5', 'd', 'four', 'updated'], ['4', 'c', 'three', 'updated']], lastRow: 6, expected: `${start}4,c,three,updated\r\n5,d,four,updated\r\n6,e,five,updated\r\n`},
			{name: 'later rows out of order, one past the input', text: start, rows: [['5', 'd', 'four', 'updated'], ['4', 'c', 'three', 'updated'], ['9', 'z', 'gone', 'updated']], lastRow: 5, expected: `${start}4,c,three,updated\r\n5,d,four,updated\r\n`},
		];
		for (const {name, text, rows, lastRow, expected} of cases) {
			const path = join(dir, `${name}.csv`);
			await writeFile(path, text);
			const journal = await ResultsJournal.continue({path, header: HEADER, earlier: await ResultsJournal.read({path, header: HEADER, onRecord() {}})});
			for (const row of rows) {
				journal.write(row);
			}

			journal.finish({lastRow});
			expect(await readFile(path, 'utf8'), name).toBe(expected);
		}
	});
});

import {Readable} from 'node:stream';
import {CsvError} from 'csv-parse';
import {parse} from 'csv-parse/sync';
import {describe, expect, it} from 'vitest';
import {parseCsv} from '../../../src/files/csv/parse.js';

type Read = {records: Array<{fields: string[]; firstLine: number; lastLine: number}>; failure?: string};

/** csv-parse alone over the whole text, with parseCsv's options: the records, or the failure's code. */
function library(text: string, delimiter: string): {records: string[][]; failure?: string} {
	try {
		return {records: parse(Buffer.from(text), {delimiter, relax_quotes: true, relax_column_count: true, skip_empty_lines: false, max_record_size: 4 * 1024 * 1024}) as string[][]};
	} catch (error) {
		return {records: [], failure: error instanceof CsvError ? error.code : String(error)};
	}
}

/** parseCsv over the text's bytes cut into chunks at `cuts` (the fast path first, csv-parse for what it leaves). */
async function ours(text: string, delimiter: string, cuts: number[]): Promise<Read> {
	const bytes = Buffer.from(text);
	const chunks: Buffer[] = [];
	let at = 0;
	for (const cut of [...cuts.filter(c => c > 0 && c < bytes.length)].sort((a, b) => a - b)) {
		chunks.push(bytes.subarray(at, cut));
		at = cut;
	}

	chunks.push(bytes.subarray(at));
	const read: Read = {records: []};
	try {
		await parseCsv({
			source: Readable.from(chunks.filter(chunk => chunk.length > 0), {objectMode: false}),
			delimiter,
			onRecord(record) {
				read.records.push(record);
			},
			onFailure: failure => new Error(failure.code),
		});
	} catch (error) {
		read.failure = error instanceof Error ? error.message : String(error);
	}

	return read;
}

const FAILURES: Record<string, string> = {CSV_QUOTE_NOT_CLOSED: 'quote_not_closed', CSV_MAX_RECORD_SIZE: 'record_too_long'};

function random(seed: number): () => number {
	let state = seed;
	return () => {
		state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
		return state;
	};
}

const PIECES = ['a', 'bc', 'é', '😀', ',', ';', '\t', '"', '""', '"x"', '\r\n', '\r\n', '\n', '\r', ' ', 'x"y', '=1'];

describe('the fast CSV path in front of csv-parse', () => {
	it('reads regular files, CRLF and LF, as csv-parse does, whatever the chunks', async () => {
		const text = 'row,altText,notes\r\n2,"A photo, ""quoted""",x\r\n3,,\r\n4,"two\r\nlines",é😀\r\n5,"",last';
		for (const cuts of [[], [1], [5, 6, 7], [19, 20, 21], [text.length - 1], [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]]) {
			const read = await ours(text, ',', cuts);
			expect(read.records.map(r => r.fields)).toEqual(library(text, ',').records);
			expect(read.records.map(r => [r.firstLine, r.lastLine])).toEqual([[1, 1], [2, 2], [3, 3], [4, 5], [6, 6]]);
		}
	});

	it('reads what is not regular as csv-parse does: empty lines, stray quotes and line breaks, quotes never closed', async () => {
		const texts = ['a,b\n\nc,d\n', 'a,b\r\nc\nd,e\r\n', 'a,b\nc\r\nd\n', 'a,b"c,d\ne,f\n', 'a,"b"c,d\ne\n', 'a\rb\rc', 'a,"b\nc', '"a"\r', '""\n""\n', ' "a",b\n', 'a,b\r\n\r\n', '\n\n', '"a""', 'x;"y;z";w\n'];
		for (const text of texts) {
			for (const delimiter of [',', ';']) {
				const expected = library(text, delimiter);
				const read = await ours(text, delimiter, [2, 5]);
				expect(read.records.map(r => r.fields), JSON.stringify(text)).toEqual(expected.records);
				expect(read.failure, JSON.stringify(text)).toBe(expected.failure === undefined ? undefined : FAILURES[expected.failure] ?? 'csv_syntax');
			}
		}
	});

	it('agrees with csv-parse on thousands of random texts cut into random chunks', async () => {
		for (let seed = 1; seed <= 2500; seed++) {
			const next = random(seed);
			const delimiter = [',', ';', '\t'][next() % 3] ?? ',';
			const text = Array.from({length: next() % 40}, () => PIECES[next() % PIECES.length] ?? '').join('');
			const length = Buffer.byteLength(text);
			const cuts = Array.from({length: next() % 4}, () => next() % (length + 1));
			const expected = library(text, delimiter);
			const read = await ours(text, delimiter, cuts);
			const what = JSON.stringify({text, delimiter, cuts});
			expect(read.failure, what).toBe(expected.failure === undefined ? undefined : FAILURES[expected.failure] ?? 'csv_syntax');
			if (expected.failure === undefined) {
				expect(read.records.map(r => r.fields), what).toEqual(expected.records);
			}
		}
	});
});

import {closeSync, createReadStream, openSync, readSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {Readable} from 'node:stream';
import {InputError} from '../../errors.js';
import {parseCsv} from './parse.js';

/** A results row read back from a file, by column name (the `row` column as a number). */
export type StoredRow = {readonly row: number; readonly fields: readonly string[]; readonly values: ReadonlyMap<string, string>};

/**
 * Reads a whole results file into memory as a journal: the last line written for a row wins, and
 * a line torn by a kill is dropped. For tests and small files; runs stream (`streamResults`).
 */
export async function readResults(path: string): Promise<{header: string[]; rows: Map<number, StoredRow>}> {
	const text = wholeRecords((await readFile(path, 'utf8')).replace(/^\uFEFF/, ''));
	const records: string[][] = [];
	await parseCsv({
		source: Readable.from([text]),
		delimiter: ',',
		onRecord: ({fields}) => {
			records.push(fields);
		},
		onFailure: failure => new Error(`${path}:${failure.line}: ${failure.message}`),
	});
	const header = records.shift() ?? [];
	const rows = new Map<number, StoredRow>();
	for (const fields of records) {
		const row = Number(fields[0]);
		if (!Number.isInteger(row) || row < 2) {
			continue;
		}

		const values = new Map<string, string>();
		for (const [i, name] of header.entries()) {
			values.set(name, fields[i] ?? '');
		}

		rows.set(row, {row, fields, values});
	}

	return {header, rows};
}

/** The text up to the end of its last whole record: what a kill tore off the end is cut. */
function wholeRecords(text: string): string {
	let quoted = false;
	let end = 0;
	for (let i = 0; i < text.length; i++) {
		const ch = text.charCodeAt(i);
		if (ch === 0x22) {
			quoted = !quoted;
		} else if (ch === 0x0a && !quoted) {
			end = i + 1;
		}
	}

	return text.slice(0, end);
}

const CHUNK = 1 << 20;

/**
 * Walks a CSV file's bytes record by record without decoding it: each whole record's byte range
 * and the number in its first field (NaN when it is not one). A record torn at the end (no line
 * break after it) is not reported. Returns the end of the last whole record. `from`: where a record
 * starts to walk from (else the file's start).
 */
export function scanRecords(fd: number, onRecord: (start: number, end: number, row: number) => void, from = 0): number {
	const buffer = Buffer.allocUnsafe(CHUNK);
	let position = from;
	let quoted = false;
	let start = from;
	// The first field, read as it goes by: -1 after it ended, NaN once it is not a number.
	let row = 0;
	let inFirst = true;
	let digits = 0;
	for (;;) {
		const read = readSync(fd, buffer, 0, CHUNK, position);
		if (read === 0) {
			return start;
		}

		let i = 0;
		while (i < read) {
			if (inFirst) {
				const byte = buffer[i] ?? 0;
				if (byte >= 0x30 && byte <= 0x39) {
					row = row * 10 + byte - 0x30;
					digits++;
				} else if (byte === 0x22 && (digits === 0 || quoted)) {
					quoted = !quoted;
				} else {
					inFirst = false;
					if (digits === 0 || (byte !== 0x2c && byte !== 0x0d && byte !== 0x0a)) {
						row = Number.NaN;
					}

					continue; // This byte again, as the rest of the record.
				}

				i++;
				continue;
			}

			if (quoted) {
				const close = buffer.indexOf(0x22, i);
				if (close < 0 || close >= read) {
					i = read;
					break;
				}

				quoted = false;
				i = close + 1;
				continue;
			}

			const newline = buffer.indexOf(0x0a, i);
			const end = newline < 0 || newline >= read ? read : newline;
			const quote = buffer.indexOf(0x22, i);
			if (quote >= 0 && quote < end) {
				quoted = true;
				i = quote + 1;
				continue;
			}

			if (end === read) {
				i = read;
				break;
			}

			const recordEnd = position + newline + 1;
			onRecord(start, recordEnd, row);
			start = recordEnd;
			row = 0;
			digits = 0;
			inFirst = true;
			i = newline + 1;
		}

		position += read;
	}
}

/**
 * Streams a results file's whole records (a torn last one left out; `headerOnly`: the first alone) to `onRecord`, the header first
 * (and, first of all, each record's byte range and row number as `scanRecords` finds them to `onRange`).
 * Returns the byte length of the whole records, so a journal can be cut back to it.
 */
export async function streamResults({path, onRecord, onRange, headerOnly = false}: {path: string; onRecord: (fields: string[]) => void; onRange?: (start: number, end: number, row: number) => void; headerOnly?: boolean}): Promise<number> {
	const fd = openSync(path, 'r');
	let end: number;
	try {
		end = headerOnly ? firstRecordEnd(fd) : scanRecords(fd, onRange ?? (() => undefined));
	} finally {
		closeSync(fd);
	}

	if (end === 0) {
		return 0;
	}

	let first = true;
	await parseCsv({
		source: createReadStream(path, {start: 0, end: end - 1, highWaterMark: CHUNK}),
		delimiter: ',',
		onRecord({fields}) {
			if (first) {
				first = false;
				if (fields[0]?.startsWith('\uFEFF')) {
					fields[0] = fields[0].slice(1);
				}
			}

			onRecord(fields);
		},
		onFailure: failure => new InputError({file: path, line: failure.line, code: 'results_unreadable', message: `${failure.message}; it is not a results file altbatch can continue`}),
	});
	return end;
}

const FOUND = Symbol('found');

/** Where the file's first whole record ends (0: it has none): no walk through the rest of it. */
function firstRecordEnd(fd: number): number {
	let end = 0;
	try {
		scanRecords(fd, (_start, recordEnd) => {
			end = recordEnd;
			throw FOUND;
		});
	} catch (error) {
		if (error !== FOUND) {
			throw error;
		}
	}

	return end;
}

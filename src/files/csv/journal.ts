import {closeSync, createReadStream, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, rmSync, statSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {Readable} from 'node:stream';
import {InputError} from '../../errors.js';
import {parseCsv} from './parse.js';
import {csvLine, csvLines} from './stringify.js';
import {replaceWith, temporaryBeside, writeAll, writeFileAtomically} from './write.js';

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

/** A whole CSV file, written to a temporary file and renamed into place (never half a file). */
export function writeCsvFile({path, rows, bom = false}: {path: string; rows: Iterable<readonly string[]>; bom?: boolean}): void {
	writeFileAtomically(path, (function * () {
		if (bom) {
			yield '\uFEFF';
		}

		for (const row of rows) {
			yield csvLine(row);
		}
	})());
}

const CHUNK = 1 << 20;

/** `array` when it has room at `index`, else a copy doubled in length until it has. */
export function withRoom<T extends Float64Array | Uint32Array>(array: T, index: number): T {
	if (index < array.length) {
		return array;
	}

	let size = array.length;
	while (size <= index) {
		size *= 2;
	}

	const grown = new (array.constructor as new (length: number) => T)(size);
	grown.set(array);
	return grown;
}

/**
 * Walks a CSV file's bytes record by record without decoding it: each whole record's byte range
 * and the number in its first field (NaN when it is not one). A record torn at the end (no line
 * break after it) is not reported. Returns the end of the last whole record.
 */
function scanRecords(fd: number, onRecord: (start: number, end: number, row: number) => void): number {
	const buffer = Buffer.allocUnsafe(CHUNK);
	let position = 0;
	let quoted = false;
	let start = 0;
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
 * Streams a results file's whole records (a torn last one left out) to `onRecord`, the header first.
 * Returns the byte length of the whole records, so a journal can be cut back to it.
 */
export async function streamResults({path, onRecord}: {path: string; onRecord: (fields: string[]) => void}): Promise<number> {
	const fd = openSync(path, 'r');
	let end: number;
	try {
		end = scanRecords(fd, () => undefined);
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

/** Reads an ordered byte range of a file through a few cached windows (two streams interleaved cost no extra reads). */
class WindowedReader {
	readonly #fd: number;
	readonly #windows: Array<{start: number; length: number; buffer: Buffer; used: number}> = [];
	#clock = 0;

	constructor(fd: number) {
		this.#fd = fd;
	}

	read(start: number, length: number): Uint8Array {
		for (const window of this.#windows) {
			if (start >= window.start && start + length <= window.start + window.length) {
				window.used = ++this.#clock;
				return window.buffer.subarray(start - window.start, start - window.start + length);
			}
		}

		const size = Math.max(256 * 1024, length);
		let window = this.#windows.length < 4 ? undefined : this.#windows.reduce((a, b) => (a.used <= b.used ? a : b));
		if (!window || window.buffer.length < size) {
			if (window) {
				this.#windows.splice(this.#windows.indexOf(window), 1);
			}

			window = {start: 0, length: 0, buffer: Buffer.allocUnsafe(size), used: 0};
			this.#windows.push(window);
		}

		window.start = start;
		window.length = readSync(this.#fd, window.buffer, 0, window.buffer.length, start);
		window.used = ++this.#clock;
		return window.buffer.subarray(0, Math.min(length, window.length));
	}
}

/**
 * The results file, written as a journal: one synchronous append per finished row, so a kill
 * leaves valid CSV up to the last finished row. Rows land in the order they finish; `finish()`
 * rewrites the file in input order (the last line of each row wins) when they did not.
 */
export class ResultsJournal {
	readonly path: string;
	/** Where the rows go: the file itself, or (staged) a temporary file renamed over it at the end. */
	readonly #target: string;
	readonly #header: readonly string[];
	#fd: number;
	#lastRow = 0;
	#needsRewrite: boolean;
	readonly #durable: boolean;
	#buffered: Array<readonly string[]> = [];

	private constructor({path, target, header, fd, needsRewrite, durable}: {path: string; target: string; header: readonly string[]; fd: number; needsRewrite: boolean; durable: boolean}) {
		this.path = path;
		this.#target = target;
		this.#header = header;
		this.#fd = fd;
		this.#needsRewrite = needsRewrite;
		this.#durable = durable;
	}

	/**
	 * A new results file with just the header. `durable: false` (runs that change nothing) buffers
	 * the appends and writes beside the file, renamed over it only by `finish()`: a run refused
	 * part-way leaves an earlier file as it was.
	 */
	static create({path, header, durable = true}: {path: string; header: readonly string[]; durable?: boolean}): ResultsJournal {
		return unwritable(path, () => {
			if (durable) {
				writeFileAtomically(path, [csvLine(header)]);
				return new ResultsJournal({path, target: path, header, fd: openSync(path, 'a'), needsRewrite: false, durable});
			}

			const target = temporaryBeside(path);
			const fd = openSync(target, 'wx');
			writeAll(fd, csvLine(header));
			return new ResultsJournal({path, target, header, fd, needsRewrite: false, durable});
		});
	}

	/**
	 * Continues a results file: hands every whole record to `onRecord` (the file's header first),
	 * cuts a line torn by a kill, and appends after what is there — under another header, the file
	 * is rewritten first with each row's cells moved to the current columns. Streams: the file is
	 * never held in memory.
	 */
	static async resume({path, header, onRecord}: {path: string; header: readonly string[]; onRecord: (fields: readonly string[], fileHeader: readonly string[]) => void}): Promise<ResultsJournal> {
		if (!existsSync(path) || statSync(path).size === 0) {
			return ResultsJournal.create({path, header});
		}

		let fileHeader: string[] | undefined;
		let records = 0;
		let sameHeader = true;
		let rewrite: {fd: number; temporary: string; lines: string[]; columns: number[]} | undefined;
		let end: number;
		try {
			end = await streamResults({
				path,
				onRecord(fields) {
					if (fileHeader === undefined) {
						fileHeader = fields;
						sameHeader = fields.join('\u0000') === header.join('\u0000');
						if (!sameHeader) {
							const temporary = temporaryBeside(path);
							const columns = columnMap({from: fields, to: header});
							rewrite = {fd: openSync(temporary, 'wx'), temporary, lines: [csvLine(header)], columns};
						}

						return;
					}

					records++;
					onRecord(fields, fileHeader);
					if (rewrite) {
						rewrite.lines.push(csvLine(rewrite.columns.map(i => fields[i] ?? '')));
						if (rewrite.lines.length >= 2000) {
							writeAll(rewrite.fd, rewrite.lines.join(''));
							rewrite.lines = [];
						}
					}
				},
			});
			if (rewrite) {
				writeAll(rewrite.fd, rewrite.lines.join(''));
				closeSync(rewrite.fd);
				replaceWith(rewrite.temporary, path);
			}
		} catch (error) {
			if (rewrite) {
				try {
					closeSync(rewrite.fd);
				} catch {}

				rmSync(rewrite.temporary, {force: true});
			}

			throw error;
		}

		return unwritable(path, () => {
			if (fileHeader === undefined) {
				return ResultsJournal.create({path, header});
			}

			const fd = openSync(path, 'r+');
			if (sameHeader && fstatSync(fd).size > end) {
				ftruncateSync(fd, end); // A line torn by a kill: it would join the next one.
			}

			closeSync(fd);
			return new ResultsJournal({path, target: path, header, fd: openSync(path, 'a'), needsRewrite: records > 0, durable: true});
		});
	}

	/** Appends one finished row (`cells[0]` is its row number) synchronously. */
	write(cells: readonly string[]): void {
		const row = Number(cells[0]);
		if (row < this.#lastRow) {
			this.#needsRewrite = true;
		}

		this.#lastRow = Math.max(this.#lastRow, row);
		if (this.#durable) {
			writeAll(this.#fd, csvLine(cells));
			return;
		}

		this.#buffered.push(cells);
		if (this.#buffered.length >= 2000) {
			this.#flush();
		}
	}

	#flush(): void {
		if (this.#buffered.length > 0) {
			writeAll(this.#fd, csvLines(this.#buffered));
			this.#buffered = [];
		}
	}

	#close(): void {
		if (this.#fd >= 0) {
			closeSync(this.#fd);
			this.#fd = -1;
		}
	}

	/**
	 * Closes the journal without the final rewrite. What it wrote to a staged file (a run that changes nothing)
	 * is dropped, so an earlier file stays as it was; a file written in place stays as written, and --resume reads it as a journal.
	 */
	discard(): void {
		this.#close();
		if (this.#target !== this.path) {
			rmSync(this.#target, {force: true});
		}
	}

	/** Closes the file; rewrites it in input order, one line per row up to `lastRow`, when it is not already. */
	finish({lastRow}: {lastRow: number}): void {
		if (this.#fd < 0) {
			return;
		}

		try {
			this.#flush();
			fsyncSync(this.#fd);
		} catch (error) {
			this.discard();
			throw error;
		}

		this.#close();
		if (this.#needsRewrite) {
			this.#rewriteInOrder(lastRow);
		} else if (this.#target !== this.path) {
			replaceWith(this.#target, this.path);
		}
	}

	/**
	 * The journal in input order: one pass finds each row's last line (by byte range, nothing else
	 * kept per row), a second copies those lines in row order into a temporary file renamed over it.
	 */
	#rewriteInOrder(lastRow: number): void {
		// A row number past the input's last row (or absurd, in a damaged file) is no row of this run.
		const limit = Math.min(lastRow, 100_000_000);
		const fd = openSync(this.#target, 'r');
		try {
			let starts = new Float64Array(1024);
			let lengths = new Uint32Array(1024);
			let highest = 0;
			let header = true;
			scanRecords(fd, (start, end, row) => {
				if (header) {
					header = false;
					return;
				}

				if (!(row >= 2 && row <= limit)) {
					return;
				}

				starts = withRoom(starts, row);
				lengths = withRoom(lengths, row);
				starts[row] = start;
				lengths[row] = end - start;
				highest = Math.max(highest, row);
			});
			const reader = new WindowedReader(fd);
			const headerLine = csvLine(this.#header);
			writeFileAtomically(this.path, (function * () {
				yield headerLine;
				for (let row = 2; row <= highest; row++) {
					const length = lengths[row] ?? 0;
					if (length > 0) {
						yield reader.read(starts[row] ?? 0, length);
					}
				}
			})());
		} finally {
			closeSync(fd);
		}

		if (this.#target !== this.path) {
			rmSync(this.#target, {force: true});
		}
	}
}

/**
 * Where each column of `to` is in `from`, by name: the k-th column of a name in `to` is the k-th of
 * that name in `from` (an input column called `status` before our own), else the last; -1 if none.
 */
export function columnMap({from, to}: {from: readonly string[]; to: readonly string[]}): number[] {
	const seen = new Map<string, number>();
	return to.map(name => {
		const k = seen.get(name) ?? 0;
		seen.set(name, k + 1);
		let at = -1;
		for (let i = 0, found = 0; i < from.length; i++) {
			if (from[i] === name) {
				at = i;
				if (found++ === k) {
					break;
				}
			}
		}

		return at;
	});
}

/** Opening or creating a results file: a failure names the file and says why, as an input error (exit 2). */
function unwritable<T>(path: string, open: () => T): T {
	try {
		return open();
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === undefined || error instanceof InputError) {
			throw error;
		}

		throw resultsUnwritable(path, code);
	}
}

/** The results file (or its lock) cannot be made: why, in words where the code alone says little. */
export function resultsUnwritable(path: string, code: string | undefined): InputError {
	return new InputError({file: path, code: 'results_unwritable', message: `cannot be written (${code ?? 'error'}${code === 'ENAMETOOLONG' ? ': the name is too long' : code === 'ENOENT' ? ': its folder does not exist' : ''})`});
}

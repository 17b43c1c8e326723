import {closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, rmSync, statSync} from 'node:fs';
import {InputError} from '../../errors.js';
import {rewriteInOrder, rowLimit} from './in-order.js';
import {streamResults} from './read-back.js';
import {scanResultRows, type ScannedRow} from './results-scan.js';
import {csvLine} from './stringify.js';
import {LineBuffer, replaceWith, temporaryBeside, writeAll, writeFileAtomically} from './write.js';

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
	/** A file resumed in order: its last row (each row written after must come after it), else 0. */
	#ordered = 0;
	/** A file resumed in order: where the lines written after its rows begin. */
	#appendedFrom = 0;
	/** The lowest row written since the file was opened. */
	#lowestWritten = Number.POSITIVE_INFINITY;
	#needsRewrite: boolean;
	/** Runs that change nothing: lines written 2,000 at a time. */
	readonly #buffered: LineBuffer | undefined;

	private constructor({path, target, header, fd, needsRewrite, durable}: {path: string; target: string; header: readonly string[]; fd: number; needsRewrite: boolean; durable: boolean}) {
		this.path = path;
		this.#target = target;
		this.#header = header;
		this.#fd = fd;
		this.#needsRewrite = needsRewrite;
		this.#buffered = durable ? undefined : new LineBuffer(fd, 2000);
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
	 * Reads a results file to continue it, changing nothing: every whole record to `onRecord` (the
	 * file's header first), and what `continue` needs to know of it.
	 */
	static async read({path, header, onRecord}: {path: string; header: readonly string[]; onRecord: (fields: readonly string[], fileHeader: readonly string[]) => void}): Promise<EarlierJournal> {
		if (!existsSync(path) || statSync(path).size === 0) {
			return {size: 0, end: 0, fileHeader: undefined, records: 0, inOrder: false, highest: 0};
		}

		const size = statSync(path).size;
		let fileHeader: string[] | undefined;
		let records = 0;
		const headerLine = Buffer.from(csvLine(header));
		let ourHeader = false;
		const order = new RowOrder();
		const end = await streamResults({
			path,
			onRange(start, end, row) {
				if (start === 0) {
					ourHeader = end === headerLine.length && sameBytes(path, headerLine);
				} else {
					order.see(row);
				}
			},
			onRecord(fields) {
				if (fileHeader === undefined) {
					fileHeader = fields;
					return;
				}

				records++;
				onRecord(fields, fileHeader);
			},
		});
		return {size, end, fileHeader, records, inOrder: ourHeader && order.inOrder && fileHeader !== undefined && sameColumns(fileHeader, header), highest: order.highest};
	}

	/**
	 * `read` straight from the bytes (results-scan.ts), for a file that starts with our header line:
	 * each row's number, the print of its `width` input cells and its status, in file order.
	 * Undefined when the file is not one that reader takes (nothing handed over then counts): `read` it.
	 */
	static readRows({path, header, width, onRow}: {path: string; header: readonly string[]; width: number; onRow: (row: ScannedRow) => void}): EarlierJournal | undefined {
		const headerLine = Buffer.from(csvLine(header));
		if (!existsSync(path) || statSync(path).size < headerLine.length || !sameBytes(path, headerLine)) {
			return undefined;
		}

		const {size} = statSync(path);
		let records = 0;
		const order = new RowOrder();
		const end = scanResultRows({path, from: headerLine.length, width, onRow(scanned) {
			records++;
			order.see(scanned.row);
			onRow(scanned);
		}});
		return end === undefined ? undefined : {size, end, fileHeader: header, records, inOrder: order.inOrder, highest: order.highest};
	}

	/**
	 * Opens a results file `read` before to append to it: cuts a line torn by a kill, and under
	 * another header rewrites the file first with each row's cells moved to the current columns.
	 */
	static async continue({path, header, earlier}: {path: string; header: readonly string[]; earlier: EarlierJournal}): Promise<ResultsJournal> {
		const size = existsSync(path) ? statSync(path).size : 0;
		if (size !== earlier.size) {
			throw new InputError({file: path, code: 'results_unreadable', message: `changed while the run was starting (${earlier.size} bytes when read, ${size} now); run again with --resume`});
		}

		const {fileHeader} = earlier;
		if (fileHeader === undefined) {
			return ResultsJournal.create({path, header});
		}

		const sameHeader = sameColumns(fileHeader, header);
		if (!sameHeader) {
			await rewriteUnder({path, header, end: earlier.end});
		}

		return unwritable(path, () => {
			const fd = openSync(path, 'r+');
			if (sameHeader && fstatSync(fd).size > earlier.end) {
				ftruncateSync(fd, earlier.end); // A line torn by a kill: it would join the next one.
			}

			closeSync(fd);
			const journal = new ResultsJournal({path, target: path, header, fd: openSync(path, 'a'), needsRewrite: earlier.records > 0, durable: true});
			if (earlier.inOrder) {
				// Rows in order already: the rewrite is needed only if a row comes before the last one
				// there (or is it), or the input ends before it (see `finish`).
				journal.#needsRewrite = false;
				journal.#lastRow = earlier.highest;
				journal.#ordered = earlier.highest;
				journal.#appendedFrom = earlier.end;
			}

			return journal;
		});
	}

	/** Appends one finished row (`cells[0]` is its row number) synchronously. */
	write(cells: readonly string[]): void {
		const row = Number(cells[0]);
		if (row < this.#lastRow || (this.#ordered > 0 && row <= this.#lastRow)) {
			this.#needsRewrite = true;
		}

		this.#lastRow = Math.max(this.#lastRow, row);
		this.#lowestWritten = Math.min(this.#lowestWritten, row);
		if (this.#buffered) {
			this.#buffered.add(csvLine(cells));
			return;
		}

		writeAll(this.#fd, csvLine(cells));
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
			this.#buffered?.flush();
			fsyncSync(this.#fd);
		} catch (error) {
			this.discard();
			throw error;
		}

		this.#close();
		if (this.#needsRewrite || (this.#ordered > 0 && this.#lastRow > rowLimit(lastRow))) {
			// Resumed in order and only later rows written since (out of order): those alone are put in order.
			const inOrder = this.#ordered > 0 && this.#lowestWritten > this.#ordered && this.#lastRow <= rowLimit(lastRow) ? this.#appendedFrom : 0;
			rewriteInOrder({journal: this.#target, path: this.path, header: this.#header, lastRow, inOrder});
		} else if (this.#target !== this.path) {
			replaceWith(this.#target, this.path);
		}
	}
}

/**
 * Whether a results file's rows are already what `finish` would rewrite them to: each row after the
 * one before (once each), and the highest row.
 */
class RowOrder {
	inOrder = true;
	highest = 0;

	see(row: number): void {
		if (Number.isInteger(row) && row >= 2 && row > this.highest) {
			this.highest = row;
		} else {
			this.inOrder = false;
		}
	}
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
	return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** What `ResultsJournal.read` learned of a results file, for `continue`. */
export type EarlierJournal = {
	/** The file's size when read (0: none, or empty). */
	readonly size: number;
	/** The byte length of its whole records (a torn last line is past it). */
	readonly end: number;
	readonly fileHeader: readonly string[] | undefined;
	/** Records after the header. */
	readonly records: number;
	/** Our header line, then rows in order, once each. */
	readonly inOrder: boolean;
	/** Its highest row. */
	readonly highest: number;
};

/** A results file under another header, rewritten with each row's cells moved to `header`'s columns (its torn last line dropped). */
async function rewriteUnder({path, header, end}: {path: string; header: readonly string[]; end: number}): Promise<void> {
	const temporary = temporaryBeside(path);
	const fd = openSync(temporary, 'wx');
	try {
		let columns: number[] | undefined;
		let lines = [csvLine(header)];
		const read = await streamResults({path, onRecord(fields) {
			if (columns === undefined) {
				columns = columnMap({from: fields, to: header});
				return;
			}

			lines.push(csvLine(columns.map(i => fields[i] ?? '')));
			if (lines.length >= 2000) {
				writeAll(fd, lines.join(''));
				lines = [];
			}
		}});
		if (read !== end) {
			throw new InputError({file: path, code: 'results_unreadable', message: 'changed while the run was starting; run again with --resume'});
		}

		writeAll(fd, lines.join(''));
		fsyncSync(fd); // Synced before it is renamed over the results: a power cut leaves one or the other.
		closeSync(fd);
	} catch (error) {
		try {
			closeSync(fd);
		} catch {}

		rmSync(temporary, {force: true});
		throw error;
	}

	replaceWith(temporary, path);
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

/** Whether the file at `path` starts with `bytes`. */
function sameBytes(path: string, bytes: Buffer): boolean {
	const fd = openSync(path, 'r');
	try {
		const read = Buffer.alloc(bytes.length);
		return readSync(fd, read, 0, bytes.length, 0) === bytes.length && read.equals(bytes);
	} finally {
		closeSync(fd);
	}
}

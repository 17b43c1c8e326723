import {closeSync, openSync, existsSync} from 'node:fs';
import {readFile, rm} from 'node:fs/promises';
import {Readable} from 'node:stream';
import {parseCsv} from './parse.js';
import {csvLine, csvLines} from './stringify.js';
import {writeAll, writeFileAtomically} from './write.js';

/** A results row read back from a file, by column name (the `row` column as a number). */
export type StoredRow = {readonly row: number; readonly fields: readonly string[]; readonly values: ReadonlyMap<string, string>};

/**
 * Reads a results file as a journal: the last line written for a row wins, and a line torn by a
 * kill (no line break after it, or an unclosed quote) is dropped.
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

		// Last wins: our result columns come after the input's, so an input column that happens to
		// be called "status" cannot pass for the row's status.
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

/**
 * The results file, written as a journal: one synchronous append per finished row, so a kill
 * leaves valid CSV up to the last finished row. Rows land in the order they finish; `finish()`
 * rewrites the file in input order when they did not.
 */
export class ResultsJournal {
	readonly path: string;
	readonly #header: readonly string[];
	#fd: number;
	#lastRow = 0;
	#needsRewrite: boolean;
	readonly #durable: boolean;
	#buffered: Array<readonly string[]> = [];

	private constructor({path, header, fd, needsRewrite, durable}: {path: string; header: readonly string[]; fd: number; needsRewrite: boolean; durable: boolean}) {
		this.path = path;
		this.#header = header;
		this.#fd = fd;
		this.#needsRewrite = needsRewrite;
		this.#durable = durable;
	}

	/**
	 * A new results file with just the header. `durable: false` buffers the appends (for runs
	 * that change nothing, where speed matters more than surviving a kill).
	 */
	static create({path, header, durable = true}: {path: string; header: readonly string[]; durable?: boolean}): ResultsJournal {
		writeFileAtomically(path, [csvLine(header)]);
		return new ResultsJournal({path, header, fd: openSync(path, 'a'), needsRewrite: false, durable});
	}

	/**
	 * Continues a results file: keeps the rows `keep` accepts (rewritten under the current header),
	 * so the file is whole again before anything new is appended.
	 */
	static async resume({path, header, keep}: {path: string; header: readonly string[]; keep: (row: StoredRow) => boolean}): Promise<{journal: ResultsJournal; kept: Map<number, StoredRow>}> {
		const kept = new Map<number, StoredRow>();
		let sameHeader = true;
		if (existsSync(path)) {
			const previous = await readResults(path);
			sameHeader = previous.header.join('\u0000') === header.join('\u0000');
			for (const row of [...previous.rows.values()].sort((a, b) => a.row - b.row)) {
				if (keep(row)) {
					kept.set(row.row, row);
				}
			}
		}

		const lines = function * () {
			yield csvLine(header);
			for (const row of kept.values()) {
				yield csvLine(sameHeader ? row.fields : header.map(name => name === 'row' ? String(row.row) : row.values.get(name) ?? ''));
			}
		};

		writeFileAtomically(path, lines());
		const journal = new ResultsJournal({path, header, fd: openSync(path, 'a'), needsRewrite: kept.size > 0, durable: true});
		return {journal, kept};
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

	/** Closes and removes the file (a run refused part-way through). */
	async discard(): Promise<void> {
		if (this.#fd >= 0) {
			closeSync(this.#fd);
			this.#fd = -1;
		}

		await rm(this.path, {force: true});
	}

	/** Closes the file as it is, without the final rewrite (writing has failed): --resume reads it as a journal. */
	abandon(): void {
		if (this.#fd >= 0) {
			closeSync(this.#fd);
			this.#fd = -1;
		}
	}

	/** Closes the file; rewrites it in input order, one line per row up to `lastRow`, when it is not already. */
	async finish({lastRow}: {lastRow: number}): Promise<void> {
		if (this.#fd < 0) {
			return;
		}

		this.#flush();
		closeSync(this.#fd);
		this.#fd = -1;
		if (!this.#needsRewrite) {
			return;
		}

		const {rows} = await readResults(this.path);
		const header = this.#header;
		const ordered = [...rows.values()].filter(row => row.row <= lastRow).sort((a, b) => a.row - b.row);
		writeFileAtomically(this.path, (function * () {
			yield csvLine(header);
			for (const row of ordered) {
				yield csvLine(row.fields);
			}
		})());
	}
}

import {closeSync, existsSync, fsyncSync, openSync, rmSync} from 'node:fs';
import {streamResults} from './csv/read-back.js';
import {csvLine} from './csv/stringify.js';
import {replaceWith, temporaryBeside, writeAll} from './csv/write.js';
import {AltbatchError} from '../errors.js';
import {neutralize, unneutralize} from '../rows/formula.js';
import {isXlsx, readXlsx, XlsxWriter} from './xlsx.js';

/**
 * Columns of a results file whose text comes from the server: guarded against formulas in the CSV
 * (a leading `'`), plain text in a workbook, where every cell is a string and none is ever run.
 */
const SERVER_COLUMNS: ReadonlySet<string> = new Set(['error_code', 'error_message', 'previous_display_name', 'previous_alt_text']);

/** The CSV journal an .xlsx results file is written through: `<out>.journal.csv`, beside it. */
export function journalOf(out: string): string {
	return `${out}.journal.csv`;
}

/** Each cell of a row, with the server's columns passed through `map`. */
function mapped(fields: readonly string[], server: ReadonlySet<number>, map: (text: string) => string): string[] {
	return fields.map((field, i) => server.has(i) ? map(field) : field);
}

/**
 * A results workbook's records as its CSV journal holds them: the header, then every row, the
 * server's columns guarded again (the workbook holds them as plain text). The first sheet, or the
 * one named `sheet`; the empty rows a workbook leaves out are no rows (a results row always has
 * its row number).
 */
export async function readSheetResults({path, sheet, onRecord}: {path: string; sheet: string | undefined; onRecord: (fields: string[]) => void}): Promise<void> {
	let server: ReadonlySet<number> | undefined;
	await readXlsx({path, sheet, onRecord({fields}) {
		if (server === undefined) {
			server = new Set(fields.flatMap((name, i) => SERVER_COLUMNS.has(name) ? [i] : []));
			onRecord(fields);
			return;
		}

		if (fields.some(field => field !== '')) {
			onRecord(mapped(fields, server, neutralize));
		}
	}});
}

/**
 * Results asked for as an .xlsx workbook. The run writes them as it always does — a CSV journal,
 * a synchronous append per finished row, put in input order at the end — beside the workbook
 * (`<out>.journal.csv`), and only then writes the workbook whole: to a temporary file, synced,
 * renamed over `--out`, and the journal removed. A kill at any moment leaves the journal (every
 * finished row) and the earlier workbook as it was; `--resume` goes on from the journal, or, when
 * none is left, from the workbook (read back into a journal first).
 */
export class SheetResults {
	readonly path: string;
	readonly journal: string;
	#converted = false;

	private constructor(path: string) {
		this.path = path;
		this.journal = journalOf(path);
	}

	/** For an `--out` ending in .xlsx. */
	static of(out: string): SheetResults | undefined {
		return isXlsx(out) ? new SheetResults(out) : undefined;
	}

	/**
	 * Before the run: a journal left by a killed run is the newest results, kept as it is; else
	 * `--resume` and a dry run (which checks what it would replace) read the workbook into one.
	 */
	async prepare({resume, dryRun}: {resume: boolean; dryRun: boolean}): Promise<void> {
		if (existsSync(this.journal) || !existsSync(this.path) || !(resume || dryRun)) {
			return;
		}

		const temporary = temporaryBeside(this.journal);
		const fd = openSync(temporary, 'wx');
		try {
			try {
				await readSheetResults({path: this.path, sheet: undefined, onRecord(fields) {
					writeAll(fd, csvLine(fields));
				}});
				fsyncSync(fd);
			} finally {
				closeSync(fd);
			}

			replaceWith(temporary, this.journal);
			this.#converted = true;
		} catch (error) {
			rmSync(temporary, {force: true});
			throw error;
		}
	}

	/** The run was refused before it began: a journal made only from the workbook goes again. */
	forget(): void {
		if (this.#converted) {
			rmSync(this.journal, {force: true});
			this.#converted = false;
		}
	}

	/** After the journal is finished in input order: the workbook written whole, then the journal removed. */
	async publish(): Promise<void> {
		const writer = new XlsxWriter({path: this.path, sheet: 'Results'});
		try {
			let server: ReadonlySet<number> | undefined;
			await streamResults({path: this.journal, onRecord(fields) {
				if (server === undefined) {
					server = new Set(fields.flatMap((name, i) => SERVER_COLUMNS.has(name) ? [i] : []));
					writer.add(fields);
					return;
				}

				writer.add(mapped(fields, server, unneutralize));
			}});
			await writer.finish();
		} catch (error) {
			writer.discard();
			const why = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
			throw new AltbatchError('internal', 'results_not_written', `${this.path} could not be written (${why}); every row's result is in ${this.journal}: free the space and run again with --resume`, {cause: error});
		}

		rmSync(this.journal, {force: true});
	}
}

import {withRoom} from '../files/csv/in-order.js';
import {columnMap, ResultsJournal} from '../files/csv/journal.js';
import {streamResults} from '../files/csv/read-back.js';
import {statSync} from 'node:fs';
import {UsageError} from '../errors.js';
import {hash53} from '../rows/hash.js';
import {jobKey, toJob, type Columns, type Job} from '../rows/job.js';
import {DONE_STATUSES, type Outcome} from '../rows/result.js';

/** A row's print: a 53-bit hash, never 0 (0 marks "no row"). */
function print(text: string): number {
	return hash53(text) + 1;
}

const NONE = '\u0001';

/** What a row asks the site for: the same edit prints the same. */
function editPrint(job: Job): number {
	return print([job.assetId, job.localeId ?? NONE, job.displayName ?? NONE, job.altText ?? NONE, job.siteId ?? NONE, job.base?.displayName ?? NONE, job.base?.altText ?? NONE].join('\u0000'));
}

function cellsPrint(cells: readonly string[]): number {
	return print(`${cells.length}\u0000${cells.join('\u0000')}`);
}

/**
 * Per input row, a few numbers the run checks later rows against (8 bytes each, not the row):
 * its cells (a second read must find the same file), its edit and its asset and locale (what
 * `--resume` compares with the results file).
 */
export class InputPrints {
	#cells = new Float64Array(1024);
	#edits = new Float64Array(1024);
	#keys = new Float64Array(1024);
	#lastRow = 0;

	get lastRow(): number {
		return this.#lastRow;
	}

	add(job: Job): void {
		this.#cells = withRoom(this.#cells, job.row);
		this.#edits = withRoom(this.#edits, job.row);
		this.#keys = withRoom(this.#keys, job.row);
		this.#cells[job.row] = cellsPrint(job.cells);
		this.#edits[job.row] = job.problem ? 0 : editPrint(job);
		this.#keys[job.row] = job.problem ? 0 : print(jobKey(job));
		this.#lastRow = Math.max(this.#lastRow, job.row);
	}

	/** Whether `job`, read again, is the row that was read first. */
	same(job: Job): boolean {
		return job.row <= this.#lastRow && this.#cells[job.row] === cellsPrint(job.cells);
	}

	cells(row: number): number {
		return this.#cells[row] ?? 0;
	}

	edit(row: number): number {
		return this.#edits[row] ?? 0;
	}

	key(row: number): number {
		return this.#keys[row] ?? 0;
	}
}

const REDO = 0;
const UPDATED = 1;
const UNCHANGED = 2;

/**
 * `--resume`: what the results file says about each input row, kept as one byte per row. A row is
 * carried over when its last result is `updated` or `unchanged` and it asks for the same edit now;
 * every other row is redone — unless a later row of the same asset and locale is carried over: the
 * site already holds that later row's values, and the last row wins, so the earlier row is
 * `skipped` with `superseded` instead of being sent over them.
 */
export class ResumePlan {
	readonly #status: Uint8Array;
	/** Carried rows whose other cells were edited since: their result cells, to write under the new cells. */
	readonly #refresh: Map<number, string[]>;
	/** For each asset and locale with a row to redo: its last carried row. */
	readonly #latest = new Map<number, number>();
	readonly #prints: InputPrints;
	readonly carried: number;

	private constructor({status, refresh, prints}: {status: Uint8Array; refresh: Map<number, string[]>; prints: InputPrints}) {
		this.#status = status;
		this.#refresh = refresh;
		this.#prints = prints;
		const redoKeys = new Set<number>();
		let carried = 0;
		for (let row = 2; row <= prints.lastRow; row++) {
			if (status[row] === REDO) {
				if (prints.edit(row) !== 0) {
					redoKeys.add(prints.key(row));
				}
			} else {
				carried++;
			}
		}

		this.carried = carried;
		if (redoKeys.size > 0) {
			for (let row = 2; row <= prints.lastRow; row++) {
				if (status[row] !== REDO && redoKeys.has(prints.key(row))) {
					this.#latest.set(prints.key(row), row);
				}
			}
		}
	}

	/**
	 * Reads the results file at `path` (streamed) against the input's prints and opens it to go
	 * on: the journal appends after what is there.
	 */
	static async open({path, header, columns, prints}: {path: string; header: readonly string[]; columns: Columns; prints: InputPrints}): Promise<{plan: ResumePlan; journal: ResultsJournal}> {
		const status = new Uint8Array(prints.lastRow + 1);
		const refresh = new Map<number, string[]>();
		const width = columns.header.length;
		let mapped: {from: readonly string[]; cells: number[]; status: number; tail: number[]} | undefined;
		const journal = await ResultsJournal.resume({
			path,
			header,
			onRecord(fields, fileHeader) {
				if (mapped?.from !== fileHeader) {
					const at = columnMap({from: fileHeader, to: header});
					mapped = {from: fileHeader, cells: at.slice(1, 1 + width), status: at[1 + width] ?? -1, tail: at.slice(1 + width)};
				}

				const row = Number(fields[0]);
				if (!Number.isInteger(row) || row < 2 || row > prints.lastRow) {
					return;
				}

				const previous = fields[mapped.status] ?? '';
				const cells = mapped.cells.map(i => fields[i] ?? '');
				// The same cells as the input row make the same job: its edit need not be read again.
				const sameCells = cellsPrint(cells) === prints.cells(row);
				let state = REDO;
				if (DONE_STATUSES.has(previous) && prints.edit(row) !== 0) {
					const before = sameCells ? undefined : toJob({columns, fields: cells, row, line: 0});
					if (!before || (!before.problem && editPrint(before) === prints.edit(row))) {
						state = previous === 'unchanged' ? UNCHANGED : UPDATED;
					}
				}

				status[row] = state;
				if (state !== REDO && !sameCells) {
					refresh.set(row, mapped.tail.map(i => fields[i] ?? ''));
				} else {
					refresh.delete(row);
				}
			},
		});
		return {plan: new ResumePlan({status, refresh, prints}), journal};
	}

	/** How `job`'s row ended before, when it is carried over. */
	carriedStatus(job: Job): 'updated' | 'unchanged' | undefined {
		const state = this.#status[job.row];
		return state === UPDATED ? 'updated' : state === UNCHANGED ? 'unchanged' : undefined;
	}

	/** A carried row whose other cells changed: its line again, with today's cells and its old result. */
	refreshedLine(job: Job): string[] | undefined {
		const tail = this.#refresh.get(job.row);
		return tail ? [String(job.row), ...job.cells, ...tail] : undefined;
	}

	/** The outcome of a row to redo that a later, carried row of the same asset and locale overrides. */
	superseded(job: Job): Outcome | undefined {
		const later = this.#latest.get(this.#prints.key(job.row));
		return later !== undefined && later > job.row ? {status: 'skipped', errorCode: 'superseded', errorMessage: `row ${later}, later in the file for the same asset and locale, is already applied; the last row wins`, attempts: 0} : undefined;
	}
}

type OutFile = {readonly kind: 'none'} | {readonly kind: 'not_results'} | {readonly kind: 'dry_results'} | {readonly kind: 'real_results'; readonly why: string};

/**
 * What `--out` holds now: nothing (absent or empty), no results (no `row` and `status` columns —
 * nor `attempts`, to tell real from dry — or not readable as CSV), or results — real ones when a row is `updated` or had a request
 * made for it (`rows: false` reads the header only and calls any results real).
 */
async function inspectOut(path: string, {rows}: {rows: boolean}): Promise<OutFile> {
	try {
		const stats = statSync(path);
		if (!stats.isFile() || stats.size === 0) {
			return {kind: 'none'};
		}
	} catch {
		return {kind: 'none'}; // Not there: nothing to lose.
	}

	const stop = new Error('found');
	let found: OutFile | undefined;
	let status = -1;
	let attempts = -1;
	try {
		await streamResults({
			path,
			onRecord(fields) {
				if (status < 0) {
					status = fields.lastIndexOf('status');
					attempts = fields.lastIndexOf('attempts');
					// Results start with `row` and have a `status`; telling real from dry takes `attempts` too.
					if (fields[0] !== 'row' || status < 0 || (rows && attempts < 0)) {
						found = {kind: 'not_results'};
						throw stop;
					}

					if (!rows) {
						found = {kind: 'real_results', why: 'results'};
						throw stop;
					}

					return;
				}

				const value = fields[status] ?? '';
				if (value === 'updated' || Number(fields[attempts] ?? '0') > 0) {
					found = {kind: 'real_results', why: `row ${fields[0] ?? '?'} is ${value}${value === 'updated' ? '' : ` after ${fields[attempts]} request(s)`}`};
					throw stop;
				}
			},
		});
	} catch (error) {
		if (error !== stop) {
			return {kind: 'not_results'};
		}
	}

	return found ?? (status < 0 ? {kind: 'not_results'} : {kind: 'dry_results'});
}

/**
 * A dry run writes its results only over a file no real run's outcomes would be lost from: a dry
 * run's own results (no row `updated`, no request made for any row). Anything else — a real run's
 * results, undo's only way back, or a file that is no results file — is refused (exit 2).
 */
export async function assertDryRunMayReplace(path: string): Promise<void> {
	const out = await inspectOut(path, {rows: true});
	if (out.kind === 'none' || out.kind === 'dry_results') {
		return;
	}

	const why = out.kind === 'not_results' ? 'is not a results file (no row, status and attempts columns)' : `holds a real run's results (${out.why})`;
	throw new UsageError(`--out ${JSON.stringify(path)} ${why}: a dry run never replaces it. A dry run's results go to <jobs>.dry-run.csv by default; name another --out`, 'out_holds_real_results');
}

/** `--resume` goes on from a results file (or none): any other file would be rewritten under the results' columns, so it is refused (exit 2). */
export async function assertMayResume(path: string): Promise<void> {
	if ((await inspectOut(path, {rows: false})).kind === 'not_results') {
		throw new UsageError(`--out ${JSON.stringify(path)} is not a results file (no row and status columns): --resume goes on from an earlier run's results and would rewrite it. Name that run's results, or drop --resume`, 'out_not_results');
	}
}

import {withRoom} from '../files/csv/in-order.js';
import {columnMap, ResultsJournal, type EarlierJournal} from '../files/csv/journal.js';
import {streamResults} from '../files/csv/read-back.js';
import {hash53, hash53Fields} from '../rows/hash.js';
import {jobKey, toJob, type Columns, type Job} from '../rows/job.js';
import type {Outcome} from '../rows/result.js';

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
	return hash53Fields(cells) + 1;
}

/** A row `--resume` sees as valid and carries over as it is: its edit's print is not needed. */
const VALID = -1;

/**
 * Per input row, a few numbers the run checks later rows against (8 bytes each, not the row): its
 * cells (a second read must find the same file); with `--resume`, its edit — printed only when the
 * earlier results hold the row done with other cells (what the plan compares), else just whether
 * it is a valid one — and its asset and locale, from the first row to redo on (a carried row
 * before every row to redo supersedes none).
 */
export class InputPrints {
	#cells = new Float64Array(1024);
	#edits = new Float64Array(0);
	#keys = new Float64Array(0);
	#lastRow = 0;
	/** With `--resume`, whether a row to redo was seen yet. */
	#redoSeen = false;
	readonly #earlier: EarlierResults | undefined;

	constructor(earlier?: EarlierResults) {
		this.#earlier = earlier;
		if (earlier) {
			// As many rows as the earlier results reached, to begin with: not grown a doubling at a time.
			const rows = Math.max(1024, earlier.rowsHint);
			this.#cells = new Float64Array(rows);
			this.#edits = new Float64Array(rows);
			this.#keys = new Float64Array(rows);
		}
	}

	get lastRow(): number {
		return this.#lastRow;
	}

	add(job: Job): void {
		const {row} = job;
		if (row >= this.#cells.length) {
			this.#cells = withRoom(this.#cells, row);
			this.#edits = this.#earlier ? withRoom(this.#edits, row) : this.#edits;
			this.#keys = this.#earlier ? withRoom(this.#keys, row) : this.#keys;
		}

		const cells = cellsPrint(job.cells);
		this.#cells[row] = cells;
		this.#lastRow = Math.max(this.#lastRow, row);
		const earlier = this.#earlier;
		if (!earlier || job.problem) {
			return;
		}

		const done = earlier.status(row) !== REDO;
		const asIs = done && earlier.cells(row) === cells;
		this.#edits[row] = done && !asIs ? editPrint(job) : VALID;
		this.#redoSeen ||= !asIs;
		if (this.#redoSeen) {
			this.#keys[row] = print(jobKey(job));
		}
	}

	/** Whether `job`, read again, is the row that was read first. */
	same(job: Job): boolean {
		return job.row <= this.#lastRow && this.#cells[job.row] === cellsPrint(job.cells);
	}

	cells(row: number): number {
		return this.#cells[row] ?? 0;
	}

	/** With `--resume`: 0 for no valid edit, else its print (or `VALID` when it was not needed). */
	edit(row: number): number {
		return this.#edits[row] ?? 0;
	}

	/** With `--resume`: the print of the row's asset and locale (0 before the first row to redo, and for no valid edit). */
	key(row: number): number {
		return this.#keys[row] ?? 0;
	}
}

const REDO = 0;
const UPDATED = 1;
const UNCHANGED = 2;

/** A result's status as `--resume` reads it: done (updated, unchanged) or to redo. */
function stateOf(status: string): number {
	return status === 'updated' ? UPDATED : status === 'unchanged' ? UNCHANGED : REDO;
}

/** Past this, a row number is held in a map rather than the arrays (a damaged file's absurd row must not take a gigabyte). */
const DENSE_ROWS = 1 << 20;

/**
 * `--resume`, read before the input is checked: how each row of the earlier results ended (one
 * byte: redo, updated or unchanged — the last line of a row wins) and, for a row done, the print
 * of the cells it had. What the journal needs to go on from the file comes with it.
 */
export class EarlierResults {
	readonly journal: EarlierJournal;
	readonly #path: string;
	readonly #header: readonly string[];
	readonly #states: RowStates;

	private constructor({journal, path, header, states}: {journal: EarlierJournal; path: string; header: readonly string[]; states: RowStates}) {
		this.journal = journal;
		this.#path = path;
		this.#header = header;
		this.#states = states;
	}

	/**
	 * Reads the results file at `path` (streamed; nothing of it changed) as `header`'s columns,
	 * `width` of them the input's: straight from its bytes when it is as we write it, else through
	 * csv-parse (`fast: false`: always).
	 */
	static async read({path, header, width, fast = true}: {path: string; header: readonly string[]; width: number; fast?: boolean}): Promise<EarlierResults> {
		const quick = new RowStates();
		const journal = fast ? ResultsJournal.readRows({path, header, width, onRow({row, cells, status}) {
			const state = stateOf(status);
			quick.set(row, state, state === REDO ? 0 : cells + 1);
		}}) : undefined;
		if (journal) {
			return new EarlierResults({journal, path, header, states: quick});
		}

		const states = new RowStates();
		let mapped: Mapped | undefined;
		const read = await ResultsJournal.read({
			path,
			header,
			onRecord(fields, fileHeader) {
				mapped = mapped?.from === fileHeader ? mapped : mapColumns(fileHeader, header, width);
				const state = stateOf(fields[mapped.status] ?? '');
				states.set(Number(fields[0]), state, state === REDO ? 0 : cellsPrint(mapped.cells.map(i => fields[i] ?? '')));
			},
		});
		return new EarlierResults({journal: read, path, header, states});
	}

	/** A size for arrays with a place per input row: the rows the earlier results reached (an absurd row number in them aside). */
	get rowsHint(): number {
		return Math.min(this.journal.highest, this.journal.records + 1) + 1;
	}

	/** How `row` ended before: REDO, or UPDATED/UNCHANGED. */
	status(row: number): number {
		return this.#states.status(row);
	}

	/** The print of the cells `row` had when it was done (0 when it was not). */
	cells(row: number): number {
		return this.#states.cells(row);
	}

	/** Whether `row`, read now with these prints, may be carried over: it was done, and it is a valid edit now. */
	mayCarry(row: number, prints: InputPrints): boolean {
		return this.status(row) !== REDO && prints.edit(row) !== 0;
	}

	/** Whether `row` is carried over as it is: done before, with the very cells it has now. */
	carriesAsIs(row: number, prints: InputPrints): boolean {
		return this.mayCarry(row, prints) && this.cells(row) === prints.cells(row);
	}

	/**
	 * Rows done before whose cells were edited since, read again: the edit each asked for then
	 * (0 when it was no valid edit) and its result cells, to write under today's cells.
	 */
	async #look(rows: ReadonlySet<number>, columns: Columns): Promise<Map<number, {edit: number; tail: string[]}>> {
		const looked = new Map<number, {edit: number; tail: string[]}>();
		let mapped: Mapped | undefined;
		let first = true;
		await streamResults({path: this.#path, onRecord: fields => {
			if (first) {
				first = false;
				mapped = mapColumns(fields, this.#header, columns.header.length);
				return;
			}

			const row = Number(fields[0]);
			if (!mapped || !rows.has(row)) {
				return;
			}

			const before = toJob({columns, fields: mapped.cells.map(i => fields[i] ?? ''), row, line: 0});
			looked.set(row, {edit: before.problem ? 0 : editPrint(before), tail: mapped.tail.map(i => fields[i] ?? '')});
		}});
		return looked;
	}

	/**
	 * The plan: each input row (as `prints` holds it) carried over when it was done and asks for
	 * the same edit now — the same cells, or other cells edited (read again here) — else redone.
	 */
	async plan({prints, columns}: {prints: InputPrints; columns: Columns}): Promise<ResumePlan> {
		const status = new Uint8Array(prints.lastRow + 1);
		const edited = new Set<number>();
		for (let row = 2; row <= prints.lastRow; row++) {
			if (this.carriesAsIs(row, prints)) {
				status[row] = this.status(row);
			} else if (this.mayCarry(row, prints)) {
				edited.add(row);
			}
		}

		const refresh = new Map<number, string[]>();
		if (edited.size > 0) {
			for (const [row, {edit, tail}] of await this.#look(edited, columns)) {
				if (edit !== 0 && edit === prints.edit(row)) {
					status[row] = this.status(row);
					refresh.set(row, tail);
				}
			}
		}

		return new ResumePlan({status, refresh, prints});
	}
}

/** Per row, the last line's state (a byte) and cells print: dense arrays, and a map for absurd row numbers. */
class RowStates {
	#status = new Uint8Array(1024);
	#cells = new Float64Array(1024);
	readonly #sparse = new Map<number, {status: number; cells: number}>();
	#records = 0;

	set(row: number, status: number, cells: number): void {
		this.#records++;
		if (!Number.isInteger(row) || row < 2) {
			return;
		}

		if (row >= this.#status.length && row > (2 * this.#records) + DENSE_ROWS) {
			this.#sparse.set(row, {status, cells});
			return;
		}

		if (this.#sparse.size > 0) {
			this.#sparse.delete(row); // The last line of a row wins.
		}

		if (row >= this.#status.length) {
			this.#status = withRoom(this.#status, row);
			this.#cells = withRoom(this.#cells, row);
		}

		this.#status[row] = status;
		this.#cells[row] = cells;
	}

	status(row: number): number {
		const sparse = this.#sparse.size > 0 ? this.#sparse.get(row) : undefined;
		return sparse ? sparse.status : this.#status[row] ?? REDO;
	}

	cells(row: number): number {
		const sparse = this.#sparse.size > 0 ? this.#sparse.get(row) : undefined;
		return sparse ? sparse.cells : this.#cells[row] ?? 0;
	}
}

/** Where a results file's columns are for today's: the input's cells, our status, the result columns after them. */
type Mapped = {readonly from: readonly string[]; readonly cells: number[]; readonly status: number; readonly tail: number[]};

function mapColumns(from: readonly string[], header: readonly string[], width: number): Mapped {
	const at = columnMap({from, to: header});
	return {from, cells: at.slice(1, 1 + width), status: at[1 + width] ?? -1, tail: at.slice(1 + width)};
}

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

	constructor({status, refresh, prints}: {status: Uint8Array; refresh: Map<number, string[]>; prints: InputPrints}) {
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

	/** How row `row` ended before, when it is carried over. */
	carriedStatus({row}: {readonly row: number}): 'updated' | 'unchanged' | undefined {
		const state = this.#status[row];
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

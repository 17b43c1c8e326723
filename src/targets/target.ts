import type {Session} from '../engine/session.js';
import type {RunLedger} from '../ledger/ledger.js';
import type {LedgerView} from '../ledger/view.js';
import type {StoredWrite} from '../ledger/read.js';
import {neutralize} from '../rows/formula.js';
import {EDIT_FIELDS, withProblem, type Columns, type EditField, type Job, type JobFields, type RowProblem, type ValidJob} from '../rows/job.js';
import type {Outcome} from '../rows/result.js';
import type {SiteShare} from '../engine/share.js';

/**
 * The seam between a run and what its rows write to (issue 17): assets (targets/assets/) and CMS
 * items (targets/cms/). Everything else — reading the file, routing rows to lanes, the budget,
 * retries, results, ledger, report — is the engine's, written once (engine/pipeline.ts,
 * engine/lane.ts). A target of a lane:
 *
 * - keys its rows (`key`): rows of one key are one thing on the site (an asset, an item), decided
 *   in file order, the last row winning per field;
 * - reads the site's current values in pages of 100: up front in `open` (assets, with a
 *   prefetch), or once the file is read in `flush` (CMS), or one read before a row's write;
 * - decides each field three-way (rows/decide.ts; CMS: cms/merge.ts);
 * - writes: one PATCH per asset and locale as rows come (`take`), or up to 100 items a request once
 *   the file is read (`flush`);
 * - and says how a write is undone (`TargetUndo`): each result carries the value before
 *   (`previous`), which undo turns back into a row whose edit is that value and whose base is what
 *   was written.
 */
export interface RowTarget<J extends ValidJob> {
	/** Rows with the same key are written together (one item) or in file order (one asset). */
	key(job: J): string;
	/** Once the lane's token is known, before the first row: what the target reads up front. */
	open(start: TargetStart): Promise<void>;
	/**
	 * A row, as the file is read; `done` is called exactly once with its end. The promise, when
	 * there is one, is the target's room for the next row: the reader waits for it.
	 */
	take(job: J, done: (outcome: Outcome) => void): Promise<void> | void;
	/** Once the file is read: every row taken has ended when this resolves. */
	flush(): Promise<void>;
}

/** What a lane knows once its token is introspected, for its targets' `open`. */
export type TargetStart = {
	/** Read the site's current values before the first row (`--site`, `--prefetch`, and the file has rows for this target). */
	readonly prefetch: boolean;
	/** The locales the lane's rows use. */
	readonly locales: ReadonlySet<string>;
	/** The sites (undefined: runs that named none) whose pending writes of earlier runs this lane settles. */
	readonly settles: ReadonlySet<string | undefined>;
	/** Introspect vouched for the token: its first write need not go alone. */
	readonly vouched: boolean;
};

/** What a target needs of its lane: the token's session, the site's share of it, the token's scopes; what it counts. */
export type TargetLane = {
	readonly session: Session;
	readonly share: SiteShare;
	readonly site: string | undefined;
	/** The token's scopes, when introspect said them. */
	readonly scopes: readonly string[] | undefined;
	/** A real run's ledger: every write is on record before it leaves. */
	readonly ledger?: RunLedger | undefined;
	/** The earlier runs on record: pending writes to settle, and what altbatch last wrote (our own writes are the base). */
	readonly view?: LedgerView | undefined;
	/** The site the lane's writes are on record under: its own, or the one site its token reaches. */
	readonly recordSite: string | undefined;
	/** Requests a real run would send (dry run): each target adds its own. */
	wouldSend: number;
	/** A row that cannot go on: the lane's stop, or its token's. */
	stoppedOutcome(): Outcome;
};

/**
 * How a target's writes are undone (commands/undo.ts asks, targets/undo.ts routes): what a run
 * wrote — a row of its results with its `previous_*` values, or its writes on the ledger — taken
 * into the groups that put it back (one asset and locale; one CMS image), each group then the row
 * that does: its edit the value before, its base what was written (decided three-way, as any row).
 * One per target and undo: a group can gather several rows (the first row's value before wins).
 */
export interface TargetUndo {
	/** A row of the run's results that is this target's: into the group of what it wrote (its first row opens it). */
	takeRow(row: UndoRow): void;
	/** A write of the run on record (`undo --run`): into the group of what it wrote. */
	takeWrite(write: StoredWrite): void;
	/** The columns its groups from writes fill, past `UNDO_COLUMNS` (none where it took no write). */
	readonly writeColumns: readonly string[];
	/** Each group with something to put back, as the row that does, in `columns` (undo's own). */
	jobs(columns: Columns): Job[];
}

/** The columns of `undo --run`'s results every target fills (its own results can be undone like any). */
export const UNDO_COLUMNS = ['siteId', 'assetId', 'localeId', 'displayName', 'altText'] as const;

/** A row of the run's results, read back for undo. */
export type UndoRow = {
	/** The row as a job (its problem, if any, is the target's to judge). */
	readonly job: Job;
	/** Its input cells undo's own results keep (the export's base columns left out). */
	readonly cells: readonly string[];
	/** Its `previous_display_name` and `previous_alt_text`, the formula guard taken off. */
	readonly previous: Readonly<Record<EditField, string>>;
	readonly errorCode: string;
	/** Its writes on the ledger, where the ledger holds the run: they say what to undo, whatever the row's status. */
	readonly writes: readonly StoredWrite[] | undefined;
};

/** One field to put back: the value before the run's first write to it, and what its last write left. */
export type Restore = {readonly before: string; readonly written: string};

/** Everything undo does to one thing a target writes (an asset and locale, a CMS image). */
export type UndoGroup = {
	/** Its results row: the run's first row of it, or (`undo --run`) its place among the writes. */
	readonly row: number;
	/** Its cells: the results row's, or, from writes, by column name (laid out once the columns are known). */
	readonly cells: readonly string[] | Readonly<Record<string, string>>;
	readonly assetId: string;
	readonly localeId: string | undefined;
	readonly siteId: string | undefined;
	readonly fields: Partial<Record<EditField, Restore>>;
	/** The run did not record a value before: nothing can be put back (`no_previous_values`). */
	unknown: boolean;
	/** The row's own cells are wrong now (`unreadableGroup`): it is `invalid`, nothing sent. */
	readonly problem?: RowProblem | undefined;
};

/**
 * A row the run wrote whose own cells are wrong now — a spreadsheet made a number of an id (Excel
 * keeps 15 digits), a cell too many: undo cannot tell what the run wrote there, so its row is
 * `invalid` with the reason and nothing of it is sent (the ledger still knows: `undo --run`).
 * Undefined for a row that reads as it did (an undo's row that cleared alt text has no value in
 * its cells: `nothing_to_update`, the code says it was cleared).
 */
export function unreadableGroup({job, cells, writes}: UndoRow): UndoGroup | undefined {
	const {problem} = job;
	if (problem === undefined || problem.code === 'nothing_to_update') {
		return undefined;
	}

	if (problem.code === 'written_in_places') {
		return {row: job.row, cells, assetId: job.assetId, localeId: job.localeId, siteId: job.siteId, fields: {}, unknown: false, problem};
	}

	const run = writes?.[0]?.run;
	const ledger = run === undefined ? '' : ` (the ledger has it: altbatch undo --run ${run} takes back that run)`;
	return {row: job.row, cells, assetId: job.assetId, localeId: job.localeId, siteId: job.siteId, fields: {}, unknown: false, problem: {code: problem.code, message: `${problem.message}; the run wrote this row, but undo cannot tell what it wrote to: nothing of it is put back${ledger}`}};
}

/**
 * A group → the job that puts it back: the values before as the edit, what the run wrote as the
 * base; `own` is what the target adds (a CMS image's reference). An empty alt text to put back
 * without --allow-clear is decided against the site first (a row an editor changed since is a
 * `conflict`), then refused in the lane (`needs_allow_clear`).
 */
export function undoJob({group, columns, own}: {group: UndoGroup; columns: Columns; own?: Pick<JobFields, 'cms' | 'liveCell'>}): Job {
	const restores = Object.entries(group.fields).filter(([, r]) => r.before !== r.written) as Array<[EditField, Restore]>;
	const value = (field: EditField) => restores.find(([f]) => f === field)?.[1];
	const {cells: laid} = group;
	const cells = Array.isArray(laid) ? [...laid as readonly string[]] : columns.header.map(name => (laid as Readonly<Record<string, string>>)[name] ?? '');
	for (const field of EDIT_FIELDS) {
		const i = columns.index[field];
		if (i !== undefined) {
			cells[i] = neutralize(value(field)?.before ?? '');
		}
	}

	const unknown: RowProblem = {code: 'no_previous_values', message: 'the run did not record what the site held before it (run with --site, and undo can put it back)'};
	const problem = group.problem ?? (group.unknown ? unknown : undefined);
	return withProblem({
		row: group.row,
		line: group.row,
		cells,
		assetId: group.assetId,
		localeId: group.localeId,
		siteId: group.siteId,
		displayName: value('displayName')?.before,
		altText: value('altText')?.before,
		base: Object.fromEntries(restores.map(([field, r]) => [field, r.written])),
		cms: own?.cms,
		liveCell: own?.liveCell,
	}, problem);
}

/** Whether an undo job has anything to do (a problem to tell, or a value to put back). */
export function hasEdit(job: Job): boolean {
	return job.problem !== undefined || job.displayName !== undefined || job.altText !== undefined;
}

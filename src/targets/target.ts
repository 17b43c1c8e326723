import type {ValidJob} from '../rows/job.js';
import type {Outcome} from '../rows/result.js';

/**
 * The seam between a run and what its rows write to (issue 17). A target is told each of its rows
 * as the file is read, and settles them all once it has been read: it reads the current values in
 * pages of 100 (`read`), decides each field three-way (`decide`), sends the writes (`write`, as
 * many rows a request as the API takes) and says how a write is undone (its results carry the
 * value before, which undo turns back into a row whose base is what was written).
 *
 * CMS rows go through `CmsTarget` (src/targets/cms/). Asset rows still go through `Lane` one row
 * at a time; their parts already have this shape — keys (`jobKey`), reading (`fetchSite`, 100 a
 * page), deciding (`decideAgainst`), writing (`patchAsset`), undo (`previous_*` columns) — so
 * moving them behind the seam is a move, not a rewrite.
 */
export interface RowTarget<J extends ValidJob> {
	/** Rows with the same key are written together (one item) or in file order (one asset). */
	key(job: J): string;
	/** A row of this target, taken as the file is read; `done` is called exactly once with its end. */
	take(job: J, done: (outcome: Outcome) => void): void;
	/** Reads, decides and writes every row taken so far. */
	flush(): Promise<void>;
}

/** The steps a target is made of, each replaceable on its own (how the CMS target is built). */
export type TargetSteps<J, Current, Write> = {
	/** The current values the rows need, read in pages of (at most) 100. */
	read(rows: readonly J[]): Promise<Current>;
	/** One group of rows (one key) against the current value: each row's end, and the write to send. */
	decide(rows: readonly J[], current: Current): {outcomes: ReadonlyMap<number, Outcome>; write: Write | undefined};
	/** The writes, as many a request as the API takes; the end of each. */
	write(writes: readonly Write[]): Promise<ReadonlyMap<Write, Outcome>>;
};

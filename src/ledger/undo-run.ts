import {resolve} from 'node:path';
import type {EditField} from '../rows/job.js';
import {mayHaveLanded, readLedger, resultsNow, type StoredWrite} from './read.js';

const isEditField = (field: string): field is EditField => field === 'displayName' || field === 'altText';

/** A write undo can take back: an asset's display name or alt text, or a CMS image's alt. */
const undoable = (write: StoredWrite) => write.target.kind === 'cms' ? write.field === 'alt' : isEditField(write.field);

/**
 * `undo --run <id>`: the run's writes that may be on the site — written, or never answered
 * (a kill, a timeout, a truncated answer: whether or not its row said `failed`), unless a later
 * read found it did not land — in the order it made them. The targets group them (targets/undo.ts:
 * per asset and locale, per CMS image); the three-way guard then decides each against the site (a
 * write that never landed finds the value before there: `unchanged`).
 */
export function runWrites({ledger, id}: {ledger: string; id: string}): StoredWrite[] {
	const run = readLedger(ledger).find(r => r.id === id);
	return run?.writes.filter(write => undoable(write) && mayHaveLanded(write)) ?? [];
}

/**
 * `undo <results.csv>`: what the ledger knows of the runs that wrote this results file (their
 * results are there now, same API base) — every write that may be on the site, by the input row
 * that wrote it. Undefined when no run on record wrote it (then the results file alone says what
 * to undo, as before the ledger).
 */
export function ledgerWritesOf({ledger, apiBase, results}: {ledger: string; apiBase: string; results: string}): Map<number, StoredWrite[]> | undefined {
	const path = resolve(results);
	const runs = readLedger(ledger, {apiBase});
	const mine = runs.filter(run => resultsNow(run, runs) === path).reverse();
	if (mine.length === 0) {
		return undefined;
	}

	const byRow = new Map<number, StoredWrite[]>();
	// Oldest run first (a --resume carries on the same file), each in its order.
	for (const write of mine.flatMap(run => run.writes)) {
		if (write.row !== undefined && undoable(write) && mayHaveLanded(write)) {
			byRow.set(write.row, [...byRow.get(write.row) ?? [], write]);
		}
	}

	return byRow;
}

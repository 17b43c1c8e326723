import {resolve} from 'node:path';
import type {CmsRef} from '../rows/cms-row.js';
import {mapHeader, type Columns, type EditField} from '../rows/job.js';
import type {WriteTarget} from './ledger.js';
import {mayHaveLanded, readLedger, resultsNow, type StoredWrite} from './read.js';

/**
 * Everything undo does to one asset and locale (one PATCH at most), or to one CMS image (its alt
 * staged, and live where the run wrote the live item). undo.ts makes them from a results file,
 * this module from the ledger, and both together where the ledger knows the results file's run.
 */
export type UndoGroup = {
	readonly row: number;
	readonly cells: readonly string[];
	readonly assetId: string;
	readonly localeId: string | undefined;
	readonly siteId: string | undefined;
	readonly fields: Partial<Record<EditField, {before: string; written: string}>>;
	unknown: boolean;
	/** A CMS image; `undoLive`: its live alt to put back (null: the run did not write the live item). */
	cms?: CmsRef | undefined;
};

/** The columns of `undo --run`'s results (its own results can be undone like any); CMS columns where the run wrote CMS items. */
const HEADER = ['siteId', 'assetId', 'localeId', 'displayName', 'altText'] as const;
const CMS_HEADER = ['collectionId', 'itemId', 'field', 'fileId', 'index', 'cmsLocaleId'] as const;

const isEditField = (field: string): field is EditField => field === 'displayName' || field === 'altText';

/** A write undo can take back: an asset's display name or alt text, or a CMS image's alt. */
const undoable = (write: StoredWrite) => write.target.kind === 'cms' ? write.field === 'alt' : isEditField(write.field);

/** A CMS write's image as a row names it (the live item's undo starts as "not written": null). */
export function cmsRefOf(target: Extract<WriteTarget, {kind: 'cms'}>): CmsRef {
	const {collectionId, itemId, field, fileId, index, cmsLocaleId} = target;
	return {collectionId, itemId, field, fileId, index, cmsLocaleId, undoLive: null};
}

/**
 * One write that may be on the site, taken into its group: the value before the group's first
 * write of that field, what its last write sent. A CMS write's live item apart from its staged
 * one (each has its own value before). `displayNames`: a display name is the asset's, its first
 * write wins across locales.
 */
export function takeWrite({group, write, displayNames}: {group: UndoGroup; write: StoredWrite; displayNames: Map<string, UndoGroup>}): void {
	const {target} = write;
	if (target.kind === 'cms') {
		if (target.live) {
			const live = group.cms?.undoLive;
			group.cms = {...group.cms ?? cmsRefOf(target), undoLive: {before: live?.before ?? write.before ?? '', written: write.sent}};
		} else {
			group.fields.altText = {before: group.fields.altText?.before ?? write.before ?? '', written: write.sent};
		}

		return;
	}

	if (!isEditField(write.field)) {
		return;
	}

	const owner = write.field === 'displayName' ? displayNames.get(target.assetId) ?? group : group;
	if (write.field === 'displayName') {
		displayNames.set(target.assetId, owner);
	}

	if (write.before === undefined) {
		owner.unknown = true;
		return;
	}

	const restore = owner.fields[write.field];
	owner.fields[write.field] = {before: restore?.before ?? write.before ?? '', written: write.sent};
}

const hasWork = (group: UndoGroup) => group.unknown || Object.keys(group.fields).length > 0 || (group.cms?.undoLive !== undefined && group.cms.undoLive !== null);

/**
 * `undo --run <id>`: the run's writes that may be on the site — written, or never answered
 * (a kill, a timeout, a truncated answer: whether or not its row said `failed`), unless a later
 * read found it did not land — as undo's groups: per asset and locale (per CMS image), the value
 * before the run's first write of each field and what its last write sent. The three-way guard then
 * decides each against the site (a write that never landed finds the value before there: `unchanged`).
 */
export function ledgerGroups({ledger, id, file}: {ledger: string; id: string; file: string}): {columns: Columns; groups: UndoGroup[]} {
	const run = readLedger(ledger).find(r => r.id === id);
	const writes = run?.writes.filter(write => undoable(write) && mayHaveLanded(write)) ?? [];
	const withCms = writes.some(write => write.target.kind === 'cms');
	const columns = mapHeader({header: [...HEADER, ...withCms ? CMS_HEADER : []], file, line: 1});
	const groups = new Map<string, UndoGroup>();
	const displayNames = new Map<string, UndoGroup>();
	for (const write of writes) {
		const {target} = write;
		const key = target.kind === 'cms' ? `cms/${target.collectionId}/${target.itemId}/${target.cmsLocaleId ?? ''}/${target.field}/${target.fileId}` : `${target.assetId}\u0000${target.localeId ?? ''}`;
		let group = groups.get(key);
		if (!group) {
			const row = groups.size + 2;
			group = target.kind === 'cms'
				? {row, cells: [target.site ?? '', '', '', '', '', target.collectionId, target.itemId, target.field, target.fileId, String(target.index ?? ''), target.cmsLocaleId ?? ''], assetId: target.fileId, localeId: target.cmsLocaleId, siteId: target.site, fields: {}, unknown: false, cms: cmsRefOf(target)}
				: {row, cells: [target.site ?? '', target.assetId, target.localeId ?? '', '', '', ...withCms ? CMS_HEADER.map(() => '') : []], assetId: target.assetId, localeId: target.localeId, siteId: target.site, fields: {}, unknown: false};
			groups.set(key, group);
		}

		takeWrite({group, write, displayNames});
	}

	return {columns, groups: [...groups.values()].filter(hasWork)};
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

import type {WriteTarget} from '../../ledger/ledger.js';
import type {StoredWrite} from '../../ledger/read.js';
import type {CmsRef} from '../../rows/cms-row.js';
import {jobKey, type Columns, type Job} from '../../rows/job.js';
import {sameText} from '../../rows/text.js';
import {hasEdit, undoJob, unreadableGroup, type TargetUndo, type UndoGroup, type UndoRow} from '../target.js';

/** A CMS image's group: its staged alt in `fields`, its live alt in `cms.undoLive`. */
type ImageGroup = UndoGroup & {cms: CmsRef};

/** The columns a CMS image's row fills in `undo --run`'s results. */
const CMS_COLUMNS = ['collectionId', 'itemId', 'field', 'fileId', 'index', 'cmsLocaleId'] as const;

/** A CMS write's image as a row names it (the live item's undo starts as "not written": null). */
function cmsRefOf(target: Extract<WriteTarget, {kind: 'cms'}>): CmsRef {
	const {collectionId, itemId, field, fileId, index, cmsLocaleId} = target;
	return {collectionId, itemId, field, fileId, index, cmsLocaleId, undoLive: null};
}

/**
 * How CMS writes are undone: one group per image (item, CMS locale, field, fileId), its alt staged
 * and, where the run wrote the live item, live — each with its own value before (the live item's
 * can differ: an editor's unpublished draft). Where the ledger has no record of the run, the
 * staged value before is put back live too where the row says it was written live.
 */
export class CmsUndo implements TargetUndo {
	readonly #groups = new Map<string, ImageGroup>();
	readonly #nextRow: () => number;
	#fromWrites = false;

	constructor({nextRow}: {nextRow: () => number}) {
		this.#nextRow = nextRow;
	}

	get writeColumns(): readonly string[] {
		return this.#fromWrites ? CMS_COLUMNS : [];
	}

	takeRow(row: UndoRow): void {
		const {job, cells, previous, writes} = row;
		const ref = job.cms;
		if (ref === undefined) {
			return;
		}

		const unreadable = unreadableGroup(row);
		if (unreadable) {
			this.#groups.set(`invalid/${job.row}`, {...unreadable, cms: ref});
			return;
		}

		// Where the ledger has this row's writes, a live item it does not name was not written by the run.
		const group = this.#open(jobKey(job), () => ({row: job.row, cells, assetId: job.assetId, localeId: job.localeId, siteId: job.siteId, fields: {}, unknown: false, cms: writes === undefined ? ref : {...ref, undoLive: null}}));
		if (writes !== undefined) {
			for (const write of writes) {
				this.#take(group, write);
			}

			return;
		}

		// A CMS image has no name: a CMS row's run always read the item, and its alt may have been empty.
		const value = job.altText;
		const base = job.base?.altText;
		if (value === undefined || (base !== undefined && sameText(value, base))) {
			return;
		}

		group.fields.altText = {before: group.fields.altText?.before ?? previous.altText, written: value};
	}

	takeWrite(write: StoredWrite): void {
		const {target} = write;
		if (target.kind !== 'cms') {
			return;
		}

		this.#fromWrites = true;
		const {site, collectionId, itemId, field, fileId, index, cmsLocaleId} = target;
		const group = this.#open(`cms/${collectionId}/${itemId}/${cmsLocaleId ?? ''}/${field}/${fileId}`, () => ({
			row: this.#nextRow(),
			cells: {siteId: site ?? '', collectionId, itemId, field, fileId, index: String(index ?? ''), cmsLocaleId: cmsLocaleId ?? ''},
			assetId: fileId,
			localeId: cmsLocaleId,
			siteId: site,
			fields: {},
			unknown: false,
			cms: cmsRefOf(target),
		}));
		this.#take(group, write);
	}

	jobs(columns: Columns): Job[] {
		const live = (group: {cms?: CmsRef | undefined}) => group.cms?.undoLive !== undefined && group.cms.undoLive !== null;
		return [...this.#groups.values()]
			.filter(group => group.problem !== undefined || group.unknown || Object.keys(group.fields).length > 0 || live(group))
			// Undo's columns leave out the export's base columns: the live column is found again in them.
			.map(group => undoJob({group, columns, own: {cms: group.cms, liveCell: columns.cms?.live ?? 'append'}}))
			.filter(job => hasEdit(job) || live(job));
	}

	#open(key: string, make: () => ImageGroup): ImageGroup {
		let group = this.#groups.get(key);
		if (!group) {
			group = make();
			this.#groups.set(key, group);
		}

		return group;
	}

	/** One write that may be on the site: the live item's apart from the staged one (each has its own value before). */
	#take(group: ImageGroup, write: StoredWrite): void {
		const {target} = write;
		if (target.kind !== 'cms') {
			return;
		}

		if (target.live) {
			const live = group.cms.undoLive;
			group.cms = {...group.cms, undoLive: {before: live?.before ?? write.before ?? '', written: write.sent}};
		} else {
			group.fields.altText = {before: group.fields.altText?.before ?? write.before ?? '', written: write.sent};
		}
	}
}

import type {StoredWrite} from '../../ledger/read.js';
import {EDIT_FIELDS, jobKey, type Columns, type EditField, type Job} from '../../rows/job.js';
import {sameText} from '../../rows/text.js';
import {hasEdit, undoJob, unreadableGroup, type TargetUndo, type UndoGroup, type UndoRow} from '../target.js';
import {CLEARED_CODE} from './target.js';

const isEditField = (field: string): field is EditField => field === 'displayName' || field === 'altText';

/**
 * How asset writes are undone: one group per asset and locale (one PATCH at most), holding for
 * each field the value before the run's first write to it and what its last write left. A display
 * name is the asset's, whatever the locale: it goes in the group of its first write, whichever
 * locale that was.
 */
export class AssetUndo implements TargetUndo {
	readonly writeColumns: readonly string[] = [];
	readonly #groups = new Map<string, UndoGroup>();
	/** Per asset, the group its display name is put back in. */
	readonly #names = new Map<string, UndoGroup>();
	readonly #nextRow: () => number;

	constructor({nextRow}: {nextRow: () => number}) {
		this.#nextRow = nextRow;
	}

	takeRow(row: UndoRow): void {
		const {job, cells, previous, errorCode, writes} = row;
		const unreadable = unreadableGroup(row);
		if (unreadable) {
			this.#groups.set(`invalid/${job.row}`, unreadable);
			return;
		}

		const group = this.#open(jobKey(job), () => ({row: job.row, cells, assetId: job.assetId, localeId: job.localeId, siteId: job.siteId, fields: {}, unknown: false}));
		if (writes !== undefined) {
			for (const write of writes) {
				this.#take(group, write);
			}

			return;
		}

		// An asset always has a display name: an empty previous one means the run did not read the site.
		const known = previous.displayName !== '';
		for (const field of EDIT_FIELDS) {
			const wrote = written(job, field, errorCode);
			if (wrote === undefined) {
				continue;
			}

			const owner = this.#owner(group, field, job.assetId);
			if (!known) {
				owner.unknown = true;
				continue;
			}

			owner.fields[field] = {before: owner.fields[field]?.before ?? previous[field], written: wrote};
		}
	}

	takeWrite(write: StoredWrite): void {
		const {target} = write;
		if (target.kind !== 'asset') {
			return;
		}

		const group = this.#open(`${target.assetId}\u0000${target.localeId ?? ''}`, () => ({
			row: this.#nextRow(),
			cells: {siteId: target.site ?? '', assetId: target.assetId, localeId: target.localeId ?? ''},
			assetId: target.assetId,
			localeId: target.localeId,
			siteId: target.site,
			fields: {},
			unknown: false,
		}));
		this.#take(group, write);
	}

	jobs(columns: Columns): Job[] {
		return [...this.#groups.values()]
			.filter(group => group.problem !== undefined || group.unknown || Object.keys(group.fields).length > 0)
			.map(group => undoJob({group, columns}))
			.filter(job => hasEdit(job));
	}

	#open(key: string, make: () => UndoGroup): UndoGroup {
		let group = this.#groups.get(key);
		if (!group) {
			group = make();
			this.#groups.set(key, group);
		}

		return group;
	}

	/** The group a field's value goes in: the display name's is the asset's first group. */
	#owner(group: UndoGroup, field: EditField, assetId: string): UndoGroup {
		if (field !== 'displayName') {
			return group;
		}

		const owner = this.#names.get(assetId) ?? group;
		this.#names.set(assetId, owner);
		return owner;
	}

	/** One write that may be on the site, into its group (the first write's value before, the last one's value sent). */
	#take(group: UndoGroup, write: StoredWrite): void {
		const {target} = write;
		if (target.kind !== 'asset' || !isEditField(write.field)) {
			return;
		}

		const owner = this.#owner(group, write.field, target.assetId);
		if (write.before === undefined) {
			owner.unknown = true;
			return;
		}

		owner.fields[write.field] = {before: owner.fields[write.field]?.before ?? write.before ?? '', written: write.sent};
	}
}

/**
 * The value an `updated` row wrote to a field, or undefined when it did not write it: an empty
 * cell is never sent; a field an exported file left as exported was not sent either; an undo that
 * cleared alt text says so in `error_code`.
 */
function written(job: Job, field: EditField, errorCode: string): string | undefined {
	if (field === 'altText' && errorCode === CLEARED_CODE) {
		return '';
	}

	const value = job[field];
	const base = job.base?.[field];
	if (value === undefined || (base !== undefined && sameText(value, base))) {
		return undefined;
	}

	return value;
}

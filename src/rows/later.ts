import {EDIT_FIELDS, jobKey, type EditField, type Job, type ValidJob} from './job.js';
import type {Outcome} from './result.js';
import {sameText} from './text.js';

/**
 * What a field belongs to: the display name to the asset (whatever the row's locale), the alt
 * text to the asset in the row's locale (a CMS row's to its image of its item).
 */
function ownerOf(job: Job, field: EditField): string {
	// A CMS row's alt belongs to its image in its item's field, not to the asset the image shows.
	if (job.cms) {
		return jobKey(job);
	}

	return field === 'displayName' ? `${job.assetId}\u0000name` : `${job.assetId}\u0000${job.localeId ?? ''}\u0000alt`;
}

/** Whether the row asks for the field to change: a value, and for a three-way field one other than the exported. */
function changes(job: Job, field: EditField): boolean {
	const value = job[field];
	const base = job.base?.[field];
	return value !== undefined && (base === undefined || !sameText(value, base));
}

/**
 * The last row wins, per field and what it belongs to: read with the whole file before the first
 * request, this knows for each row which of its three-way fields a later row changes. Sent in file
 * order, the later row would find the earlier row's value on the site and take it for an editor's
 * (a `conflict`); so the earlier row leaves those fields to it (`superseded`). Two-way fields are
 * sent in file order, as always. Keeps, per field owner, its last row only while that row is
 * three-way (a file without base columns keeps nothing), and the rows superseded.
 */
export class LaterRows {
	/** Per field owner whose last row so far is three-way for that field: that row. */
	readonly #lastThreeWay = new Map<string, number>();
	/** Row → field → the later row that changes it. */
	readonly #superseded = new Map<number, Map<EditField, number>>();

	add(job: Job): void {
		if (job.problem) {
			return;
		}

		for (const field of EDIT_FIELDS) {
			if (!changes(job, field)) {
				continue;
			}

			const threeWay = job.base?.[field] !== undefined;
			if (!threeWay && this.#lastThreeWay.size === 0) {
				continue; // Nothing earlier to supersede, nothing to keep: a file of two-way rows costs nothing here.
			}

			const owner = ownerOf(job, field);
			const earlier = this.#lastThreeWay.get(owner);
			if (earlier !== undefined) {
				const fields = this.#superseded.get(earlier) ?? new Map<EditField, number>();
				fields.set(field, job.row);
				this.#superseded.set(earlier, fields);
			}

			if (threeWay) {
				this.#lastThreeWay.set(owner, job.row);
			} else {
				// A later row supersedes only a three-way row: after a two-way row, there is nothing to keep.
				this.#lastThreeWay.delete(owner);
			}
		}
	}

	/**
	 * The row as it is to be sent: without the three-way fields a later row changes, or, when that
	 * leaves nothing it changes, its result (`skipped`, `superseded`, naming the later row).
	 */
	apply(job: ValidJob): {job: ValidJob} | {outcome: Outcome} {
		const later = this.#superseded.get(job.row);
		if (later === undefined) {
			return {job};
		}

		if (EDIT_FIELDS.every(field => !changes(job, field) || later.has(field))) {
			const rows = [...new Set(later.values())].sort((a, b) => a - b);
			const what = [...later.keys()].map(field => field === 'displayName' ? 'the display name' : 'the alt text in this locale').join(' and ');
			return {outcome: {status: 'skipped', errorCode: 'superseded', errorMessage: `row ${rows.join(' and row ')}, later in the file, changes ${what} of this asset too; the last row wins`, ownMessage: true, attempts: 0}};
		}

		return {job: {...job, displayName: later.has('displayName') ? undefined : job.displayName, altText: later.has('altText') ? undefined : job.altText}};
	}
}

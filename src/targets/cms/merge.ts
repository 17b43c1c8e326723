import {decideAgainst} from '../../rows/decide.js';
import type {ValidJob} from '../../rows/job.js';
import type {Outcome, Previous} from '../../rows/result.js';
import type {CmsRef} from '../../rows/cms-row.js';
import {sameText} from '../../rows/text.js';

/**
 * One item's CMS rows against the item as read (staged, and live when it is published): each row
 * decided three-way on its image's alt, and the item's new field values — every other image kept
 * whole and in its place. Pure.
 */

/**
 * An image of a field as read: its `fileId` (lower case, to match rows by), `url`, `alt`, and `at`,
 * its raw place in the field's value (a MultiImage's array as sent, nulls and entries without a
 * fileId counted). The entry itself is never rebuilt from these: a write changes only its `alt`.
 */
export type Image = {readonly fileId: string; readonly url: string | null; readonly alt: string | null; readonly at: number};

export type FieldType = 'Image' | 'MultiImage' | 'other';

/** An item variant (one CMS locale) as read. */
export type ItemState = {
	readonly id: string;
	readonly isDraft: boolean;
	readonly lastPublished: string | null;
	readonly fieldData: Readonly<Record<string, unknown>>;
};

/** A CMS row: a valid job with its reference. */
export type CmsJob = ValidJob & {readonly cms: CmsRef};

/** What the `live` results column says: the alt is (or would be) live now, or only staged. */
export type Live = 'yes' | 'staged';

/** A row's end before any write, or what it waits for: the item's staged and/or live write. */
export type RowPlan =
	| {readonly kind: 'done'; readonly outcome: Outcome; readonly live: Live | undefined}
	| {readonly kind: 'write'; readonly previous: Previous | undefined; readonly staged: boolean; readonly liveWrite: boolean; readonly live: Live};

export type ItemPlan = {
	/** Each row's plan, by the row as given (one sheet row may be several places: an image URL found in several fields). */
	readonly rows: ReadonlyMap<CmsJob, RowPlan>;
	/** The fields to send to the staged item (each whole), when any changed. */
	readonly staged: Record<string, unknown> | undefined;
	/** The fields to send to the live item (each whole, merged into the live values), when any changed. */
	readonly live: Record<string, unknown> | undefined;
	/** For the ledger: every image the writes change, staged and live, with its alt before and the alt sent. */
	readonly images: readonly ImageWrite[];
};

/**
 * One image an item's write changes (staged, or the live item's own): where it is, its alt before
 * (as read: the live item's own for a live write) and the alt sent; `row` is the last row that set it.
 */
export type ImageWrite = {
	readonly row: number;
	readonly field: string;
	readonly fileId: string;
	/** 1-based place in the field when it was written. */
	readonly index: number;
	readonly live: boolean;
	readonly before: string | null;
	readonly sent: string;
};

const asImage = (value: unknown, at: number): Image | undefined => {
	if (typeof value !== 'object' || value === null || typeof (value as {fileId?: unknown}).fileId !== 'string') {
		return undefined;
	}

	const {fileId, url, alt} = value as {fileId: string; url?: unknown; alt?: unknown};
	return {fileId: fileId.toLowerCase(), url: typeof url === 'string' ? url : null, alt: typeof alt === 'string' ? alt : null, at};
};

/** A field's value as entries: a MultiImage's array as it is, an Image field's one value (none when null or absent). */
function entriesOf(type: FieldType, value: unknown): unknown[] {
	if (type === 'MultiImage') {
		return Array.isArray(value) ? [...value] : [];
	}

	return value === undefined || value === null ? [] : [value];
}

/** A field's images in order, each with its raw place (`at`); entries without a fileId are no row's image. */
export function imagesOf(type: FieldType, value: unknown): Image[] {
	return entriesOf(type, value).flatMap((entry, at) => {
		const image = asImage(entry, at);
		return image ? [image] : [];
	});
}

/** A field being written: its raw entries (every other one passed on byte for byte) and its images. */
type Working = {readonly type: FieldType; readonly entries: unknown[]; readonly images: Image[]};

/** The image at `image.at` with only its `alt` changed: every other key of the entry as read. */
function setAlt(working: Working, index: number, alt: string): void {
	const image = working.images[index];
	if (image === undefined) {
		return;
	}

	working.entries[image.at] = {...working.entries[image.at] as Record<string, unknown>, alt};
	working.images[index] = {...image, alt};
}

/** The field's value to send: the entries as read, only the changed images' `alt` new. */
function valueOf({type, entries}: Working): unknown {
	return type === 'MultiImage' ? entries : entries[0] ?? null;
}

/**
 * Which image of the field a row means: the one with its `fileId`; where that appears more than
 * once, the one at the row's `index`, else the one still holding the exported alt, else the first.
 */
export function findImage(images: readonly Image[], ref: CmsRef, base: string | undefined): number | undefined {
	const places = images.flatMap((image, i) => image.fileId === ref.fileId ? [i] : []);
	if (places.length <= 1) {
		return places[0];
	}

	const {index} = ref;
	const byIndex = index === undefined ? undefined : places.find(i => images[i]?.at === index - 1);
	if (byIndex !== undefined) {
		return byIndex;
	}

	const byBase = places.filter(i => (images[i]?.alt ?? '') === base);
	return byBase.length === 1 ? byBase[0] : places[0];
}

const failed = (code: 'not_in_collection' | 'not_an_image_field' | 'image_not_in_field', message: string, live: Live | undefined = undefined): RowPlan => ({kind: 'done', outcome: {status: 'failed', errorCode: code, errorMessage: message, attempts: 0}, live});

/**
 * Decides one item variant's rows (file order: a later row of the same image sees the earlier
 * one's value). `staged` undefined: the item is not in the collection (or not in this locale).
 * `live` undefined: never published. `undo`: the live item is put back only where it still holds
 * what the run wrote.
 */
export function planItem({rows, fields, staged, live, onlyMissing, force, stagedOnly, undo, ours}: {
	rows: readonly CmsJob[];
	fields: ReadonlyMap<string, FieldType> | undefined;
	staged: ItemState | undefined;
	live: ItemState | undefined;
	onlyMissing: boolean;
	force: boolean | undefined;
	stagedOnly: boolean;
	undo: boolean;
	/** Our own writes are ours (a run, never an undo): whether altbatch itself last wrote this alt to this image (per the ledger). */
	ours?: ((job: CmsJob, alt: string) => boolean) | undefined;
}): ItemPlan {
	const plans = new Map<CmsJob, RowPlan>();
	const touched = new Map<string, {row: number; field: string; fileId: string; index: number; live: boolean; before: string | null; sent: string}>();
	const touch = (live: boolean, row: number, field: string, at: number, image: Image, sent: string) => {
		const key = `${live ? 'live' : 'staged'}\u0000${field}\u0000${at}`;
		const first = touched.get(key);
		touched.set(key, {row, field, fileId: image.fileId, index: image.at + 1, live, before: first ? first.before : image.alt, sent});
	};
	const stagedFields = new Map<string, Working>();
	const liveFields = new Map<string, Working>();
	const changed = {staged: new Set<string>(), live: new Set<string>()};
	const working = (into: Map<string, Working>, item: ItemState, slug: string, type: FieldType) => {
		let field = into.get(slug);
		if (!field) {
			field = {type, entries: entriesOf(type, item.fieldData[slug]), images: imagesOf(type, item.fieldData[slug])};
			into.set(slug, field);
		}

		return field;
	};

	for (const sheetJob of rows) {
		let job = sheetJob;
		const {cms} = job;
		const type = fields?.get(cms.field);
		if (!fields || !staged) {
			plans.set(sheetJob, failed('not_in_collection', fields ? `collection ${cms.collectionId} has no item ${cms.itemId}${cms.cmsLocaleId === undefined ? '' : ` in CMS locale ${cms.cmsLocaleId}`}` : `the site has no collection ${cms.collectionId} (or this token cannot see it)`));
			continue;
		}

		if (type === undefined) {
			plans.set(sheetJob, failed('not_in_collection', `collection ${cms.collectionId} has no field "${cms.field}"`));
			continue;
		}

		const published = live !== undefined && !stagedOnly;
		if (type === 'other') {
			plans.set(sheetJob, failed('not_an_image_field', `field "${cms.field}" is not an Image or MultiImage field`));
			continue;
		}

		const stagedField = working(stagedFields, staged, cms.field, type);
		const {images} = stagedField;
		const at = findImage(images, cms, job.base?.altText);
		const image = at === undefined ? undefined : images[at];
		if (at === undefined || !image) {
			plans.set(sheetJob, failed('image_not_in_field', `image ${cms.fileId} is no longer in field "${cms.field}" of item ${cms.itemId}: nothing written`, published ? 'yes' : 'staged'));
			continue;
		}

		// Our own writes are ours: an image holding what altbatch last wrote there is at its base, not an editor's change.
		const exported = job.base?.altText;
		if (!undo && ours && exported !== undefined && job.altText !== undefined && !sameText(job.altText, exported) && !sameText(image.alt ?? '', exported) && ours(job, image.alt ?? '')) {
			job = {...job, base: {...job.base, altText: image.alt ?? ''}};
		}

		const liveField = published ? working(liveFields, live, cms.field, type) : undefined;
		const liveImages = liveField?.images ?? [];
		const liveAt = published ? findImage(liveImages, cms, job.base?.altText) : undefined;
		const liveImage = liveAt === undefined ? undefined : liveImages[liveAt];
		const current = {id: cms.fileId, displayName: undefined, altText: new Map([[job.localeId ?? '', image.alt]])};
		const decision = decideAgainst({job: {...job, displayName: undefined}, current, onlyMissing, force});
		const wanted = decision.kind === 'send' ? decision.job.altText : job.altText;
		// Undo puts the live image's own value before back (the ledger knows it), where it still
		// holds what the run wrote there; without that record, the staged value before.
		const liveUndo = !undo || cms.undoLive === null ? undefined : cms.undoLive ?? (wanted === undefined ? undefined : {before: wanted, written: job.base?.altText ?? ''});
		const liveWanted = undo ? liveUndo?.before : wanted;
		// The live item follows only where it holds what the staged one held (or the base): an alt
		// changed on the live item alone is left as it is.
		const liveFollows = liveImage !== undefined && liveWanted !== undefined && (liveImage.alt ?? '') !== liveWanted
			&& (liveUndo ? sameText(liveImage.alt ?? '', liveUndo.written) : (liveImage.alt ?? '') === (image.alt ?? '') || (liveImage.alt ?? '') === job.base?.altText || (liveImage.alt ?? '') === exported);
		// `yes`: the item is published (and written live) and holds this image; else only the staged item is written.
		const liveNow: Live = liveImage === undefined ? 'staged' : 'yes';
		const sheetEdited = job.base?.altText === undefined || job.altText !== job.base.altText;
		if (decision.kind === 'done' && !(decision.outcome.status === 'unchanged' && sheetEdited && liveFollows)) {
			plans.set(sheetJob, {kind: 'done', outcome: decision.outcome, live: liveNow});
			continue;
		}

		const writeStaged = decision.kind === 'send' && wanted !== undefined;
		if (writeStaged) {
			touch(false, job.row, cms.field, at, image, wanted);
			setAlt(stagedField, at, wanted);
			changed.staged.add(cms.field);
		}

		if (liveFollows && liveAt !== undefined && liveField) {
			touch(true, job.row, cms.field, liveAt, liveImage, liveWanted);
			setAlt(liveField, liveAt, liveWanted);
			changed.live.add(cms.field);
		}

		const previous: Previous = decision.kind === 'send' ? decision.previous ?? {displayName: '', altText: image.alt ?? ''} : {displayName: '', altText: image.alt ?? ''};
		plans.set(sheetJob, {kind: 'write', previous, staged: writeStaged, liveWrite: liveFollows, live: liveNow});
	}

	const fieldsOf = (from: Map<string, Working>, slugs: Set<string>) => slugs.size === 0 ? undefined : Object.fromEntries([...slugs].map(slug => [slug, valueOf(from.get(slug) ?? {type: 'other', entries: [], images: []})]));
	return {rows: plans, staged: fieldsOf(stagedFields, changed.staged), live: fieldsOf(liveFields, changed.live), images: [...touched.values()]};
}

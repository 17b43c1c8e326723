/**
 * A CMS row: one image of an Image or MultiImage field of one item, in one CMS locale. Pure: how a
 * row names its image, how rows are keyed, and what makes a CMS row unsendable.
 */

/** Where a CMS row's image is: the item, the field, and the image found by its `fileId`. */
export type CmsRef = {
	readonly collectionId: string;
	readonly itemId: string;
	/** The slug of an Image or MultiImage field. */
	readonly field: string;
	/** The image's asset id, as exported: how the image is found in the field. */
	readonly fileId: string;
	/** 1-based place in a MultiImage field, as exported (used only where the fileId appears twice). */
	readonly index: number | undefined;
	/** Blank: the primary locale. */
	readonly cmsLocaleId: string | undefined;
	/**
	 * Undo only: the live image's own alt before the run and what the run wrote there (from the
	 * ledger's record of the live write); null: the ledger says the run did not write the live item
	 * (left as it is). Undefined (no ledger record): undo puts the staged value before back live too.
	 */
	readonly undoLive?: {readonly before: string; readonly written: string} | null | undefined;
};

/** The CMS columns of a jobs file (aliases: case, spaces, `_` and `-` ignored, as for asset columns). */
export const CMS_ALIASES = {
	collectionid: 'collectionId',
	itemid: 'itemId',
	field: 'field',
	fileid: 'fileId',
	index: 'index',
	cmslocaleid: 'cmsLocaleId',
	live: 'live',
} as const;

export type CmsField = typeof CMS_ALIASES[keyof typeof CMS_ALIASES];

/** Our codes for CMS rows (product.md, "CMS rows"), and for a CMS row whose own cells are wrong. */
export type CmsCode = 'not_in_collection' | 'not_an_image_field' | 'image_not_in_field' | 'not_for_cms' | 'invalid_cms_id';

const HEX24 = /^[\da-f]{24}$/i;
const SLUG = /^[\w-]+$/;

/**
 * The row's CMS reference from its cells (`get` gives a trimmed, non-blank cell or undefined), or
 * what is wrong with it. `displayName` set on a CMS row is `not_for_cms`: a CMS image has no name.
 */
export function readCmsRef(get: (field: CmsField) => string | undefined, hasDisplayName: boolean): {ref: CmsRef; problem?: {code: 'not_for_cms' | 'invalid_cms_id' | 'invalid_locale_id'; message: string}} {
	const lower = (field: CmsField) => get(field)?.trim().toLowerCase() ?? '';
	const indexText = get('index')?.trim();
	const index = indexText === undefined ? undefined : Number(indexText);
	const ref: CmsRef = {
		collectionId: lower('collectionId'),
		itemId: lower('itemId'),
		field: get('field')?.trim() ?? '',
		fileId: lower('fileId'),
		index: index !== undefined && Number.isInteger(index) && index >= 1 ? index : undefined,
		cmsLocaleId: get('cmsLocaleId')?.trim().toLowerCase(),
	};
	for (const name of ['collectionId', 'itemId', 'fileId'] as const) {
		if (!HEX24.test(ref[name])) {
			return {ref, problem: {code: 'invalid_cms_id', message: `${name} "${ref[name]}" is not a 24-character hex id`}};
		}
	}

	if (!SLUG.test(ref.field)) {
		return {ref, problem: {code: 'invalid_cms_id', message: `field "${ref.field}" is not a field slug`}};
	}

	if (indexText !== undefined && ref.index === undefined) {
		return {ref, problem: {code: 'invalid_cms_id', message: `index "${indexText}" is not a position (1, 2, …)`}};
	}

	if (ref.cmsLocaleId !== undefined && !HEX24.test(ref.cmsLocaleId)) {
		return {ref, problem: {code: 'invalid_locale_id', message: `cmsLocaleId "${ref.cmsLocaleId}" is not a 24-character hex id`}};
	}

	if (hasDisplayName) {
		return {ref, problem: {code: 'not_for_cms', message: 'a CMS image has no display name: leave displayName blank on CMS rows (rename the asset in an asset row)'}};
	}

	return {ref};
}

/** The item variant a row writes to: rows of one item and locale go out in one write. */
export function itemKey(ref: Pick<CmsRef, 'collectionId' | 'itemId' | 'cmsLocaleId'>): string {
	return `${ref.collectionId}/${ref.itemId}/${ref.cmsLocaleId ?? ''}`;
}

/** One image of one item variant: rows with the same key are applied in file order, the last one winning. */
export function imageKey(ref: CmsRef): string {
	return `cms/${itemKey(ref)}/${ref.field}/${ref.fileId}/${ref.index ?? ''}`;
}

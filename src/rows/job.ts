import {InputError} from '../errors.js';
import {CMS_ALIASES, imageKey, readCmsRef, type CmsCode, type CmsField, type CmsRef} from './cms-row.js';
import {unneutralize} from './formula.js';
import {imageRef, type ImageRef} from './image-url.js';

/** The fields a jobs file can carry; every other column is passed through untouched. */
export type Field = 'assetId' | 'localeId' | 'displayName' | 'altText' | 'siteId' | 'exportedDisplayName' | 'exportedAltText' | 'imageUrl' | 'fixWith';

const ALIASES: Readonly<Record<string, Field>> = {
	assetid: 'assetId',
	id: 'assetId',
	localeid: 'localeId',
	locale: 'localeId',
	displayname: 'displayName',
	alttext: 'altText',
	alt: 'altText',
	siteid: 'siteId',
	exporteddisplayname: 'exportedDisplayName',
	exportedalttext: 'exportedAltText',
	fixwith: 'fixWith',
};

/**
 * Headers of a column of image URLs (crawler reports), most telling first: a file with several
 * (Screaming Frog's `Address` beside `Image URL`, say) takes the first of this list and passes the
 * others through.
 */
const IMAGE_URL_HEADERS: readonly string[] = ['imageurl', 'imagesrc', 'imageaddress', 'image', 'src', 'destination', 'address'];

/** An audit row's `fix_with` for a place only the Designer can fix (the Data API cannot write it). */
export const DESIGNER_ONLY = 'designer';

/** The columns `export` writes beside the editable ones: what the site held when it was exported. */
export const BASE_COLUMNS = {displayName: 'exportedDisplayName', altText: 'exportedAltText'} as const;

/** The two fields a row can change. */
export type EditField = 'displayName' | 'altText';
export const EDIT_FIELDS: readonly EditField[] = ['displayName', 'altText'];

/**
 * What the site held for each field when the file was made (an export's base columns, or what a
 * run wrote, for undo). A field without a key has no base: it is decided two-way.
 */
export type Base = Readonly<Partial<Record<EditField, string>>>;

export type Columns = {
	readonly header: readonly string[];
	readonly index: Readonly<Partial<Record<Field, number>>>;
	/** The CMS columns (cms-row.ts), where the file has them. */
	readonly cms?: Readonly<Partial<Record<CmsField, number>>>;
};

/** Why a row cannot be sent (`invalid`), found in its own cells (undo: in what the run recorded). */
export type ProblemCode = 'too_many_fields' | 'invalid_asset_id' | 'image_url_unresolved' | 'invalid_locale_id' | 'invalid_site_id' | 'nothing_to_update' | 'no_previous_values' | 'needs_allow_clear' | 'written_in_places' | Extract<CmsCode, 'not_for_cms' | 'invalid_cms_id'>;

export type RowProblem = {readonly code: ProblemCode; readonly message: string};

/** What every row has, valid or not: where it is, its cells, and its fields as read. */
export type JobFields = {
	/** Spreadsheet row number (the header is row 1). */
	readonly row: number;
	readonly line: number;
	/** The input cells as read, one per header column. */
	readonly cells: readonly string[];
	readonly assetId: string;
	readonly localeId: string | undefined;
	readonly displayName: string | undefined;
	readonly altText: string | undefined;
	readonly siteId: string | undefined;
	/** With base values the row is decided three-way (base, file, site now); without, two-way. */
	readonly base?: Base | undefined;
	/**
	 * A CMS row (a non-blank `itemId`): the image it names. Its `assetId` is the image's `fileId`
	 * and its `localeId` the `cmsLocaleId`.
	 */
	readonly cms?: CmsRef | undefined;
	/** Where the results' `live` column is: an input column (the export's), or one added at the end. */
	readonly liveCell?: number | 'append' | undefined;
	/** A row found by its image URL (no asset id cell): the URL as written, and what it says about the asset. */
	readonly image?: {readonly url: string; readonly ref: ImageRef} | undefined;
	/** An audit row that only the Designer can fix (`fix_with` = `designer`): never sent, `skipped`. */
	readonly designerOnly?: boolean | undefined;
};

/** A row that can be sent. */
export type ValidJob = JobFields & {readonly problem: undefined};

/** A row that cannot be sent, and why (its result is `invalid`). */
export type InvalidJob = JobFields & {readonly problem: RowProblem};

/** One input record, read and checked: what to send, or why it cannot be sent. */
export type Job = ValidJob | InvalidJob;

/** A job with its problem, if it has one. */
export function withProblem(fields: JobFields, problem: RowProblem | undefined): Job {
	// Not `{...fields, problem}`: a spread followed by a property is V8's slow path on Node 20 (about
	// 4 µs a row, seconds over a million); Object.assign makes the same object, fast.
	return problem === undefined ? Object.assign({}, fields, {problem}) : Object.assign({}, fields, {problem});
}

const OBJECT_ID = /^[\da-f]{24}$/i;

export function isObjectId(value: string): boolean {
	return OBJECT_ID.test(value);
}

function normalizeHeader(name: string): string {
	return name.replace(/^\uFEFF/, '').toLowerCase().replace(/[\s_-]+/g, '');
}

/** Finds the known fields in the header row; refuses a file without an asset id column. */
export function mapHeader({header, file, line}: {header: readonly string[]; file: string; line: number}): Columns {
	const index: Partial<Record<Field, number>> = {};
	let imageRank = IMAGE_URL_HEADERS.length;
	for (const [i, name] of header.entries()) {
		const rank = IMAGE_URL_HEADERS.indexOf(normalizeHeader(name));
		if (rank >= 0 && rank !== imageRank) {
			if (rank < imageRank) {
				imageRank = rank;
				index.imageUrl = i;
			}

			continue;
		}

		const field = rank >= 0 ? 'imageUrl' : ALIASES[normalizeHeader(name)];
		if (field === undefined) {
			continue;
		}

		const earlier = index[field];
		if (earlier !== undefined) {
			throw new InputError({file, line, code: 'input_duplicate_column', message: `columns "${header[earlier]}" and "${name}" both name the ${field} field; keep one`});
		}

		index[field] = i;
	}

	const cms: Partial<Record<CmsField, number>> = {};
	for (const [i, name] of header.entries()) {
		const field = CMS_ALIASES[normalizeHeader(name) as keyof typeof CMS_ALIASES] as CmsField | undefined;
		if (field !== undefined && cms[field] === undefined) {
			cms[field] = i;
		}
	}

	if (cms.itemId !== undefined) {
		return {header: header.map(h => h.replace(/^\uFEFF/, '')), index, cms};
	}

	if (index.assetId === undefined && index.imageUrl === undefined) {
		throw new InputError({
			file,
			line,
			code: 'input_no_asset_id_column',
			message: `no asset id column in the header (${header.map(h => JSON.stringify(h)).join(', ')}); name one "assetId", "asset_id", "Asset ID" or "id" (or "itemId" for CMS rows, or the images' URLs in an "imageUrl" column)`,
		});
	}

	return {header: header.map(h => h.replace(/^\uFEFF/, '')), index};
}

/** True for a record a spreadsheet writes for an empty row. */
export function isBlankRecord(fields: readonly string[]): boolean {
	return fields.every(f => f.trim() === '');
}

/** A record → a job: the values to send, or the problem that makes the row `invalid`. */
export function toJob({columns, fields, row, line}: {columns: Columns; fields: readonly string[]; row: number; line: number}): Job {
	const width = columns.header.length;
	const cells = fields.length >= width ? fields.slice(0, width) : [...fields, ...Array.from({length: width - fields.length}, () => '')];
	const get = (field: Field): string | undefined => {
		const i = columns.index[field];
		const value = i === undefined ? undefined : cells[i];
		return value === undefined || value.trim() === '' ? undefined : value;
	};

	const liveCell: number | 'append' | undefined = columns.cms?.itemId === undefined ? undefined : columns.cms.live ?? 'append';
	const cmsCell = (field: CmsField) => {
		// An audit file names a CMS place's locale in its `localeId` column (it has no `cmsLocaleId`).
		const i = field === 'cmsLocaleId' && columns.cms?.cmsLocaleId === undefined && columns.index.fixWith !== undefined ? columns.index.localeId : columns.cms?.[field];
		const value = i === undefined ? undefined : cells[i];
		return value === undefined || value.trim() === '' ? undefined : value;
	};

	if (cmsCell('itemId') !== undefined) {
		return cmsJob();
	}

	const url = get('assetId') === undefined ? get('imageUrl')?.trim() : undefined;
	const ref = url === undefined ? undefined : imageRef(url);
	const image = url === undefined || ref === undefined ? undefined : {url, ref};
	const assetId = ref?.kind === 'cdn' ? ref.assetId : (get('assetId') ?? '').trim().toLowerCase();
	const localeId = get('localeId')?.trim().toLowerCase();
	// A CDN URL names its site: rows of many sites route by it (--tokens, --prefetch) without a siteId column.
	const siteId = get('siteId')?.trim().toLowerCase() ?? (ref?.kind === 'cdn' ? ref.siteId : undefined);
	// An export writes `'=…` for a value starting with `=` (formula injection): read back, it is `=…`.
	const displayName = textField(get('displayName'));
	const altText = textField(get('altText'));
	const base = readBase();
	const designerOnly = get('fixWith')?.trim().toLowerCase() === DESIGNER_ONLY;
	return withProblem({row, line, cells, assetId, localeId, displayName, altText, siteId, base, liveCell, image, ...designerOnly ? {designerOnly} : {}}, findProblem());

	/** A CMS row: the image it names; its alt text, base and site as for an asset row. */
	function cmsJob(): Job {
		const {ref, problem} = readCmsRef(cmsCell, get('displayName') !== undefined);
		const altText = textField(get('altText'));
		const exported = columns.index.exportedAltText === undefined ? undefined : unneutralize(cells[columns.index.exportedAltText] ?? '');
		const own = {row, line, cells, assetId: ref.fileId, localeId: ref.cmsLocaleId, displayName: undefined, altText, siteId: get('siteId')?.trim().toLowerCase(), base: exported === undefined ? undefined : {altText: exported}, cms: ref, liveCell};
		if (fields.length > width) {
			return withProblem(own, {code: 'too_many_fields', message: `line ${line} has ${fields.length} cells but the header has ${width}; quote cells that contain the separator`});
		}

		if (own.siteId !== undefined && !isObjectId(own.siteId)) {
			return withProblem(own, {code: 'invalid_site_id', message: `site id "${own.siteId}" is not a 24-character hex id`});
		}

		// An exported row left blank leaves its image as it is (`unchanged`); a hand-written one has nothing to do.
		return withProblem(own, problem ?? (altText === undefined && own.base === undefined ? {code: 'nothing_to_update', message: 'the alt text is empty'} : undefined));
	}

	/**
	 * An exported row: its base columns, where the file has them. An asset always has a display
	 * name, so a row whose exported display name is empty was not exported (a row added by hand):
	 * it stays two-way.
	 */
	function readBase(): Base | undefined {
		const cell = (field: Field) => {
			const i = columns.index[field];
			return i === undefined ? undefined : unneutralize(cells[i] ?? '');
		};

		const baseName = cell('exportedDisplayName');
		const baseAlt = cell('exportedAltText');
		if ((baseName === undefined && baseAlt === undefined) || baseName?.trim() === '') {
			return undefined;
		}

		return {...baseName === undefined ? {} : {displayName: baseName}, ...baseAlt === undefined ? {} : {altText: baseAlt}};
	}

	function findProblem(): RowProblem | undefined {
		if (fields.length > width) {
			return {code: 'too_many_fields', message: `line ${line} has ${fields.length} cells but the header has ${width}; quote cells that contain the separator`};
		}

		if (designerOnly) {
			return undefined; // Never sent: its ids need not name an asset (an image without one).
		}

		const byUrl = image?.ref.kind === 'url';
		if (assetId === '' && !byUrl) {
			return url === undefined
				? {code: 'invalid_asset_id', message: columns.index.assetId === undefined ? 'the image URL is empty' : 'the asset id is empty'}
				: {code: 'invalid_asset_id', message: `the image URL ${JSON.stringify(url)} is not a URL`};
		}

		if (!byUrl && !isObjectId(assetId)) {
			return {code: 'invalid_asset_id', message: `asset id "${assetId}" is not a 24-character hex id${looksNumeric(assetId) ? ' (a spreadsheet turned it into a number, which keeps 15 digits: format the column as Text and paste the ids again)' : ''}`};
		}

		if (localeId !== undefined && !isObjectId(localeId)) {
			return {code: 'invalid_locale_id', message: `locale id "${localeId}" is not a 24-character hex id${looksNumeric(localeId) ? ' (a spreadsheet turned it into a number: format the column as Text)' : ''}`};
		}

		if (siteId !== undefined && !isObjectId(siteId)) {
			return {code: 'invalid_site_id', message: `site id "${siteId}" is not a 24-character hex id`};
		}

		// A row with a base and an empty alt text (an audit row of a place with none) is left as it was: unchanged.
		if (displayName === undefined && altText === undefined && base?.altText === undefined) {
			return {code: 'nothing_to_update', message: 'both display name and alt text are empty'};
		}

		if (byUrl) {
			return {code: 'image_url_unresolved', message: `${JSON.stringify(url)} is not a Webflow CDN URL (…/{siteId}/{assetId}_{name}): with --site <id> (or --prefetch) it is matched against the site's assets' hostedUrl`};
		}

		return undefined;
	}
}

/** A cell a spreadsheet made a number of (`6.5e+23`, `1.2E+10`, `12345`). */
function looksNumeric(value: string): boolean {
	return /^[+-]?\d+(?:[.,]\d+)?(?:e[+-]?\d+)?$/i.test(value);
}

/** A row found by a URL that is not a CDN URL, once the site's assets named its asset (and site). */
export function resolvedJob(job: Job, {assetId, siteId}: {assetId: string; siteId: string}): Job {
	return {...job, assetId, siteId: job.siteId ?? siteId, problem: undefined};
}

function textField(value: string | undefined): string | undefined {
	return value === undefined ? undefined : unneutralize(value);
}

/** Rows with the same key are applied one after another, in file order. */
export function jobKey(job: Job): string {
	return job.cms ? imageKey(job.cms) : `${job.assetId}/${job.localeId ?? ''}`;
}

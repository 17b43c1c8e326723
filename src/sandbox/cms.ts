/**
 * The sandbox's CMS: collections with typed fields, and items whose every CMS locale has a staged
 * version and, once published, a live one. Written from Webflow's API description, sharing nothing
 * with the client. Pure state and rules; the routes (cms-routes.ts) put them on the wire.
 */

export type FieldType = 'PlainText' | 'RichText' | 'Image' | 'MultiImage' | 'Link' | 'Number' | 'Switch' | 'Reference';

export type SandboxField = {readonly id: string; readonly slug: string; readonly displayName: string; readonly type: FieldType; readonly isRequired: boolean};

/** An Image field's value; a MultiImage field holds an array of them. */
export type ImageValue = {fileId: string; url: string | null; alt: string | null};

export type FieldData = Record<string, unknown>;

/** One CMS locale of an item: its staged field data and, once published, the live field data. */
export type ItemVariant = {
	fieldData: FieldData;
	lastUpdated: string;
	lastPublished: string | null;
	isDraft: boolean;
	isArchived: boolean;
	live: FieldData | undefined;
};

export type SandboxItem = {readonly id: string; readonly createdOn: string; readonly variants: Map<string, ItemVariant>};

export type SandboxCollection = {
	readonly id: string;
	readonly siteId: string;
	displayName: string;
	singularName: string;
	slug: string;
	readonly createdOn: string;
	lastUpdated: string;
	readonly fields: SandboxField[];
	readonly items: Map<string, SandboxItem>;
};

/** Most items one bulk write takes (update-items, update-items-live). */
export const MAX_ITEMS_PER_WRITE = 100;
/** Most images a MultiImage field holds. */
export const MAX_MULTI_IMAGES = 25;

const CREATED = new Date(Date.UTC(2025, 0, 1)).toISOString();

/** A collection with the `name` and `slug` fields every collection has, then `fields`. */
export function newCollection({id, siteId, displayName, slug, fields}: {id: string; siteId: string; displayName: string; slug: string; fields: SandboxField[]}): SandboxCollection {
	return {
		id,
		siteId,
		displayName,
		singularName: displayName.replace(/s$/, ''),
		slug,
		createdOn: CREATED,
		lastUpdated: CREATED,
		fields: [
			{id: `${id.slice(0, 20)}0001`, slug: 'name', displayName: 'Name', type: 'PlainText', isRequired: true},
			{id: `${id.slice(0, 20)}0002`, slug: 'slug', displayName: 'Slug', type: 'PlainText', isRequired: true},
			...fields,
		],
		items: new Map(),
	};
}

/**
 * An item with the same field data in every locale given; `published` gives it a live version equal
 * to the staged one (as after a publish), `isDraft` keeps it out of the next site publish.
 */
export function newItem({collection, id, locales, fieldData, published = true, isDraft = false}: {collection: SandboxCollection; id: string; locales: readonly string[]; fieldData: FieldData; published?: boolean; isDraft?: boolean}): SandboxItem {
	const item: SandboxItem = {id, createdOn: CREATED, variants: new Map()};
	for (const locale of locales) {
		item.variants.set(locale, {
			fieldData: structuredClone(fieldData),
			lastUpdated: CREATED,
			lastPublished: published ? CREATED : null,
			isDraft,
			isArchived: false,
			live: published ? structuredClone(fieldData) : undefined,
		});
	}

	collection.items.set(id, item);
	return item;
}

/** A moment strictly later than `before`, so that two changes in one millisecond still tell apart. */
export function later(before: string): string {
	const then = Date.parse(before);
	return new Date(Number.isNaN(then) ? Date.now() : Math.max(Date.now(), then + 1)).toISOString();
}

/**
 * A per-item refusal inside a bulk write: which item (its place in `items` and its id), where
 * (`param`, as Webflow names it: `items[<i>].fieldData.<slug>`), why, and the status it earns (409:
 * a live write to an item never published; 400 otherwise).
 */
export type ItemProblem = {readonly index: number; readonly id: string; readonly param: string; readonly description: string; readonly status: 400 | 409};

export type BulkItem = {readonly id: string; readonly cmsLocaleId: string; readonly fieldData: FieldData};

const FILE_ID = /^[\da-f]{24}$/i;

/**
 * Why one image value is an invalid file, or `undefined`: `null` is no image; an object needs a
 * 24-hex `fileId` or, without one, a `url` (an image Webflow fetches); `url` and `alt` are strings
 * (or null) when given. Other keys are the API's own and pass.
 */
function fileProblem(value: unknown): string | undefined {
	if (value === null) {
		return undefined;
	}

	if (typeof value !== 'object' || Array.isArray(value)) {
		return 'must be an image object {fileId, url, alt}';
	}

	const {fileId, url, alt} = value as Record<string, unknown>;
	if (fileId === undefined ? typeof url !== 'string' : typeof fileId !== 'string' || !FILE_ID.test(fileId)) {
		return 'fileId must be the 24-character id of an asset (or a url given without one)';
	}

	if (url !== undefined && url !== null && typeof url !== 'string') {
		return 'url must be a string';
	}

	if (alt !== undefined && alt !== null && typeof alt !== 'string') {
		return 'alt must be a string or null';
	}

	return undefined;
}

/** What is wrong with one field's value in a write, by the field's type, files apart; `undefined` when nothing. */
export function valueProblem(field: SandboxField, value: unknown): string | undefined {
	if (field.type === 'MultiImage') {
		if (value === null) {
			return undefined;
		}

		if (!Array.isArray(value)) {
			return 'must be an array of image objects';
		}

		if (value.length > MAX_MULTI_IMAGES) {
			return `holds at most ${MAX_MULTI_IMAGES} images`;
		}
	}

	return undefined;
}

/** The first invalid file of a field's value (`skipInvalidFiles=false` refuses the write for it). */
function invalidFile(field: SandboxField, value: unknown): string | undefined {
	if (field.type === 'Image') {
		return fileProblem(value);
	}

	return field.type === 'MultiImage' && Array.isArray(value) ? value.map(fileProblem).find(Boolean) : undefined;
}

/**
 * Stores a value as Webflow keeps it: as sent, each entry whole (keys, case, nulls), but an invalid
 * file skipped (`skipInvalidFiles`, true by default): left out of a MultiImage, an Image field left
 * as it was (`undefined`: keep the old value).
 */
function stored(field: SandboxField, value: unknown): unknown {
	if (field.type === 'Image') {
		return fileProblem(value) === undefined ? structuredClone(value) : undefined;
	}

	if (field.type === 'MultiImage') {
		return value === null ? [] : structuredClone((value as unknown[]).filter(entry => fileProblem(entry) === undefined));
	}

	return structuredClone(value);
}

/**
 * Checks every item of a bulk write before any is applied (a bulk write is all or nothing): the item
 * is in the collection and the locale, each field exists and has the right shape, and — for a live
 * write — the item is published (409 when not). `skipInvalidFiles` false: an invalid file refuses
 * the item too (true, the default: it is skipped when applied). `refused` names items the sandbox
 * is told to refuse (tests).
 */
export function bulkProblems({collection, items, live, refused, skipInvalidFiles = true}: {collection: SandboxCollection; items: readonly BulkItem[]; live: boolean; refused: ReadonlySet<string>; skipInvalidFiles?: boolean}): ItemProblem[] {
	const problems: ItemProblem[] = [];
	for (const [index, {id, cmsLocaleId, fieldData}] of items.entries()) {
		const at = (param: string, description: string, status: 400 | 409 = 400) => problems.push({index, id, param: `items[${index}]${param}`, description, status});
		const variant = collection.items.get(id)?.variants.get(cmsLocaleId);
		if (!variant) {
			at('.id', 'no such item in this collection and locale');
			continue;
		}

		if (live && variant.live === undefined) {
			at('.id', 'Item not published', 409);
			continue;
		}

		if (refused.has(id)) {
			at('.fieldData', 'the item cannot be updated');
			continue;
		}

		for (const [slug, value] of Object.entries(fieldData)) {
			const field = collection.fields.find(f => f.slug === slug);
			const problem = field ? valueProblem(field, value) ?? (skipInvalidFiles ? undefined : invalidFile(field, value)) : 'no such field in this collection';
			if (problem) {
				at(`.fieldData.${slug}`, problem);
				break;
			}
		}
	}

	return problems;
}

/** Applies a checked bulk write: each field given replaces the staged (or live) value; `lastUpdated` (or `lastPublished`) moves on. */
export function applyBulk({collection, items, live}: {collection: SandboxCollection; items: readonly BulkItem[]; live: boolean}): Array<{item: SandboxItem; cmsLocaleId: string}> {
	return items.flatMap(({id, cmsLocaleId, fieldData}) => {
		const item = collection.items.get(id);
		const variant = item?.variants.get(cmsLocaleId);
		const target = live ? variant?.live : variant?.fieldData;
		if (!item || !variant || !target) {
			return [];
		}

		for (const [slug, value] of Object.entries(fieldData)) {
			const field = collection.fields.find(f => f.slug === slug);
			const keep = field ? stored(field, value) : value;
			if (keep !== undefined) {
				target[slug] = keep;
			}
		}

		if (live) {
			// A live write is a publish of those fields: the live item is as new as the write.
			variant.lastPublished = later(variant.lastPublished ?? variant.lastUpdated);
		} else {
			variant.lastUpdated = later(variant.lastUpdated);
		}

		return [{item, cmsLocaleId}];
	});
}

/** Publishes an item's staged version in these locales (every locale when none is named): the live item becomes a copy of it. */
export function publish(item: SandboxItem, locales?: readonly string[]): void {
	for (const [locale, variant] of item.variants) {
		if (locales === undefined || locales.includes(locale)) {
			variant.live = structuredClone(variant.fieldData);
			variant.lastPublished = later(variant.lastPublished ?? variant.lastUpdated);
			variant.isDraft = false;
		}
	}
}

/** An item as Webflow sends it, staged or live, in one locale. */
export function itemJson(item: SandboxItem, cmsLocaleId: string, live: boolean) {
	const variant = item.variants.get(cmsLocaleId) ?? {fieldData: {}, lastUpdated: item.createdOn, lastPublished: null, isDraft: false, isArchived: false, live: undefined};
	return {
		id: item.id,
		cmsLocaleId,
		lastPublished: variant.lastPublished,
		lastUpdated: variant.lastUpdated,
		createdOn: item.createdOn,
		isArchived: variant.isArchived,
		isDraft: variant.isDraft,
		fieldData: structuredClone(live ? variant.live ?? {} : variant.fieldData),
	};
}

export function collectionJson(collection: SandboxCollection, withFields: boolean) {
	const {id, displayName, singularName, slug, createdOn, lastUpdated, fields} = collection;
	return {
		id,
		displayName,
		singularName,
		slug,
		createdOn,
		lastUpdated,
		...withFields ? {fields: fields.map(f => ({id: f.id, isRequired: f.isRequired, isEditable: true, type: f.type, slug: f.slug, displayName: f.displayName, helpText: ''}))} : {},
	};
}

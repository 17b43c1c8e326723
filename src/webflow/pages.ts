import {pageFacts, type PageFacts} from './paging.js';

/**
 * Webflow's answers about pages and components, read into plain data (the calls are in client.ts).
 * Only what the audit uses is kept; anything missing or of another type reads as undefined. An
 * answer without a list the description requires reads as `undefined` (a bad page); one without a
 * list it does not require (nodes, properties, components, pages) holds none.
 */

export type PageInfo = {
	readonly id: string;
	readonly title: string | undefined;
	readonly slug: string | undefined;
	readonly publishedPath: string | undefined;
	/** Set on a CMS template page (it has no static DOM). */
	readonly collectionId: string | undefined;
	readonly archived: boolean;
	readonly draft: boolean;
};

/** An image node: its own alt when it has one (`null` or absent: none), the asset it shows. */
export type ImageNode = {readonly kind: 'image'; readonly id: string; readonly alt: string | undefined; readonly assetId: string | undefined};

/** A property value (`Alt Text`, `Plain Text`, …) of a component, or an instance's override of it. */
export type PropertyValue = {readonly propertyId: string; readonly type: string; readonly label: string; readonly text: string | undefined};

export type InstanceNode = {readonly kind: 'instance'; readonly id: string; readonly componentId: string; readonly overrides: readonly PropertyValue[]};

export type DomNode = ImageNode | InstanceNode;

export type ComponentInfo = {readonly id: string; readonly name: string | undefined};

/** One page of a list: the entries kept, the total it tells, and its paging facts (the entries as sent). */
export type Listed<T> = {readonly items: T[]; readonly total: number | undefined; readonly facts: PageFacts};

const text = (value: unknown) => typeof value === 'string' ? value : undefined;
const record = (value: unknown) => typeof value === 'object' && value !== null ? value as Record<string, unknown> : undefined;

/**
 * A list answer's entries under `key`. `optional`: the description does not require the list (a
 * page of a DOM, properties, components, pages), so an answer without it holds none; otherwise (or
 * when the answer is not an object) it is `undefined`, a bad page.
 */
function list<T>(body: unknown, key: string, read: (item: Record<string, unknown>) => T | undefined, optional = false): Listed<T> | undefined {
	const page = record(body);
	const items = page?.[key] ?? (optional ? [] : undefined);
	if (!page || !Array.isArray(items)) {
		return undefined;
	}

	const facts = pageFacts(body, key);
	return {items: items.flatMap(item => {
		const one = record(item);
		const read1 = one ? read(one) : undefined;
		return read1 === undefined ? [] : [read1];
	}), total: facts.total, facts};
}

export function readPages(body: unknown): Listed<PageInfo> | undefined {
	return list(body, 'pages', page => {
		const id = text(page.id);
		return id === undefined ? undefined : {
			id: id.toLowerCase(),
			title: text(page.title),
			slug: text(page.slug),
			publishedPath: text(page.publishedPath),
			collectionId: text(page.collectionId)?.toLowerCase(),
			archived: page.archived === true,
			draft: page.draft === true,
		};
	}, true);
}

function readProperty(value: Record<string, unknown>): PropertyValue | undefined {
	const propertyId = text(value.propertyId);
	const inner = record(value.text);
	return propertyId === undefined ? undefined : {propertyId, type: text(value.type) ?? '', label: text(value.label) ?? '', text: text(inner?.text) ?? undefined};
}

/** The image and component-instance nodes of one page of a DOM (other nodes are left out). */
export function readDom(body: unknown): Listed<DomNode> | undefined {
	return list<DomNode>(body, 'nodes', node => {
		const id = text(node.id);
		if (id === undefined) {
			return undefined;
		}

		if (node.type === 'image') {
			const image = record(node.image);
			return {kind: 'image', id, alt: text(image?.alt), assetId: text(image?.assetId)?.toLowerCase()};
		}

		if (node.type === 'component-instance') {
			const overrides = Array.isArray(node.propertyOverrides) ? node.propertyOverrides.flatMap(o => {
				const one = record(o);
				const read = one ? readProperty(one) : undefined;
				return read ? [read] : [];
			}) : [];
			return {kind: 'instance', id, componentId: text(node.componentId) ?? '', overrides};
		}

		return undefined;
	}, true);
}

export function readComponents(body: unknown): Listed<ComponentInfo> | undefined {
	return list(body, 'components', component => {
		const id = text(component.id);
		return id === undefined ? undefined : {id, name: text(component.name)};
	}, true);
}

export function readProperties(body: unknown): Listed<PropertyValue> | undefined {
	return list(body, 'properties', readProperty, true);
}

/** A CMS collection: its id, name and slug; with details, its Image and MultiImage fields' slugs. */
export type CollectionInfo = {readonly id: string; readonly name: string | undefined; readonly slug: string | undefined};
export type ImageField = {readonly slug: string; readonly multi: boolean};

/** One image of an Image or MultiImage field. */
export type FieldImage = {readonly fileId: string; readonly url: string | undefined; readonly alt: string | null | undefined};

export type ItemImages = {readonly id: string; readonly slug: string | undefined; readonly isArchived: boolean; readonly fieldData: Readonly<Record<string, unknown>>};

export function readCollections(body: unknown): Listed<CollectionInfo> | undefined {
	return list(body, 'collections', c => {
		const id = text(c.id);
		return id === undefined ? undefined : {id: id.toLowerCase(), name: text(c.displayName), slug: text(c.slug)};
	});
}

/** `collection-details`: the slugs of its Image and MultiImage fields. */
export function readImageFields(body: unknown): ImageField[] | undefined {
	return list(body, 'fields', field => {
		const slug = text(field.slug);
		return slug !== undefined && (field.type === 'Image' || field.type === 'MultiImage') ? {slug, multi: field.type === 'MultiImage'} : undefined;
	})?.items;
}

export function readItems(body: unknown): Listed<ItemImages> | undefined {
	return list(body, 'items', item => {
		const id = text(item.id);
		const fieldData = record(item.fieldData) ?? {};
		return id === undefined ? undefined : {id: id.toLowerCase(), slug: text(fieldData.slug), isArchived: item.isArchived === true, fieldData};
	});
}

/** The images of one field's value (an Image: one; a MultiImage: each, in order). */
export function fieldImages(value: unknown): FieldImage[] {
	const one = (v: unknown): FieldImage[] => {
		const image = record(v);
		const fileId = text(image?.fileId);
		return image && fileId !== undefined ? [{fileId: fileId.toLowerCase(), url: text(image.url), alt: image.alt === null ? null : text(image.alt)}] : [];
	};

	return Array.isArray(value) ? value.flatMap(one) : one(value);
}

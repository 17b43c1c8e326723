import type {AuditAsset, SiteRead} from './read.js';
import {neutralize} from '../../rows/formula.js';
import {coverageOfPlaces, duplicatesOnPage, problemOf, renderedAlt, type AltSource, type FixWith, type PlaceCoverage, type PlaceProblem, type Seen} from '../../rows/render.js';
import {fieldImages, type DomNode} from '../../webflow/pages.js';

/** The audit's columns, in order (the contract's names). The file is a jobs file: `altText` is the column to fill. */
export const AUDIT_COLUMNS = ['siteId', 'where', 'pageId', 'nodeId', 'assetId', 'collectionId', 'itemId', 'field', 'fileId', 'localeId', 'url', 'altText', 'alt_source', 'problem', 'fix_with', 'exportedAltText'] as const;

/** One place an image renders, and the alt text it gets there. */
export type Place = {
	readonly siteId: string;
	/** The page path; `component/<name>` for a component's own DOM; `collection/item/field` for a CMS image. */
	readonly where: string;
	readonly pageId: string;
	readonly nodeId: string;
	readonly assetId: string;
	readonly collectionId: string;
	readonly itemId: string;
	readonly field: string;
	readonly fileId: string;
	/** '' for the primary locale. */
	readonly localeId: string;
	readonly url: string;
	readonly altText: string;
	readonly altSource: AltSource;
	readonly problem: PlaceProblem | undefined;
	readonly fixWith: FixWith;
	/** For the report: the page's title, the collection's name. */
	readonly group: string;
	readonly kind: 'page' | 'component' | 'cms';
};

type Draft = Omit<Place, 'problem'> & {readonly decorative: boolean; readonly fileName: string | undefined};

const EMPTY = {pageId: '', nodeId: '', assetId: '', collectionId: '', itemId: '', field: '', fileId: '', url: ''};

/** A node of a page's or a component's DOM → its places (an image node: one; an instance: one per `Alt Text` override). */
function nodePlaces({node, owner, context, assets, locale}: {node: DomNode; owner: 'page' | 'component'; context: Omit<Draft, keyof typeof EMPTY | 'altText' | 'altSource' | 'fixWith' | 'decorative' | 'fileName' | 'localeId'> & {pageId: string}; assets: ReadonlyMap<string, AuditAsset>; locale: string}): Draft[] {
	if (node.kind === 'instance') {
		return node.overrides.filter(o => o.type === 'Alt Text').map(o => {
			const shown = renderedAlt({kind: 'property', text: o.text});
			return {...EMPTY, ...context, nodeId: `${node.id}/${o.propertyId}`, localeId: locale, altText: shown.altText, altSource: shown.source, fixWith: shown.fixWith, decorative: shown.decorative, fileName: undefined};
		});
	}

	const asset = node.assetId === undefined ? undefined : assets.get(node.assetId);
	const seen: Seen = {kind: 'node', owner, alt: node.alt, assetId: node.assetId, assetAlt: asset?.altText.get(locale) ?? asset?.altText.get('')};
	const shown = renderedAlt(seen);
	return [{...EMPTY, ...context, nodeId: node.id, assetId: node.assetId ?? '', url: asset?.hostedUrl ?? '', localeId: locale, altText: shown.altText, altSource: shown.source, fixWith: shown.fixWith, decorative: shown.decorative, fileName: asset?.originalFileName}];
}

/** The drafts of one page (or component, or item) in one locale, judged: each its own problem, then the page's duplicates. */
function judged(drafts: readonly Draft[]): Place[] {
	const duplicates = duplicatesOnPage(drafts.map(d => ({altText: d.altText, image: d.assetId || d.fileId || d.nodeId})));
	return drafts.map(({decorative, fileName, ...draft}, i) => ({...draft, problem: problemOf({altText: draft.altText, decorative, fileName}) ?? (duplicates.has(i) ? 'duplicate_on_page' : undefined)}));
}

/** Every place an image renders on a site, in the order read: pages (each locale), then components. */
export function placesOf({siteId, read, locales}: {siteId: string; read: SiteRead; locales: readonly string[]}): Place[] {
	const places: Place[] = [];
	for (const {page, nodes} of read.pages) {
		const where = page.publishedPath ?? `/${page.slug ?? page.id}`;
		for (const locale of locales) {
			const context = {siteId, where, pageId: page.id, group: page.title ?? where, kind: 'page' as const};
			places.push(...judged((nodes.get(locale) ?? []).flatMap(node => nodePlaces({node, owner: 'page', context, assets: read.assets, locale}))));
		}
	}

	for (const {component, nodes, properties} of read.components) {
		const where = `component/${component.name ?? component.id}`;
		for (const locale of locales) {
			const context = {siteId, where, pageId: '', group: where, kind: 'component' as const};
			const own = (nodes.get(locale) ?? []).flatMap(node => nodePlaces({node, owner: 'component', context, assets: read.assets, locale}));
			const defaults = (properties.get(locale) ?? []).filter(p => p.type === 'Alt Text').map((p): Draft => {
				const shown = renderedAlt({kind: 'property', text: p.text});
				return {...EMPTY, ...context, nodeId: p.propertyId, localeId: locale, altText: shown.altText, altSource: shown.source, fixWith: shown.fixWith, decorative: false, fileName: undefined};
			});
			places.push(...judged([...own, ...defaults]));
		}
	}

	for (const {collection, fields, items} of read.collections) {
		for (const locale of locales) {
			for (const item of items.get(locale) ?? []) {
				// One item's images render together on its template page: duplicates are judged per item.
				places.push(...judged(fields.flatMap(field => fieldImages(item.fieldData[field.slug]).map((image): Draft => {
					const asset = read.assets.get(image.fileId);
					const shown = renderedAlt({kind: 'cms', alt: image.alt, assetAlt: asset?.altText.get(locale) ?? asset?.altText.get('')});
					return {
						...EMPTY, siteId, where: `${collection.slug ?? collection.id}/${item.slug ?? item.id}/${field.slug}`, group: collection.name ?? collection.slug ?? collection.id, kind: 'cms',
						assetId: shown.source === 'asset' ? image.fileId : '', collectionId: collection.id, itemId: item.id, field: field.slug, fileId: image.fileId, url: image.url ?? asset?.hostedUrl ?? '',
						localeId: locale, altText: shown.altText, altSource: shown.source, fixWith: shown.fixWith, decorative: shown.decorative, fileName: asset?.originalFileName,
					};
				}))));
			}
		}
	}

	return places;
}

/** A place as a row of the audit CSV: server text kept from running as a formula (read back exactly). */
export function placeRow(place: Place): string[] {
	return [place.siteId, place.where, place.pageId, place.nodeId, place.assetId, place.collectionId, place.itemId, place.field, place.fileId, place.localeId, place.url, place.altText, place.altSource, place.problem ?? '', place.fixWith, place.altText].map(cell => neutralize(cell));
}

/** Where a place is, whatever its alt: the key `--compare` matches places by. */
export function placeKey(place: Pick<Place, 'siteId' | 'where' | 'pageId' | 'nodeId' | 'collectionId' | 'itemId' | 'field' | 'fileId' | 'localeId'>): string {
	return [place.siteId, place.pageId === '' && place.itemId === '' ? place.where : place.pageId, place.nodeId, place.collectionId, place.itemId, place.field, place.fileId, place.localeId].join('|');
}

/** An earlier audit's place, as `--compare` reads it back. */
export type EarlierPlace = {readonly key: string; readonly where: string; readonly nodeId: string; readonly problem: string; readonly line: number};

export type Comparison = {
	/** Open before, fixed now (or no longer rendering). */
	readonly fixed: EarlierPlace[];
	/** Open now, not open before. */
	readonly new: Place[];
	readonly stillOpen: Place[];
};

/** Places fixed, new and still open since an earlier audit. */
export function compare(earlier: readonly EarlierPlace[], now: readonly Place[]): Comparison {
	const openBefore = new Map(earlier.filter(place => place.problem !== '').map(place => [place.key, place]));
	const openNow = new Set<string>();
	const fresh: Place[] = [];
	const stillOpen: Place[] = [];
	for (const place of now) {
		if (place.problem === undefined) {
			continue;
		}

		const key = placeKey(place);
		openNow.add(key);
		(openBefore.has(key) ? stillOpen : fresh).push(place);
	}

	return {fixed: [...openBefore.values()].filter(place => !openNow.has(place.key)), new: fresh, stillOpen};
}

/** Coverage of a group of places (a site, a page, a collection), worst first. */
export type GroupCoverage = PlaceCoverage & {readonly siteId: string; readonly group: string; readonly where: string; readonly kind: Place['kind']};

export function coverageBy(places: readonly Place[], by: (place: Place) => string | undefined): GroupCoverage[] {
	const groups = new Map<string, Place[]>();
	for (const place of places) {
		const key = by(place);
		if (key !== undefined) {
			const group = groups.get(key);
			if (group) {
				group.push(place);
			} else {
				groups.set(key, [place]);
			}
		}
	}

	return [...groups.values()].flatMap(([first, ...rest]) => first ? [{...coverageOfPlaces([first, ...rest]), siteId: first.siteId, group: first.group, where: first.where, kind: first.kind}] : []).sort((a, b) => (a.covered / Math.max(1, a.places)) - (b.covered / Math.max(1, b.places)) || b.places - a.places);
}

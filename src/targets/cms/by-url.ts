import {urlKey} from '../../rows/image-url.js';
import type {ValidJob} from '../../rows/job.js';
import type {Outcome} from '../../rows/result.js';
import type {WebflowClient} from '../../webflow/client.js';
import {imagesOf, type CmsJob} from './merge.js';
import {readCollection, readCollections, variantKey, type CollectionState, type ReadFailure, type Request} from './read.js';

/**
 * Image URLs (crawler rows) that are CMS images (issue 20): a page bound to a CMS field renders the
 * field's alt, so a row keyed by such a URL writes that field's image. The site's CMS images are
 * read once (collections, their fields, the items of those with an image field, staged, primary
 * CMS locale, 100 a request) and found by the URL (variants and hosts as for assets: `urlKey`) or
 * by the `fileId` a Webflow CDN URL carries.
 */

/** One image of one item's field: where a URL row's alt goes. `index`: its 1-based place in the field. */
export type CmsPlace = {readonly collectionId: string; readonly itemId: string; readonly field: string; readonly fileId: string; readonly index: number};

export type CmsImageIndex = {
	/** Every place that shows the row's image (none: the URL is no CMS image of the site). */
	placesOf(job: ValidJob): readonly CmsPlace[];
	/** The collections read with their staged items (primary CMS locale): the rows' writes plan against them, not read twice. */
	readonly states: ReadonlyMap<string, CollectionState>;
	/** Requests that are no list page (list-collections, each collection's details): a dry run counts them. */
	readonly reads: number;
};

/** The site's CMS images by URL and by fileId. */
export async function readCmsImages({client, request, siteId}: {client: WebflowClient; request: Request; siteId: string}): Promise<CmsImageIndex | ReadFailure> {
	const collections = await readCollections({client, request, siteId});
	if ('failure' in collections) {
		return collections;
	}

	const byUrl = new Map<string, CmsPlace[]>();
	const byFileId = new Map<string, CmsPlace[]>();
	const add = (into: Map<string, CmsPlace[]>, key: string, place: CmsPlace) => {
		const places = into.get(key);
		if (places) {
			places.push(place); // An image in many items (a placeholder): one list, not a copy per item.
		} else {
			into.set(key, [place]);
		}
	};

	const states = new Map<string, CollectionState>();
	const hasImages = (fields: ReadonlyMap<string, string>) => [...fields.values()].some(type => type !== 'other');
	const read = await Promise.all(collections.map(async ({id}) => readCollection({client, request, collectionId: id, locales: new Set([undefined]), live: false, itemsWhen: hasImages})));
	for (const state of read) {
		if (state !== undefined && 'failure' in state) {
			return state;
		}

		if (state === undefined || !hasImages(state.fields)) {
			continue;
		}

		states.set(state.id, state);
		for (const [key, item] of state.staged) {
			if (key !== variantKey(item.id, undefined)) {
				continue;
			}

			for (const [field, type] of state.fields) {
				if (type === 'other') {
					continue;
				}

				for (const image of imagesOf(type, item.fieldData[field])) {
					const place = {collectionId: state.id, itemId: item.id, field, fileId: image.fileId, index: image.at + 1};
					add(byFileId, image.fileId, place);
					const key = image.url === null ? undefined : urlKey(image.url);
					if (key !== undefined) {
						add(byUrl, key, place);
					}
				}
			}
		}
	}

	return {
		states,
		reads: 1 + collections.length,
		placesOf(job) {
			const {image} = job;
			if (image === undefined) {
				return [];
			}

			const key = urlKey(image.url);
			const found = [...key === undefined ? [] : byUrl.get(key) ?? [], ...image.ref.kind === 'cdn' ? byFileId.get(image.ref.assetId) ?? [] : []];
			const seen = new Set<string>();
			return found.filter(place => {
				const id = `${place.collectionId}/${place.itemId}/${place.field}/${place.index}`;
				return !seen.has(id) && Boolean(seen.add(id));
			});
		},
	};
}

/**
 * A row keyed by an image URL: its CMS places' outcomes (none: the URL is no CMS image of the site,
 * or — `unread` says why — the CMS could not be read; a place undefined: the lookup's own end, a stop or a failure).
 */
export type FoundDone = (ends: ReadonlyArray<{readonly place: CmsPlace | undefined; readonly outcome: Outcome}>, unread?: string) => void;

/**
 * Each URL row as a CMS row per place that shows its image (the row's alt and base, for the image
 * there, in the row's locale if it names one), each with its own end; the row's `done` gets them
 * all once the last has ended, or none at once when no place shows the image.
 */
export function atPlaces(lookups: ReadonlyArray<{readonly job: ValidJob; readonly done: FoundDone}>, index: CmsImageIndex, siteId: string): Array<{job: CmsJob; done: (outcome: Outcome) => void}> {
	return lookups.flatMap(({job, done}) => {
		const places = index.placesOf(job);
		const ends: Array<{place: CmsPlace; outcome: Outcome}> = [];
		if (places.length === 0) {
			done(ends);
		}

		return places.map(place => {
			let ended = false;
			const cms = {collectionId: place.collectionId, itemId: place.itemId, field: place.field, fileId: place.fileId, index: place.index, cmsLocaleId: job.localeId};
			return {job: {...job, assetId: place.fileId, siteId, displayName: undefined, cms}, done(outcome: Outcome) {
				if (!ended) {
					ended = true;
					ends.push({place, outcome});
					if (ends.length === places.length) {
						done(ends);
					}
				}
			}};
		});
	});
}

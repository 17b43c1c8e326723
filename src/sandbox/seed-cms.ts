import {InputError} from '../errors.js';
import {newCollection, type ImageValue, type SandboxCollection, type SandboxItem} from './cms.js';
import {localeOfCms, objectId, type SandboxSite} from './state.js';

const HEX24 = /^[\da-f]{24}$/i;

const slugOf = (name: string) => name.toLowerCase().replaceAll(/[^\da-z]+/g, '-').replaceAll(/^-|-$/g, '') || 'item';

/**
 * One CMS row of a seed file, in the format `export --include assets,cms` writes: `collectionId`,
 * `itemId`, `field`, `fileId`, `index` (1-based in a MultiImage field; blank: an Image field),
 * `cmsLocaleId` (blank: the primary locale), `altText`, and as context `collection`, `item`, `url`,
 * `isDraft` (`true`), `lastPublished`, `live` (`yes`: published, the live item equal to the staged).
 */
export function seedCmsRow({site, get, file, line}: {site: SandboxSite; get: (...names: string[]) => string | undefined; file: string; line: number}): void {
	const wrong = (code: string, message: string) => new InputError({file, line, code, message});
	const hex = (name: string) => {
		const id = get(name.toLowerCase());
		if (id === undefined || !HEX24.test(id)) {
			throw wrong('seed_invalid_cms_row', `${name} "${id ?? ''}" is not a 24-character hex id`);
		}

		return id.toLowerCase();
	};

	const ids = {collectionId: hex('collectionId'), itemId: hex('itemId'), fileId: hex('fileId')};

	const slug = get('field');
	if (slug === undefined || !/^[\w-]+$/.test(slug) || slug === 'name' || slug === 'slug') {
		throw wrong('seed_invalid_cms_row', `field "${slug ?? ''}" is not the slug of an image field`);
	}

	const index = get('index');
	const position = index === undefined ? undefined : Number(index);
	if (position !== undefined && (!Number.isInteger(position) || position < 1 || position > 25)) {
		throw wrong('seed_invalid_cms_row', `index "${index}" is not a position from 1 to 25`);
	}

	const {collectionId} = ids;
	let collection = site.collections.get(collectionId);
	if (!collection) {
		const displayName = get('collection') ?? 'Collection';
		collection = newCollection({id: collectionId, siteId: site.id, displayName, slug: slugOf(displayName), fields: []});
		site.collections.set(collectionId, collection);
	}

	const type = position === undefined ? 'Image' : 'MultiImage';
	const field = collection.fields.find(f => f.slug === slug);
	if (field && field.type !== type) {
		throw wrong('seed_invalid_cms_row', `field "${slug}" is ${field.type === 'Image' ? 'an Image field (no index)' : 'a MultiImage field (with an index)'} on an earlier line`);
	}

	if (!field) {
		collection.fields.push({id: objectId(`${collectionId}/field/${slug}`), slug, displayName: slug, type, isRequired: false});
	}

	const locale = siteLocaleOf(site, get('cmslocaleid')?.toLowerCase(), site.assets.size === 0 && site.collections.size === 1 && collection.items.size === 0);

	const item = itemOf(collection, ids.itemId);
	let variant = item.variants.get(locale);
	if (!variant) {
		const name = get('item') ?? item.id;
		variant = {fieldData: {name, slug: slugOf(name)}, lastUpdated: item.createdOn, lastPublished: null, isDraft: false, isArchived: false, live: undefined};
		item.variants.set(locale, variant);
	}

	variant.isDraft = /^(?:true|yes|1)$/i.test(get('isdraft') ?? '');
	if (get('live') === 'yes') {
		variant.lastPublished = get('lastpublished') ?? item.createdOn;
		// The live item is the staged one as loaded: finishCmsSeed copies it once every row is in.
		variant.live = {};
	}

	const image: ImageValue = {fileId: ids.fileId, url: get('url') ?? null, alt: get('alttext', 'alt') ?? null};
	if (position === undefined) {
		variant.fieldData[slug] = image;
	} else {
		const list = (variant.fieldData[slug] ?? []) as Array<ImageValue | undefined>;
		list[position - 1] = image;
		variant.fieldData[slug] = list;
	}
}

/**
 * The site locale a seed's `cmsLocaleId` names: blank, the primary; a CMS locale id the site has, its
 * locale; a site locale id (older seeds), that locale. Another id makes a locale whose CMS locale id
 * it is — the primary when the site has nothing yet.
 */
function siteLocaleOf(site: SandboxSite, cmsLocaleId: string | undefined, first: boolean): string {
	if (cmsLocaleId === undefined) {
		return site.primaryLocale;
	}

	const known = [site.primaryLocale, ...site.secondaryLocales];
	const found = known.includes(cmsLocaleId) ? cmsLocaleId : localeOfCms(site, cmsLocaleId);
	if (found !== undefined) {
		return found;
	}

	const locale = objectId(`${site.id}/locale-of-cms/${cmsLocaleId}`);
	site.cmsLocaleIds ??= new Map();
	site.cmsLocaleIds.set(locale, cmsLocaleId);
	if (first) {
		site.primaryLocale = locale;
	} else {
		site.secondaryLocales.push(locale);
	}

	return locale;
}

function itemOf(collection: SandboxCollection, id: string): SandboxItem {
	let item = collection.items.get(id);
	if (!item) {
		item = {id, createdOn: collection.createdOn, variants: new Map()};
		collection.items.set(id, item);
	}

	return item;
}

/** Once every row is read: MultiImage gaps closed, and published items' live versions copied from the staged ones. */
export function finishCmsSeed(sites: Iterable<SandboxSite>): void {
	for (const site of sites) {
		for (const collection of site.collections.values()) {
			for (const item of collection.items.values()) {
				for (const variant of item.variants.values()) {
					for (const field of collection.fields) {
						if (field.type === 'MultiImage' && Array.isArray(variant.fieldData[field.slug])) {
							variant.fieldData[field.slug] = (variant.fieldData[field.slug] as unknown[]).filter(Boolean);
						}
					}

					if (variant.live !== undefined) {
						variant.live = structuredClone(variant.fieldData);
					}
				}
			}
		}
	}
}

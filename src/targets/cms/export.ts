import type {SiteShare} from '../../engine/share.js';
import {imagesOf} from './merge.js';
import {AS_GIVEN, readCmsLocales} from './locales.js';
import {readCollection, readCollections, variantKey, type ReadFailure, type Request} from './read.js';

/** The CMS columns of an export, after the asset columns (a CMS row leaves those blank but `altText` and `exportedAltText`). */
export const CMS_EXPORT_COLUMNS = ['collectionId', 'collection', 'itemId', 'item', 'field', 'fileId', 'index', 'cmsLocaleId', 'url', 'isDraft', 'lastPublished', 'live'] as const;

/** An export's CMS rows, and the locales asked (as asked) that the CMS refused, with Webflow's message. */
export type CmsExport = {readonly rows: CmsImageRow[]; readonly badLocales: ReadonlyMap<string, string>};

/** One image of one field of one item in one CMS locale, as an export row tells it. */
export type CmsImageRow = {readonly alt: string; readonly cells: readonly string[]};

/**
 * Every image of every Image and MultiImage field of every item of every collection of the site,
 * per CMS locale asked ('' the primary): staged values (what `run` merges into), `live` = `yes`
 * when the item is published. `missingOnly`: only images without alt text. Items 100 a request.
 */
export async function exportCms({share, siteId, locales, missingOnly}: {share: SiteShare; siteId: string; locales: readonly string[]; missingOnly: boolean}): Promise<CmsExport | ReadFailure> {
	const {session} = share;
	const request: Request = async (send, kind) => share.request(async () => {
		if (kind === 'list') {
			share.listRequests++;
		}

		return send(session.abort);
	});
	const collections = await readCollections({client: session.client, request, siteId});
	if ('failure' in collections) {
		return collections;
	}

	// `--locale` names site locales (as for assets) or CMS locale ids: get-site tells the CMS one.
	const mapping = locales.some(locale => locale !== '') ? await readCmsLocales({client: session.client, request, siteId}) : AS_GIVEN;
	const asked = new Map(locales.map(locale => [mapping.toCms(locale) ?? '', locale]));
	const rows: CmsImageRow[] = [];
	const badLocales = new Map<string, string>();
	const cmsLocales = new Set([...asked.keys()].map(locale => locale === '' ? undefined : locale));
	for (const info of collections) {
		const read = await readCollection({client: session.client, request, collectionId: info.id, locales: cmsLocales, live: true});
		if (read === undefined) {
			continue; // Gone since it was listed.
		}

		if ('failure' in read) {
			return read;
		}

		for (const [cmsLocaleId, message] of read.badLocales) {
			badLocales.set(asked.get(cmsLocaleId) ?? cmsLocaleId, message);
		}

		for (const cmsLocaleId of cmsLocales) {
			for (const [key, item] of read.staged) {
				if (key !== variantKey(item.id, cmsLocaleId)) {
					continue;
				}

				const live = read.live.has(key) ? 'yes' : 'staged';
				for (const [slug, type] of read.fields) {
					if (type === 'other') {
						continue;
					}

					for (const image of imagesOf(type, item.fieldData[slug])) {
						const alt = image.alt ?? '';
						if (missingOnly && alt.trim() !== '') {
							continue;
						}

						const name = typeof item.fieldData.name === 'string' ? item.fieldData.name : '';
						rows.push({alt, cells: [info.id, read.displayName || info.displayName, item.id, name, slug, image.fileId, type === 'MultiImage' ? String(image.at + 1) : '', cmsLocaleId ?? '', image.url ?? '', String(item.isDraft), item.lastPublished ?? '', live]});
					}
				}
			}
		}
	}

	return {rows, badLocales};
}

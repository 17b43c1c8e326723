import {readCsvFile} from '../files/csv/input.js';
import {InputError} from '../errors.js';
import {finishCmsSeed, seedCmsRow} from './seed-cms.js';
import {newAsset, newSite, objectId, type SandboxSite} from './state.js';

const HEX24 = /^[\da-f]{24}$/i;

const normalize = (name: string) => name.toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Sites and assets from a CSV in the `export` format plus a `siteId` column (one line per asset
 * and locale). A locale id that is not the asset's first is a secondary locale of its site. A line
 * with an `itemId` is a CMS image, in the format of `export --include assets,cms` (seed-cms.ts).
 */
export async function loadSeed(path: string): Promise<SandboxSite[]> {
	const sites = new Map<string, SandboxSite>();
	const siteOf = (id: string | undefined) => {
		const siteId = (id ?? objectId('seed/site')).toLowerCase();
		let site = sites.get(siteId);
		if (!site) {
			site = newSite(siteId, 0);
			sites.set(siteId, site);
		}

		return site;
	};
	let header: string[] | undefined;
	await readCsvFile({
		path,
		onRecord({fields, firstLine}) {
			if (!header) {
				header = fields.map(normalize);
				return;
			}

			const columns = header;
			const get = (...names: string[]) => {
				for (const name of names) {
					const i = columns.indexOf(name);
					if (i >= 0 && fields[i] !== undefined && fields[i] !== '') {
						return fields[i];
					}
				}

				return undefined;
			};

			if (get('itemid') !== undefined) {
				seedCmsRow({site: siteOf(get('siteid')), get, file: path, line: firstLine});
				return;
			}

			const id = get('assetid', 'id')?.toLowerCase();
			if (id === undefined) {
				return;
			}

			if (!HEX24.test(id)) {
				throw new InputError({file: path, line: firstLine, code: 'seed_invalid_asset_id', message: `asset id "${id}" is not a 24-character hex id`});
			}

			const site = siteOf(get('siteid'));

			const localeId = get('localeid', 'locale')?.toLowerCase();
			let asset = site.assets.get(id);
			if (!asset) {
				if (localeId !== undefined && site.assets.size === 0 && site.secondaryLocales.length === 0) {
					site.primaryLocale = localeId;
				}

				asset = newAsset({site, id, fileName: get('originalfilename') ?? get('displayname') ?? `${id}.jpg`, displayName: get('displayname')});
				asset.hostedUrl = get('hostedurl') ?? asset.hostedUrl;
				asset.contentType = get('contenttype') ?? asset.contentType;
				asset.lastUpdated = get('lastupdated') ?? asset.lastUpdated;
				asset.folderId = get('folderid') ?? null;
			}

			const locale = localeId ?? site.primaryLocale;
			if (locale !== site.primaryLocale && !site.secondaryLocales.includes(locale)) {
				site.secondaryLocales.push(locale);
			}

			asset.altText.set(locale, get('alttext', 'alt') ?? null);
		},
	});
	finishCmsSeed(sites.values());
	return [...sites.values()];
}

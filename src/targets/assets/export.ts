import {neutralize} from '../../rows/formula.js';
import {BASE_COLUMNS} from '../../rows/job.js';
import type {AssetSummary} from '../../webflow/client.js';
import type {SiteShare} from '../../engine/share.js';
import {listAssets, type SiteFetchFailure} from './read.js';

/**
 * An export's asset columns: the jobs columns, then read-only context that `run` carries through
 * untouched, then the base: the display name and alt text as exported, which `run` compares with
 * the sheet and the site (the three-way round trip). Plain columns, because they survive every
 * spreadsheet program.
 */
export const ASSET_EXPORT_COLUMNS = ['assetId', 'localeId', 'displayName', 'altText', 'hostedUrl', 'originalFileName', 'contentType', 'lastUpdated', 'folderId', BASE_COLUMNS.displayName, BASE_COLUMNS.altText] as const;

/** Every cell comes from the server (anyone who can rename an asset writes them): none may run as a formula. */
function exportRow(asset: AssetSummary, localeId: string): string[] {
	return [asset.id, localeId, asset.displayName ?? '', asset.altText ?? '', asset.hostedUrl ?? '', asset.originalFileName ?? '', asset.contentType ?? '', asset.lastUpdated ?? '', asset.folderId ?? '', asset.displayName ?? '', asset.altText ?? ''].map(cell => neutralize(cell));
}

/**
 * export's asset rows: every asset of the site in each locale asked ('' the primary), 100 a page
 * on the site's share of its token, one row per asset and locale (`missingOnly`: only those
 * without alt text there); how many assets, and the locales the site refused. A listing that
 * ended early is the caller's to say (`listStop`).
 */
export async function exportAssets({share, siteId, locales, missingOnly}: {share: SiteShare; siteId: string; locales: readonly string[]; missingOnly: boolean}): Promise<{rows: string[][]; assets: number; badLocales: ReadonlyMap<string, string>} | SiteFetchFailure> {
	const rows: string[][] = [];
	const fetched = await listAssets(share, {
		siteId,
		locales,
		onPage({localeId, assets: page}) {
			for (const asset of page) {
				if (!missingOnly || (asset.altText ?? '').trim() === '') {
					rows.push(exportRow(asset, localeId));
				}
			}
		},
	});
	return 'attempted' in fetched ? fetched : {rows, assets: fetched.assets.size, badLocales: fetched.badLocales};
}

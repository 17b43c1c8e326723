import {writeCsvFile} from './csv/journal.js';
import type {Logger} from './logger.js';
import {neutralize} from './rows/formula.js';
import {BASE_COLUMNS} from './rows/job.js';
import {learnBudget, Session, type ConnectionConfig, type StopReason} from './session.js';
import {fetchSite, PAGE_SIZE} from './site.js';
import type {AssetSummary} from './webflow/client.js';

export type ExportConfig = ConnectionConfig & {
	readonly site: string;
	/** Locale ids to export; none means the primary locale. */
	readonly locales: readonly string[];
	readonly missingOnly: boolean;
	readonly out: string;
};

export type ExportSummary = {
	readonly out: string;
	readonly site: string;
	readonly assets: number;
	readonly rows: number;
	readonly requests: number;
	readonly stopped: {readonly reason: StopReason; readonly message: string} | undefined;
};

/**
 * The jobs columns, then read-only context that `run` carries through untouched, then the base:
 * the display name and alt text as exported, which `run` compares with the sheet and the site
 * (the three-way round trip). Plain columns, because they survive every spreadsheet program.
 */
export const EXPORT_COLUMNS = ['assetId', 'localeId', 'displayName', 'altText', 'hostedUrl', 'originalFileName', 'contentType', 'lastUpdated', 'folderId', BASE_COLUMNS.displayName, BASE_COLUMNS.altText] as const;

/** Every cell comes from the server (anyone who can rename an asset writes them): none may run as a formula. */
function exportRow(asset: AssetSummary, localeId: string): string[] {
	return [asset.id, localeId, asset.displayName ?? '', asset.altText ?? '', asset.hostedUrl ?? '', asset.originalFileName ?? '', asset.contentType ?? '', asset.lastUpdated ?? '', asset.folderId ?? '', asset.displayName ?? '', asset.altText ?? ''].map(cell => neutralize(cell));
}

/**
 * `altbatch export`: every asset of the site, for each locale asked, as a jobs CSV ready to edit
 * (UTF-8 with a BOM, so Excel opens it right). Running it back unchanged changes nothing.
 */
export async function exportSite(config: ExportConfig, {logger, interrupt, now = Date.now}: {logger: Logger; interrupt?: AbortSignal | undefined; now?: () => number}): Promise<ExportSummary> {
	const session = new Session({...config, token: config.token ?? '', logger, now, interrupt});
	const rows: string[][] = [];
	let assets = new Set<string>();
	try {
		await learnBudget({session, site: config.site, scope: 'assets:read', logger});
		if (!session.stop.current) {
			const fetched = await fetchSite({
				siteId: config.site,
				locales: config.locales.length > 0 ? config.locales : [''],
				request: ({localeId, offset}) => session.request(() => session.client.listAssets({siteId: config.site, localeId, offset, limit: PAGE_SIZE})),
				onPage({localeId, assets: page}) {
					for (const asset of page) {
						if (!config.missingOnly || (asset.altText ?? '').trim() === '') {
							rows.push(exportRow(asset, localeId));
						}
					}
				},
			});
			if ('attempted' in fetched) {
				const outcome = session.outcome(fetched.attempted);
				session.stop.trigger({reason: fetched.attempted.kind === 'auth' ? 'auth' : 'unreachable', rowCode: 'aborted', message: `site ${config.site} could not be listed (${outcome.httpStatus ?? ''} ${outcome.errorCode ?? ''}: ${outcome.errorMessage ?? ''})`});
			} else {
				assets = new Set(fetched.assets.keys());
				const refused = [...fetched.badLocales].map(([locale, message]) => `${locale}: ${message}`);
				if (refused.length > 0) {
					session.stop.trigger({reason: 'auth', rowCode: 'aborted', message: `the site refused locale(s) ${refused.join('; ')}`});
				}
			}
		}

		const stopped = session.stop.current;
		if (!stopped) {
			writeCsvFile({path: config.out, rows: [[...EXPORT_COLUMNS], ...rows], bom: true});
		}

		return {
			out: config.out,
			site: config.site,
			assets: assets.size,
			rows: stopped ? 0 : rows.length,
			requests: session.governor.stats().requests,
			stopped: stopped ? {reason: stopped.reason, message: stopped.message} : undefined,
		};
	} finally {
		await session.close();
	}
}

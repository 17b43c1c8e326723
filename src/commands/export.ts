import {writeCsvFile} from '../files/csv/write.js';
import {AltbatchError} from '../errors.js';
import {lockPath} from '../files/lock.js';
import type {Logger} from '../logger.js';
import type {PlannedFile} from '../files/paths.js';
import {neutralize, unneutralize} from '../rows/formula.js';
import {BASE_COLUMNS} from '../rows/job.js';
import {followedByMany, learnBudget, publicStop, Session, siteRefusal, type ConnectionConfig, type Stop} from '../engine/session.js';
import {Sessions} from '../engine/sessions.js';
import {ASSET_EXPORT_COLUMNS, exportAssets} from '../targets/assets/export.js';
import {SiteShare} from '../engine/share.js';
import {listStop} from '../targets/assets/read.js';
import {CMS_EXPORT_COLUMNS, exportCms} from '../targets/cms/export.js';
import {isXlsx, XlsxWriter} from '../files/xlsx.js';
import type {ExportSiteSummary, ExportSummary} from '../report/summary.js';

export type ExportConfig = ConnectionConfig & {
	/** `--site`: the one site; with `--tokens`, its token comes from the file. */
	readonly site: string | undefined;
	/** `--tokens`: site id → token; without `--site`, every site of the file is exported. */
	readonly tokens?: ReadonlyMap<string, string> | undefined;
	/** `--tokens`: the file the tokens were read from. */
	readonly tokensFile?: string | undefined;
	/** `--token-file`: the file the token was read from. */
	readonly tokenFile?: string | undefined;
	/** Locale ids to export; none means the primary locale. */
	readonly locales: readonly string[];
	readonly missingOnly: boolean;
	/** `--include`: asset rows, CMS rows, or both (assets first). @default assets */
	readonly include?: ReadonlySet<'assets' | 'cms'> | undefined;
	readonly out: string;
	/** `--redis` (or REDIS_URL): the token's budget shared with every process using it, as a run shares it. */
	readonly redis?: string | undefined;
};

/** With `--tokens` each row says its site first, so `run --tokens` routes it back. */
const SITE_COLUMN = 'siteId';

/** Every file an export reads or writes, for `assertFilesSafe` (the CLI adds `--log-file`). */
export function exportFiles(config: ExportConfig): PlannedFile[] {
	return [
		{role: '--out', path: config.out, use: 'write'},
		{role: 'the lock', path: lockPath(config.out), use: 'write'},
		{role: '--tokens', path: config.tokensFile, use: 'read'},
		{role: '--token-file', path: config.tokenFile, use: 'read'},
	];
}

/**
 * The whole export in one file, renamed over `out` only when complete: a CSV with a BOM, or for an
 * `out` ending in .xlsx a workbook whose cells are all strings (never run as formulas, so they go
 * without the CSV's guarding `'`).
 */
async function writeExport(out: string, rows: ReadonlyArray<readonly string[]>): Promise<void> {
	try {
		if (isXlsx(out)) {
			const writer = new XlsxWriter({path: out, sheet: 'Assets'});
			for (const row of rows) {
				writer.add(row.map(cell => unneutralize(cell)));
			}

			await writer.finish();
		} else {
			writeCsvFile({path: out, rows, bom: true});
		}
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? String(error);
		throw new AltbatchError('internal', 'results_not_written', `${out} could not be written (${code}); the earlier file is as it was`, {cause: error});
	}
}

/** The sites to export, each with its token: `--site`'s, else every site of `--tokens`. */
function targets(config: ExportConfig): Array<{site: string; token: string}> {
	const sites = config.site === undefined ? [...config.tokens?.keys() ?? []] : [config.site];
	return sites.map(site => ({site, token: config.tokens?.get(site) ?? config.token ?? ''}));
}

type SiteExport = {site: string; share: SiteShare; rows: string[][]; cmsRows: string[][]; assets: number; introspect: number; badLocales: Map<string, string>; stop: Stop | undefined};

/** One site through its token's session: introspect (once per token), then every list page. */
async function exportOne({site, session, config, logger}: {site: string; session: Session; config: ExportConfig; logger: Logger}): Promise<SiteExport> {
	const share = new SiteShare(session);
	const result: SiteExport = {site, share, rows: [], cmsRows: [], assets: 0, introspect: 0, badLocales: new Map(), stop: undefined};
	const include = config.include ?? new Set(['assets']);
	// Joined before introspect: with other processes on the token, introspect spends the shared budget too.
	await session.connectShared();
	const facts = await learnBudget({session, scope: include.has('assets') ? 'assets:read' : undefined, logger});
	result.introspect = facts.requests;
	const refused = siteRefusal(facts, site);
	if (refused !== undefined) {
		share.stop({reason: 'auth', rowCode: 'aborted', message: refused});
	}

	if (include.has('cms') && facts.scopes !== undefined && !facts.scopes.includes('cms:read') && !facts.scopes.includes('cms:write')) {
		share.stop({reason: 'auth', rowCode: 'aborted', message: `the token is missing the cms:read scope (it has: ${facts.scopes.join(', ') || 'none'}): site ${site}'s CMS cannot be exported`});
	}

	if (share.stopped) {
		return {...result, stop: share.stopped};
	}

	if (include.has('cms')) {
		const cms = await exportCms({share, siteId: site, locales: config.locales.length > 0 ? config.locales : [''], missingOnly: config.missingOnly});
		if ('failure' in cms) {
			session.heed(cms.failure);
			const stop = listStop({site, attempted: cms.failure, session});
			const {reply} = cms.failure;
			share.stop(reply?.kind === 'error' && reply.status === 403 ? {reason: 'auth', rowCode: 'aborted', message: `site ${site}'s CMS cannot be read with this token (403 ${reply.code}: ${reply.message})`} : stop ?? {reason: 'unreachable', rowCode: 'aborted', message: `site ${site}'s CMS could not be read`});
			return {...result, stop: share.stopped};
		}

		// A CMS row: the asset columns blank but the alt text and its base; then the CMS columns.
		result.cmsRows = cms.rows.map(({alt, cells}) => [...ASSET_EXPORT_COLUMNS.map(column => column === 'altText' || column === BASE_COLUMNS.altText ? alt : ''), ...cells].map(cell => neutralize(cell)));
		// A locale the CMS refused is said, as one the assets refuse: never rows missing without a word.
		result.badLocales = new Map(cms.badLocales);
	}

	if (!include.has('assets')) {
		return {...result, stop: share.stopped};
	}

	const fetched = await exportAssets({share, siteId: site, locales: config.locales.length > 0 ? config.locales : [''], missingOnly: config.missingOnly});
	if ('attempted' in fetched) {
		session.heed(fetched.attempted);
		const stop = listStop({site, attempted: fetched.attempted, session});
		if (stop) {
			share.stop(stop);
		}
	} else {
		result.rows = fetched.rows;
		result.assets = fetched.assets;
		result.badLocales = new Map([...result.badLocales, ...fetched.badLocales]);
	}

	return {...result, stop: share.stopped};
}

/**
 * `altbatch export`: every asset of the site — with `--tokens`, of every site of the file, each
 * through its own token and budget, side by side, into one file with a `siteId` column — for each
 * locale asked, as a jobs CSV ready to edit (UTF-8 with a BOM, so Excel opens it right). Running it
 * back unchanged changes nothing. A site that can't be exported stops only itself; the others are
 * written.
 */
export async function exportSite(config: ExportConfig, {logger, interrupt, now = Date.now}: {logger: Logger; interrupt?: AbortSignal | undefined; now?: () => number}): Promise<ExportSummary> {
	const withSites = config.tokens !== undefined;
	const stopping = interrupt ? followedByMany(interrupt) : undefined;
	const sessions = new Sessions((token, site) => new Session({...config, token, logger: logger.child({site}), now, interrupt: stopping}));
	try {
		const exports = await Promise.all(targets(config).map(async ({site, token}) => exportOne({site, session: sessions.of(token, site), config, logger})));

		// A locale is refused when a site does not have it. For one site, that stops the export;
		// with several (each has locale ids of its own), only a locale that no site has does.
		const everywhere = config.locales.filter(locale => exports.every(one => one.stop !== undefined || one.badLocales.has(locale)));
		for (const one of exports) {
			const refused = one.stop ? [] : everywhere;
			if (refused.length > 0) {
				one.stop = {reason: 'locale', rowCode: 'aborted', message: `the site has no locale(s) ${refused.map(locale => `${locale}: ${one.badLocales.get(locale) ?? ''}`).join('; ')}`};
			}
		}

		const done = exports.filter(one => !one.stop);
		const written = done.length > 0;
		if (written) {
			const cms = config.include?.has('cms') === true;
			const columns = cms ? [...ASSET_EXPORT_COLUMNS, ...CMS_EXPORT_COLUMNS] : [...ASSET_EXPORT_COLUMNS];
			const header = withSites ? [SITE_COLUMN, ...columns] : columns;
			// Asset rows first (CMS columns blank), then CMS rows.
			const blank = cms ? CMS_EXPORT_COLUMNS.map(() => '') : [];
			const all = (one: SiteExport) => [...one.rows.map(row => [...row, ...blank]), ...one.cmsRows];
			const rows = done.flatMap(one => withSites ? all(one).map(row => [one.site, ...row]) : all(one));
			await writeExport(config.out, [header, ...rows]);
		}

		const sites = Object.fromEntries(exports.map(one => [one.site, {
			assets: one.assets,
			rows: one.stop ? 0 : one.rows.length + one.cmsRows.length,
			requests: one.share.requests + one.introspect,
			skippedLocales: [...one.badLocales.keys()],
			stopped: publicStop(one.stop),
		} satisfies ExportSiteSummary]));
		const stop = written ? undefined : exports.map(one => one.stop).find(Boolean);
		return {
			out: config.out,
			site: config.site,
			assets: exports.reduce((sum, one) => sum + one.assets, 0),
			rows: done.reduce((sum, one) => sum + one.rows.length + one.cmsRows.length, 0),
			requests: sessions.all().reduce((sum, session) => sum + session.stats().requests, 0),
			written,
			sites: withSites ? sites : undefined,
			stopped: publicStop(stop),
		};
	} finally {
		await sessions.close();
	}
}

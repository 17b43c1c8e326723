import {readCsvFile} from '../../files/csv/input.js';
import {writeCsvFile} from '../../files/csv/write.js';
import {AltbatchError, InputError} from '../../errors.js';
import {readSite, type SiteRead} from './read.js';
import {writeAuditReport, type AuditSiteSummary, type AuditSummary} from './report.js';

export type {AuditSiteSummary, AuditSummary} from './report.js';
import {AUDIT_COLUMNS, compare, placeKey, placeRow, placesOf, type EarlierPlace, type Place} from './sheet.js';
import {lockPath} from '../../files/lock.js';
import type {Logger} from '../../logger.js';
import type {PlannedFile} from '../../files/paths.js';
import {unneutralize} from '../../rows/formula.js';
import {coverageOfPlaces, PLACE_PROBLEMS} from '../../rows/render.js';
import {ratePerMinute} from '../../schedule/rate.js';
import {busiestWindow} from '../../schedule/window-peak.js';
import {followedByMany, learnBudget, publicStop, Session, siteRefusal, type ConnectionConfig, type Stop} from '../../engine/session.js';
import {SiteShare} from '../../engine/share.js';
import {listStop} from '../../targets/assets/read.js';

export type AuditConfig = ConnectionConfig & {
	readonly site: string | undefined;
	readonly tokens?: ReadonlyMap<string, string> | undefined;
	readonly tokensFile?: string | undefined;
	readonly tokenFile?: string | undefined;
	/** Locale ids to audit; none means the primary locale. */
	readonly locales: readonly string[];
	readonly out: string;
	readonly report: string | undefined;
	/** `--compare`: an earlier audit CSV. */
	readonly compare: string | undefined;
	/** `--redis` (or REDIS_URL): the token's budget shared with every process using it, as a run shares it. */
	readonly redis?: string | undefined;
};

/** Every file an audit reads or writes, for `assertFilesSafe` (the CLI adds `--log-file`). */
export function auditFiles(config: AuditConfig): PlannedFile[] {
	return [
		{role: '--out', path: config.out, use: 'write'},
		{role: 'the lock', path: lockPath(config.out), use: 'write'},
		{role: '--report', path: config.report, use: 'report'},
		{role: '--compare', path: config.compare, use: 'read'},
		{role: '--tokens', path: config.tokensFile, use: 'read'},
		{role: '--token-file', path: config.tokenFile, use: 'read'},
	];
}

/** `--compare`: the earlier audit's places, keyed as now; a file that is not an audit is refused (exit 2) before anything is sent. */
export async function readEarlierAudit(path: string): Promise<EarlierPlace[]> {
	const places: EarlierPlace[] = [];
	let columns: Map<string, number> | undefined;
	await readCsvFile({path, onRecord({fields, firstLine}) {
		if (!columns) {
			const header = new Map(fields.map((name, i) => [name.replace(/^\uFEFF/, '').trim(), i]));
			columns = header;
			const lacking = ['siteId', 'where', 'pageId', 'nodeId', 'problem'].filter(name => !header.has(name));
			if (lacking.length > 0) {
				throw new InputError({file: path, line: firstLine, code: 'not_an_audit', message: `not an audit file (no ${lacking.join(', ')} column): --compare takes an earlier altbatch audit CSV`});
			}

			return;
		}

		const header = columns;
		const cell = (name: string) => unneutralize(fields[header.get(name) ?? -1] ?? '').trim();
		if (fields.every(field => field.trim() === '')) {
			return;
		}

		const problem = cell('problem');
		if (problem !== '' && !(PLACE_PROBLEMS as readonly string[]).includes(problem)) {
			throw new InputError({file: path, line: firstLine, code: 'invalid_problem', message: `problem "${problem}" is not one of ${PLACE_PROBLEMS.join(', ')}`});
		}

		const place = {siteId: cell('siteId').toLowerCase(), where: cell('where'), pageId: cell('pageId'), nodeId: cell('nodeId'), collectionId: cell('collectionId'), itemId: cell('itemId'), field: cell('field'), fileId: cell('fileId'), localeId: cell('localeId').toLowerCase()};
		places.push({key: placeKey(place), where: place.where, nodeId: place.nodeId, problem, line: firstLine});
	}});
	if (!columns) {
		throw new InputError({file: path, code: 'not_an_audit', message: 'is empty: --compare takes an earlier altbatch audit CSV'});
	}

	return places;
}

type SiteAudit = {site: string; share: SiteShare; introspect: number; read: SiteRead | undefined; places: Place[]; stop: Stop | undefined};

async function auditOne({site, session, config, logger}: {site: string; session: Session; config: AuditConfig; logger: Logger}): Promise<SiteAudit> {
	const share = new SiteShare(session);
	// Joined before introspect: with other processes on the token, introspect spends the shared budget too.
	await session.connectShared();
	const facts = await learnBudget({session, scope: 'assets:read', logger});
	const result: SiteAudit = {site, share, introspect: facts.requests, read: undefined, places: [], stop: undefined};
	const refused = siteRefusal(facts, site);
	if (refused !== undefined) {
		share.stop({reason: 'auth', rowCode: 'aborted', message: refused});
	}

	if (share.stopped) {
		return {...result, stop: share.stopped};
	}

	const locales = config.locales.length > 0 ? config.locales : [''];
	const read = await readSite({share, siteId: site, locales, width: config.concurrency});
	if ('failed' in read) {
		const stop = listStop({site, attempted: read.failed, session});
		if (stop) {
			share.stop(stop);
		}

		return {...result, stop: share.stopped};
	}

	if (read.badLocales.size > 0) {
		share.stop({reason: 'auth', rowCode: 'aborted', message: `the site refused locale(s) ${[...read.badLocales].map(([locale, why]) => `${locale}: ${why}`).join('; ')}`});
		return {...result, stop: share.stopped};
	}

	logger.info({site, pages: read.pages.length, components: read.components.length, unread: read.unread}, 'site audited');
	return {...result, read, places: placesOf({siteId: site, read, locales}), stop: share.stopped};
}

const countBy = (places: readonly Place[], key: (place: Place) => string | undefined) => {
	const counts: Record<string, number> = {};
	for (const place of places) {
		const value = key(place);
		if (value !== undefined) {
			counts[value] = (counts[value] ?? 0) + 1;
		}
	}

	return counts;
};

/**
 * `altbatch audit`: every place an image renders on the site (with `--tokens`, on every site of
 * the file, each through its own token), the alt text it gets there and what is wrong with it, as
 * a jobs CSV to fill in and run back; a report; with `--compare`, what changed since an earlier audit.
 */
export async function audit(config: AuditConfig, {logger, interrupt, now = Date.now}: {logger: Logger; interrupt?: AbortSignal | undefined; now?: () => number}): Promise<AuditSummary> {
	const started = now();
	const earlier = config.compare === undefined ? undefined : await readEarlierAudit(config.compare);
	const sessions = new Map<string, Session>();
	const stopping = interrupt ? followedByMany(interrupt) : undefined;
	const sites = config.site === undefined ? [...config.tokens?.keys() ?? []] : [config.site];
	try {
		const audits = await Promise.all(sites.map(async site => {
			const token = config.tokens?.get(site) ?? config.token ?? '';
			let session = sessions.get(token);
			if (!session) {
				session = new Session({...config, token, logger: logger.child({site}), now, interrupt: stopping});
				sessions.set(token, session);
			}

			return auditOne({site, session, config, logger});
		}));

		const done = audits.filter(one => one.read !== undefined);
		const places = done.flatMap(one => one.places);
		const written = done.length > 0;
		if (written) {
			try {
				writeCsvFile({path: config.out, rows: [[...AUDIT_COLUMNS], ...places.map(placeRow)], bom: true});
			} catch (error) {
				throw new AltbatchError('internal', 'results_not_written', `${config.out} could not be written (${(error as NodeJS.ErrnoException).code ?? String(error)}); the earlier file is as it was`, {cause: error});
			}
		}

		const comparison = earlier === undefined ? undefined : compare(earlier, places);
		const problemsOf = (list: readonly Place[]) => countBy(list, place => place.problem);
		const siteSummaries = Object.fromEntries(audits.map(one => [one.site, {
			...coverageOfPlaces(one.places),
			problems: problemsOf(one.places),
			requests: one.share.requests + one.introspect,
			reads: {introspect: one.introspect, ...one.read?.counts ?? {assets: one.share.listRequests, pages: 0, dom: 0, components: 0, cms: 0}},
			unread: one.read?.unread ?? [],
			stopped: publicStop(one.stop),
		} satisfies AuditSiteSummary]));
		const rate = [...sessions.values()][0]?.stats().rate ?? {count: 60, windowMs: 60_000};
		const window = busiestWindow([...sessions.values()].map(session => ({timeline: session.timeline(), rate: session.stats().rate})));
		// Ctrl-C stops the audit whatever was read; otherwise it stopped only when no site could be audited.
		const interrupted = audits.map(one => one.share.session.stop.current).find(current => current?.reason === 'interrupted');
		const stop = interrupted ?? (written ? undefined : audits.map(one => one.stop).find(Boolean));
		const summary: AuditSummary = {
			...coverageOfPlaces(places),
			out: config.out,
			written,
			problems: problemsOf(places),
			fixWith: countBy(places, place => place.problem === undefined ? undefined : place.fixWith),
			requests: [...sessions.values()].reduce((sum, session) => sum + session.stats().requests, 0),
			elapsedSeconds: Math.round((now() - started) / 100) / 10,
			budget: window ?? {perWindow: rate.count, windowSeconds: Math.round(rate.windowMs / 1000), peak: 0},
			sites: siteSummaries,
			compare: comparison && config.compare !== undefined ? {file: config.compare, fixed: comparison.fixed.length, new: comparison.new.length, stillOpen: comparison.stillOpen.length} : undefined,
			stopped: publicStop(stop),
		};
		if (config.report === undefined || !written) {
			return summary;
		}

		const report = writeAuditReport(config.report, {summary, places, comparison, perMinute: ratePerMinute(rate)});
		return {...summary, report};
	} finally {
		await Promise.all([...sessions.values()].map(async session => session.close()));
	}
}

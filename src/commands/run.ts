import {resolve} from 'node:path';
import {checkRunConfig, needsNetwork, type RunConfig} from '../cli/config.js';
import {AltbatchError, InputError} from '../errors.js';
import {withRoom} from '../files/csv/in-order.js';
import {checkInput, type CheckedInput, type JobSource} from '../files/input-check.js';
import type {Logger} from '../logger.js';
import {decideUnseen} from '../rows/decide.js';
import {resolvedJob, toJob, type Job, type ValidJob} from '../rows/job.js';
import type {LaterRows} from '../rows/later.js';
import {sameText} from '../rows/text.js';
import {hostedUrlIndex} from '../rows/image-url.js';
import type {ImageGroups} from '../rows/same-image.js';
import {resultCells, type Outcome} from '../rows/result.js';
import {altTextWarnings, describeWarnings, DuplicateAltTracker, type WarningCode} from '../rows/warnings.js';
import {RowPool} from '../schedule/pool.js';
import {ratePerMinute, type BudgetMode, type RateSource} from '../schedule/rate.js';
import {busiestWindow} from '../schedule/window-peak.js';
import {Lane} from '../engine/lane.js';
import {CmsTarget} from '../targets/cms/target.js';
import type {CmsJob} from '../targets/cms/merge.js';
import {openRunLedger} from '../ledger/open.js';
import type {RunLedger} from '../ledger/ledger.js';
import {LedgerView} from '../ledger/view.js';
import {lockPath} from '../files/lock.js';
import {assertFilesSafe, type PlannedFile} from '../files/paths.js';
import {Results} from '../files/results.js';
import {SheetResults} from '../files/sheet-results.js';
import {assertDryRunMayReplace, assertMayResume, type InputPrints} from '../engine/resume.js';
import {DEFAULT_LANE, perSite, planLanes, routeJob, type Route} from '../engine/route.js';
import {followedByMany, outcomeOf, publicStop, RunStop, Session} from '../engine/session.js';
import {coverageOf, type SiteSnapshot} from '../targets/assets/read.js';
import type {Progress, SiteSummary, Summary} from '../report/summary.js';
import {writeReport, type CoverageRow} from '../report/html.js';
import {emptyStatuses, Tally} from '../engine/tally.js';

export type {StopReason} from '../engine/session.js';
export type {Progress, SiteSummary, Summary} from '../report/summary.js';
export type {JobSource} from '../files/input-check.js';

export type RunHooks = {
	readonly logger: Logger;
	/** Ctrl-C: stop taking rows, let requests in flight finish. */
	readonly interrupt?: AbortSignal | undefined;
	/** A second Ctrl-C: cancel the requests in flight too. */
	readonly abort?: AbortSignal | undefined;
	readonly onProgress?: ((progress: Progress) => void) | undefined;
	readonly now?: () => number;
	/** The command line as typed (the ledger keeps it, without secrets). */
	readonly command?: readonly string[] | undefined;
	/** This process's id, and whether a process is alive (a run still going is not settled by another). */
	readonly pid?: number | undefined;
	readonly isAlive?: ((pid: number) => boolean) | undefined;
};

/** One row on its way: its job, its warnings, and the lane (token) it goes through. */
type RowWork = {readonly job: Job; readonly warnings: readonly WarningCode[]; readonly lane: string};

const READ_AHEAD = 20_000;

/**
 * `altbatch run`: checks the whole file, learns each token's budget (and with `--site` the site's
 * current assets), applies every row that needs it at the rate (rows of one asset and locale in
 * file order; with `--tokens`, each site's rows through its own token, side by side), and journals
 * each row's result as it finishes. Returns the summary; prints nothing.
 */
export async function run(config: RunConfig, hooks: RunHooks, source?: JobSource): Promise<Summary> {
	const {logger} = hooks;
	const now = hooks.now ?? Date.now;
	const started = now();
	checkRunConfig(config);
	// Results asked for as .xlsx are journaled as CSV beside it, and the workbook written at the end.
	const sheet = SheetResults.of(config.out);
	await checkFiles(config, sheet);
	const input = await checkInput(config, source, logger).catch((error: unknown) => {
		sheet?.forget();
		throw error;
	});
	const signals = stopSignals(hooks);
	const networked = input.checked !== undefined && needsNetwork(config);
	// A real run (or undo) is on record before its first request: where the ledger is, it is opened first.
	const ledger = networked && !config.dryRun ? openRunLedger({config, hooks, siteIds: input.checked?.siteIds, now}) : undefined;
	const view = config.ledger === undefined ? undefined : new LedgerView({dir: config.ledger, apiBase: config.apiBase, exclude: ledger?.id, isAlive: hooks.isAlive});
	const lanes = networked && input.checked ? openLanes({config, siteIds: input.checked.siteIds, hooks: signals.hooks, now, ledger, view}) : new Map<string, Lane>();
	// A run with no network still stops on Ctrl-C.
	const offline = new RunStop();
	const unfollowInterrupt = offline.followInterrupt(signals.hooks.interrupt);
	const tally = new Tally({forReport: config.report !== undefined, undo: config.undo});
	const progress = () => hooks.onProgress?.({done: tally.done, total: input.checked?.rows ?? tally.done, elapsedMs: now() - started, pausedUntil: Math.max(0, ...sessionsOf(lanes).map(session => session.pausedUntil))});
	// Also while no row finishes (a long rate-limit pause), so the pause can be shown counting down.
	const ticker = hooks.onProgress ? setInterval(progress, 1000) : undefined;
	ticker?.unref();
	const results = new Results({config: sheet ? {...config, out: sheet.journal} : config, prints: input.prints, logger, onFailure: () => signals.writeFailed.abort()});
	const rows = new RowRouter({config, lanes, offline, results, later: input.later, images: input.images, logger, now, count(entry) {
		tally.add(entry);
		progress();
	}});
	let scanned: CheckedInput | undefined;
	let poolFailure: PromiseRejectedResult | undefined;
	let changed = false;
	// From here on requests go out: whatever fails, every session is closed (a Redis connection would keep the process alive).
	try {
		await startLanes({lanes, config, checked: input.checked});
		input.assertSameFile();
		try {
			scanned = await input.read({
				onColumns: async columns => results.open(columns),
				onJob(job) {
					input.assertSamePrint(job);
					return rows.take(job);
				},
			});
		} catch (error) {
			if (input.checked === undefined && error instanceof InputError) {
				// A single pass refused part-way through: an earlier results file stays as it was.
				results.discard();
				sheet?.forget();
			}

			changed = error instanceof AltbatchError && error.code === 'input_changed';
			throw error;
		} finally {
			// Every row in flight ends before the file is finished, even when one of them threw.
			poolFailure = await rows.drain();
			if (changed && input.checked && input.prints) {
				// Every input row gets its one result row: those never reached say why.
				rows.notReached({checked: input.checked, prints: input.prints});
			}

			results.close(scanned ?? input.checked);
		}
	} finally {
		clearInterval(ticker);
		unfollowInterrupt();
		await Promise.all(sessionsOf(lanes).map(session => session.close()));
		if (results.keptAside !== undefined) {
			ledger?.moved({from: resolve(config.out), to: results.keptAside});
		}

		await ledger?.close({statuses: tally.statuses, now: new Date(now())});
	}

	results.assertAllWritten();
	if (poolFailure) {
		throw poolFailure.reason;
	}

	await sheet?.publish();

	const offlineEstimate = rows.offlineEstimate + (config.dryRun && lanes.size === 0 ? introspectsOfARealRun(config, input.checked?.siteIds ?? new Set()) : 0);
	const settled = [...lanes.values()].reduce((sum, lane) => ({writes: sum.writes + lane.settled.writes, reads: sum.reads + lane.settled.reads}), {writes: 0, reads: 0});
	const summary: Summary = {
		...summarize({config, tally, lanes, offline, offlineEstimate, rows: scanned.rows, elapsedMs: Math.max(1, now() - started)}),
		...config.resume ? {carriedOver: rows.carriedOver} : {},
		earlierResults: results.keptAside,
		ledgerRun: ledger?.id,
		settled: ledger ? settled : undefined,
	};
	logger.info({summary}, 'run finished');
	if (config.report === undefined) {
		return summary;
	}

	// The results stand whatever happens to the report: one that cannot be written (a full disk) is
	// said in the summary, never thrown, so the summary and --json are still printed.
	try {
		writeRunReport({path: config.report, undo: config.undo === true, summary, started, ended: now(), lanes, tally});
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		logger.error({report: config.report, code}, 'the report could not be written');
		return {...summary, report: {path: config.report, written: false, error: code ?? (error instanceof Error ? error.message : String(error))}};
	}

	return {...summary, report: {path: config.report, written: true}};
}

/** `--report`: the summary, each token's timeline, each site's coverage before and after, and the rows to look at. */
function writeRunReport({path, undo, summary, started, ended, lanes, tally}: {path: string; undo: boolean; summary: Summary; started: number; ended: number; lanes: ReadonlyMap<string, Lane>; tally: Tally}): void {
	writeReport(path, {
		summary,
		startedAt: started,
		endedAt: ended,
		timelines: sessionsOf(lanes).map(session => session.timeline()),
		coverage: [...lanes.values()].flatMap(lane => coverageRows(lane)),
		problems: tally.problems,
		warnings: tally.warningRows,
		problemRows: tally.problemCount,
		warningRows: tally.warningRowCount,
		conflicts: tally.conflictRows,
		conflictRows: tally.conflictRowCount,
		restored: undo ? tally.restoredRows : undefined,
		restoredRows: tally.restoredRowCount,
	});
}

/** Every file a run (or undo) reads or writes, for `assertFilesSafe` (the CLI adds `--log-file`). */
export function runFiles(config: RunConfig): PlannedFile[] {
	const sheet = SheetResults.of(config.out);
	return [
		{role: config.undo ? 'the results to undo' : 'the input', path: config.input, use: 'read'},
		{role: '--out', path: config.out, use: 'write'},
		...sheet ? [{role: 'the results journal', path: sheet.journal, use: 'write'} as const] : [],
		{role: 'the lock', path: lockPath(config.out), use: 'write'},
		{role: '--report', path: config.report, use: 'report'},
		{role: '--tokens', path: config.tokensFile, use: 'read'},
		{role: '--token-file', path: config.tokenFile, use: 'read'},
	];
}

/**
 * No two of the files may be one file on disk, and the files to write must be writable: all
 * checked before the first request, so a typo costs nothing.
 */
async function checkFiles(config: RunConfig, sheet: SheetResults | undefined): Promise<void> {
	assertFilesSafe(runFiles(config));
	await sheet?.prepare({resume: config.resume, dryRun: config.dryRun});
	const out = sheet?.journal ?? config.out;
	try {
		if (config.dryRun) {
			await assertDryRunMayReplace(out);
		}

		if (config.resume) {
			await assertMayResume(out);
		}
	} catch (error) {
		sheet?.forget();
		throw error;
	}
}

/** The run's stop signals: Ctrl-C, or a result that cannot be written (a full disk, say), which stops the run as Ctrl-C does. */
function stopSignals(hooks: RunHooks): {hooks: RunHooks; writeFailed: AbortController} {
	const writeFailed = new AbortController();
	return {
		writeFailed,
		hooks: {
			...hooks,
			interrupt: followedByMany(hooks.interrupt ? AbortSignal.any([hooks.interrupt, writeFailed.signal]) : writeFailed.signal),
			abort: hooks.abort ? followedByMany(hooks.abort) : undefined,
		},
	};
}

/** Introspect every token, then each site's prefetch in the locales its own rows use (one site's locale ids mean nothing to another). */
async function startLanes({lanes, config, checked}: {lanes: Map<string, Lane>; config: RunConfig; checked: CheckedInput | undefined}): Promise<void> {
	if (checked === undefined) {
		return; // No lanes: the run reads nothing.
	}

	const prefetch = config.site !== undefined || config.prefetch === true;
	// Pending writes are settled by the lane that writes to their site now (the one lane: every site of the file).
	const settles = (lane: Lane) => new Set(lane.site !== undefined ? [lane.site] : lanes.size === 1 ? [undefined, ...checked.siteIds] : [undefined]);
	await Promise.all([...lanes.values()].map(lane => lane.start({prefetch, assets: checked.assetRows !== false, locales: lane.site === config.site ? checked.locales : checked.localesBySite.get(lane.site ?? '') ?? checked.locales, settles: settles(lane)})));
}

/**
 * Takes each row to its end: carried over by `--resume`, settled before any request (a problem,
 * a refused warning, superseded, no lane for its site, stopped, decided without reading), or
 * queued on its lane's pool, in file order per asset and locale. Every row's result is written and
 * counted.
 */
class RowRouter {
	/** A dry run that reads nothing: the requests a real run would send. */
	offlineEstimate = 0;
	/** `--resume`: rows carried over from the earlier results (they keep their status). */
	carriedOver = 0;
	readonly #config: RunConfig;
	readonly #lanes: ReadonlyMap<string, Lane>;
	readonly #offline: RunStop;
	readonly #results: Results;
	readonly #later: LaterRows | undefined;
	readonly #logger: Logger;
	readonly #now: () => number;
	readonly #count: (entry: Parameters<Tally['add']>[0]) => void;
	// One pool per lane. With several lanes the reader runs ahead (up to READ_AHEAD rows queued in
	// all), so a file sorted by site keeps every site's budget busy instead of one at a time.
	readonly #pools: Map<string, RowPool>;
	readonly #chains = new Map<string, Promise<void>>();
	readonly #duplicates = new DuplicateAltTracker();
	/** Rows finished (or carried over), a bit each: an input that changed part-way leaves the others to `notReached`. */
	#reached = new Uint32Array(64);
	/** Per lane, its CMS rows (settled together once the file is read). */
	readonly #cms = new Map<string, CmsTarget>();
	readonly #secrets: readonly string[];
	/** When the last row finished (shared by the rows of one millisecond). */
	#finishedAt = new Date(Number.NaN);
	readonly #images: ImageGroups | undefined;
	readonly #hostedUrls = new WeakMap<SiteSnapshot, Map<string, string>>();

	constructor({config, lanes, offline, results, later, images, logger, now, count}: {config: RunConfig; lanes: ReadonlyMap<string, Lane>; offline: RunStop; results: Results; later: LaterRows | undefined; images: ImageGroups | undefined; logger: Logger; now: () => number; count: (entry: Parameters<Tally['add']>[0]) => void}) {
		this.#config = config;
		this.#later = later;
		this.#images = images;
		this.#lanes = lanes;
		this.#offline = offline;
		this.#results = results;
		this.#logger = logger;
		this.#now = now;
		this.#count = count;
		this.#pools = new Map([...lanes.keys()].map(key => [key, new RowPool(config.concurrency, lanes.size > 1 ? Math.ceil(READ_AHEAD / lanes.size) : undefined)]));
		this.#secrets = [config.token, ...config.tokens?.values() ?? []].filter((token): token is string => token !== undefined && token !== '');
	}

	/** One row: finished now, or queued (the promise is the pool's room for it). */
	take(read: Job): Promise<void> | undefined {
		const carrier = this.#images?.carrier(read);
		if (carrier) {
			const outcome = {status: 'skipped', errorCode: 'duplicate_image', errorMessage: `the same image as row ${carrier.row} (line ${carrier.line}), which writes it: one write per image`, attempts: 0} as const;
			this.#finish({job: read, warnings: [], lane: DEFAULT_LANE}, outcome);
			return undefined;
		}

		const job = this.#resolve(read);
		if (!('problem' in job)) {
			this.#finish({job: read, warnings: [], lane: DEFAULT_LANE}, job);
			return undefined;
		}

		const route: Route | undefined = job.problem ? undefined : routeJob(job, this.#config);
		// Counted under its site even when it has no lane there (invalid, no token): per site, the counts add up to the total.
		const laneKey = route?.kind === 'lane' ? route.key : perSite(this.#config) && job.siteId !== undefined ? job.siteId : DEFAULT_LANE;
		const {plan} = this.#results;
		const carried = plan?.carriedStatus(job);
		if (plan && carried) {
			const refreshed = plan.refreshedLine(job);
			if (refreshed) {
				this.#results.writeLine(refreshed); // Same edit, other cells edited since: today's cells, the old result.
			}

			// Its warnings are counted again (and its alt text seen), as a fresh run would.
			this.#markReached(job.row);
			this.carriedOver++;
			this.#count({job, lane: laneKey, warnings: this.#warningsFor(job), outcome: {status: carried}});
			return undefined;
		}

		if (job.problem) {
			this.#finish({job, warnings: [], lane: laneKey}, {status: 'invalid', errorCode: job.problem.code, errorMessage: job.problem.message, attempts: 0});
			return undefined;
		}

		// The last row wins per field: what a later row changes is left to it.
		const left = this.#later?.apply(job) ?? {job};
		if ('outcome' in left) {
			this.#finish({job, warnings: [], lane: laneKey}, left.outcome);
			return undefined;
		}

		return this.#send(left.job, route, laneKey);
	}

	/** A valid row (with the fields it is to send): settled before any request, or queued on its lane. */
	#send(job: ValidJob, route: Route | undefined, laneKey: string): Promise<void> | undefined {
		const work = {job, warnings: this.#warningsFor(job), lane: laneKey};
		const settled = this.#settled(work, route);
		if (settled) {
			this.#finish(work, settled);
			return undefined;
		}

		const lane = this.#lanes.get(laneKey);
		const pool = this.#pools.get(laneKey);
		if (!lane || !pool) {
			// A dry run that reads nothing: fields the file left as exported are still never written.
			const decision = decideUnseen(job);
			this.offlineEstimate += decision.kind === 'done' ? 0 : job.base === undefined ? 1 : 2;
			this.#finish(work, decision.kind === 'done' ? decision.outcome : {status: 'would_update', attempts: 0});
			return undefined;
		}

		if (lane.stopped) {
			this.#finish(work, lane.stoppedOutcome());
			return undefined;
		}

		if (job.cms) {
			let target = this.#cms.get(laneKey);
			if (!target) {
				target = new CmsTarget({lane, config: this.#config, logger: this.#logger});
				this.#cms.set(laneKey, target);
			}

			target.take(job as CmsJob, outcome => {
				this.#finish(work, outcome);
			});
			return undefined;
		}

		// Rows of one asset in file order, whatever their locale: the display name is the asset's.
		return pool.add(() => inKeyOrder(this.#chains, job.assetId, async () => {
			this.#finish(work, await lane.process(job).catch((error: unknown) => internalFailure({error, logger: this.#logger, row: job.row, secrets: this.#secrets})));
		}));
	}

	/**
	 * A row found by a URL that is not a Webflow CDN URL: its asset from the site's assets'
	 * `hostedUrl` (its own site's, or with none every site read), `not_in_site` when no asset has
	 * it. Without any site read it stays `invalid` (`image_url_unresolved`).
	 */
	#resolve(job: Job): Job | Outcome {
		if (job.problem?.code !== 'image_url_unresolved' || job.image?.ref.kind !== 'url') {
			return job;
		}

		const {key} = job.image.ref;
		const lanes = [...this.#lanes.values()].filter(lane => lane.snapshot !== undefined && (job.siteId === undefined || lane.site === job.siteId || lane.site === this.#config.site));
		for (const {snapshot} of lanes) {
			if (snapshot === undefined) {
				continue;
			}

			let index = this.#hostedUrls.get(snapshot);
			if (!index) {
				index = hostedUrlIndex(snapshot.assets.values());
				this.#hostedUrls.set(snapshot, index);
			}

			const assetId = index.get(key);
			if (assetId !== undefined) {
				return resolvedJob(job, {assetId, siteId: snapshot.siteId});
			}
		}

		if (lanes.length === 0) {
			return job;
		}

		const sites = lanes.map(lane => lane.site).join(', ');
		return {status: 'failed', errorCode: 'not_in_site', errorMessage: `no asset of site ${sites} is at ${job.image.url}`, attempts: 0};
	}

	/** Every row in flight ended; the first pool that failed, if one did. */
	async drain(): Promise<PromiseRejectedResult | undefined> {
		const drained = await Promise.allSettled([...[...this.#cms.values()].map(async target => target.flush()), ...[...this.#pools.values()].map(pool => pool.drain())]);
		return drained.find(result => result.status === 'rejected');
	}

	/** The row's outcome when it is known before any request, in this order of precedence. */
	#settled(work: RowWork & {readonly job: ValidJob}, route: Route | undefined): Outcome | undefined {
		const {job} = work;
		if (job.designerOnly === true) {
			return DESIGNER_ONLY_OUTCOME;
		}

		const refused = work.warnings.filter(code => this.#config.refuseWarnings?.has(code));
		if (refused.length > 0) {
			return {status: 'invalid', errorCode: refused[0], errorMessage: `--refuse-warnings: the alt text ${describeWarnings(refused)}; not sent`, ownMessage: true, attempts: 0};
		}

		const superseded = this.#results.plan?.superseded(job);
		if (superseded) {
			return superseded;
		}

		if (route?.kind === 'refused') {
			return route.outcome;
		}

		if (this.#offline.current) {
			return outcomeOf({kind: 'stopped', reply: undefined, attempts: 0}, this.#offline.current, this.#config.maxWaitMs);
		}

		return undefined;
	}

	#finish(work: RowWork, outcome: Outcome): void {
		this.#markReached(work.job.row);
		// Not `{...outcome, job, …}`: on Node 20 a spread followed by more properties takes V8's slow
		// path (about 4 µs), seconds over a million rows; Object.assign is the same object, fast.
		// Rows finish many to a millisecond: one Date for each millisecond, not one per row.
		const now = this.#now();
		if (now !== this.#finishedAt.getTime()) {
			this.#finishedAt = new Date(now);
		}

		if (this.#results.write(resultCells(Object.assign({}, outcome, {job: work.job, warnings: work.warnings, finishedAt: this.#finishedAt})))) {
			this.#count({job: work.job, lane: work.lane, warnings: work.warnings, outcome});
		}
	}

	#markReached(row: number): void {
		this.#reached = withRoom(this.#reached, row >>> 5);
		this.#reached[row >>> 5] = (this.#reached[row >>> 5] ?? 0) | (1 << (row & 31));
	}

	/**
	 * The input changed while the run read it: each checked row not reached gets its result row,
	 * `not_attempted` with `input_changed` (its cells as checked are not kept: only its row number).
	 */
	notReached({checked, prints}: {checked: CheckedInput; prints: InputPrints}): void {
		const outcome: Outcome = {status: 'not_attempted', errorCode: 'input_changed', errorMessage: 'the input changed while the run was reading it, before this row: not read again and not sent; check the file, then run again with --resume', ownMessage: true, attempts: 0};
		for (let row = 2; row <= checked.lastRow; row++) {
			if (prints.cells(row) !== 0 && ((this.#reached[row >>> 5] ?? 0) & (1 << (row & 31))) === 0) {
				const job = toJob({columns: checked.columns, fields: [], row, line: row});
				this.#finish({job, warnings: [], lane: DEFAULT_LANE}, outcome);
			}
		}
	}

	#warningsFor(job: Job): WarningCode[] {
		const snapshot = this.#lanes.get(DEFAULT_LANE)?.snapshot ?? (job.siteId === undefined ? undefined : this.#lanes.get(job.siteId)?.snapshot);
		return warningsFor(job, snapshot, this.#duplicates);
	}
}

/**
 * A dry run that reads nothing: the introspects a real run would send first, one per token its
 * lanes would use (a token not given yet counts as the one a real run needs).
 */
function introspectsOfARealRun(config: RunConfig, siteIds: ReadonlySet<string>): number {
	const tokens = new Set(planLanes(config, siteIds).map(lane => lane.token));
	return tokens.size > 0 || config.tokens !== undefined ? tokens.size : 1;
}

/** An audit row only the Designer can fix (`fix_with` = `designer`): the Data API cannot write an image element's own alt. */
const DESIGNER_ONLY_OUTCOME: Outcome = {status: 'skipped', errorCode: 'designer_only', errorMessage: 'only the Designer can change this alt text (an image element\'s own alt, or a component\'s); fix it there (page and node in the audit)', attempts: 0};

/** A session per token (sites that share a token share its session and budget), a lane per planned lane. */
function openLanes({config, siteIds, hooks, now, ledger, view}: {config: RunConfig; siteIds: ReadonlySet<string>; hooks: RunHooks; now: () => number; ledger: RunLedger | undefined; view: LedgerView | undefined}): Map<string, Lane> {
	const lanes = new Map<string, Lane>();
	const sessions = new Map<string, Session>();
	for (const {key, token, site} of planLanes(config, siteIds)) {
		let session = sessions.get(token);
		if (!session) {
			const line = site !== undefined && config.tokens?.get(site) === token ? config.tokenLines?.get(site) : undefined;
			const tokenOrigin = line === undefined ? undefined : `the token for site ${site} on ${config.tokensFile ?? '--tokens'}:${line}`;
			session = new Session({...config, token, tokenOrigin, logger: hooks.logger.child({site: site ?? DEFAULT_LANE}), now, interrupt: hooks.interrupt, abort: hooks.abort});
			sessions.set(token, session);
		}

		lanes.set(key, new Lane({session, site, config, logger: hooks.logger, ledger, view}));
	}

	return lanes;
}

/** Each session once, however many lanes (sites) share its token. */
function sessionsOf(lanes: ReadonlyMap<string, Lane>): Session[] {
	return [...new Set([...lanes.values()].map(lane => lane.session))];
}

const oneDecimal = (n: number) => Math.round(n * 10) / 10;

/** The run's summary from what was counted, what each lane did, and what each token's pacer saw. */
function summarize({config, tally, lanes, offline, offlineEstimate, rows, elapsedMs}: {config: RunConfig; tally: Tally; lanes: ReadonlyMap<string, Lane>; offline: RunStop; offlineEstimate: number; rows: number; elapsedMs: number}): Summary {
	const sites: Record<string, SiteSummary> = {};
	const laneStats = [...lanes].map(([key, lane]) => ({key, site: lane.site, ...lane.stats()}));
	for (const lane of laneStats) {
		const statuses = tally.byLane.get(lane.key) ?? emptyStatuses();
		sites[lane.site ?? lane.key] = {
			statuses,
			requests: lane.requests,
			listRequests: lane.listRequests,
			estimatedRequests: config.dryRun ? lane.wouldSend : undefined,
			conflicts: statuses.conflict,
			tooManyRequests: lane.tooManyRequests,
			rateLimitPerMinute: oneDecimal(lane.ratePerMinute),
			stopped: publicStop(lane.stopped),
		};
	}

	// Rows of a site no lane went to (refused before any request: invalid, no token) count there too.
	for (const [key, statuses] of tally.byLane) {
		if (!lanes.has(key)) {
			sites[key] = {statuses, requests: 0, listRequests: 0, estimatedRequests: config.dryRun ? 0 : undefined, conflicts: statuses.conflict, tooManyRequests: 0, rateLimitPerMinute: 0, stopped: undefined};
		}
	}

	const tokens = sessionsOf(lanes).map(session => session.stats());
	const requests = tokens.reduce((sum, token) => sum + token.requests, 0);
	const first = Math.min(...tokens.map(token => token.sentSpan?.first ?? Number.POSITIVE_INFINITY));
	const last = Math.max(...tokens.map(token => token.sentSpan?.last ?? Number.NEGATIVE_INFINITY));
	// Requests per minute from the first request sent to the last (n requests span n - 1 gaps), so
	// a short run paced at the limit shows the limit, not more. One request has no rate: 0.
	const effectivePerMs = requests >= 2 && last > first ? (requests - 1) / (last - first) : 0;
	const stops = laneStats.map(lane => lane.stopped);
	const interrupted = offline.current ?? stops.find(stop => stop?.reason === 'interrupted');
	// The run stopped when every lane did; one site's refused token stops only that site's rows.
	const stopped = interrupted ?? (stops.length > 0 && stops.every(Boolean) ? stops[0] : undefined);
	const listRequests = laneStats.reduce((sum, lane) => sum + lane.listRequests, 0);
	const wouldSend = laneStats.reduce((sum, lane) => sum + lane.wouldSend, 0);
	return {
		input: config.input,
		out: config.out,
		dryRun: config.dryRun,
		rows,
		statuses: tally.statuses,
		errorCodes: tally.errorCodes,
		warnings: tally.warnings,
		requests,
		listRequests,
		estimatedRequests: config.dryRun ? wouldSend + offlineEstimate : undefined,
		tooManyRequests: tokens.reduce((sum, token) => sum + token.tooManyRequests, 0),
		pausedSeconds: Math.round(Math.max(0, ...tokens.map(token => token.pausedMs)) / 100) / 10,
		elapsedSeconds: Math.round(elapsedMs / 100) / 10,
		effectiveRatePerMinute: oneDecimal(effectivePerMs * 60_000),
		// Tokens are paced side by side: the run's pace is theirs together.
		rateLimitPerMinute: oneDecimal(tokens.reduce((sum, token) => sum + ratePerMinute(token.rate), 0)),
		rateSource: oneSource(tokens.map(token => token.source)),
		budget: leastShared(tokens.map(token => token.budget)),
		sites: config.tokens !== undefined || config.prefetch === true ? sites : undefined,
		window: busiestWindow(sessionsOf(lanes).map(session => ({timeline: session.timeline(), rate: session.stats().rate}))),
		coverage: [...lanes.values()].flatMap(lane => coverageRows(lane)),
		stopped: publicStop(stopped),
	};
}

/** Where the tokens' rates came from: one place, `mixed`, or `none` without a token. */
function oneSource(sources: readonly RateSource[]): Summary['rateSource'] {
	const distinct = new Set(sources);
	return distinct.size === 0 ? 'none' : distinct.size === 1 ? sources[0] ?? 'none' : 'mixed';
}

/** The budget line of several tokens: one that fell back from Redis first, then one shared, else local. */
function leastShared(modes: readonly BudgetMode[]): BudgetMode {
	return modes.find(mode => mode.kind === 'fallback') ?? modes.find(mode => mode.kind === 'shared') ?? {kind: 'local'};
}

/** Coverage before (at the prefetch) and after (the snapshot with every applied row). */
function coverageRows(lane: Lane): CoverageRow[] {
	const {snapshot, coverageBefore} = lane;
	if (!snapshot || !coverageBefore) {
		return [];
	}

	const after = coverageOf(snapshot);
	return [...coverageBefore].map(([locale, before]) => ({site: snapshot.siteId, locale, before, after: after.get(locale) ?? before}));
}

/** A row whose work threw (a bug of ours): `failed` with the reason, and the run goes on. No token in the text. */
function internalFailure({error, logger, row, secrets}: {error: unknown; logger: Logger; row: number; secrets: readonly string[]}): Outcome {
	const scrub = (text: string) => secrets.reduce((clean, secret) => clean.replaceAll(secret, '[redacted]'), text);
	const message = scrub(error instanceof Error ? error.message : String(error));
	logger.error({row, error: message, stack: error instanceof Error && error.stack ? scrub(error.stack) : undefined}, 'internal error on a row');
	return {status: 'failed', errorCode: 'internal_error', errorMessage: `internal error: ${message}`, attempts: 0};
}

/** Runs `task` after every earlier task of the same key has finished (file order per asset and locale). */
async function inKeyOrder(chains: Map<string, Promise<void>>, key: string, task: () => Promise<void>): Promise<void> {
	const before = chains.get(key);
	const mine = (async () => {
		await before;
		await task();
	})();
	chains.set(key, mine);
	try {
		await mine;
	} finally {
		if (chains.get(key) === mine) {
			chains.delete(key);
		}
	}
}

function warningsFor(job: Job, snapshot: SiteSnapshot | undefined, duplicates: DuplicateAltTracker): WarningCode[] {
	// An empty alt text (undo --allow-clear putting an empty one back) has nothing to warn about.
	if (job.altText === undefined || job.altText === '') {
		return [];
	}

	// Only alt text the row would write is judged: not one left as exported, nor one the site already has.
	const exported = job.base?.altText;
	const now = snapshot?.assets.get(job.assetId)?.altText.get(job.localeId ?? '');
	if ((exported !== undefined && sameText(job.altText, exported)) || (now !== undefined && now !== null && sameText(job.altText, now))) {
		return [];
	}

	const displayName = job.displayName ?? snapshot?.assets.get(job.assetId)?.displayName;
	const warnings: WarningCode[] = altTextWarnings({altText: job.altText, displayName});
	if (duplicates.seen({altText: job.altText, assetId: job.assetId})) {
		warnings.push('alt_duplicate');
	}

	return warnings;
}

import {checkRunConfig, type RunConfig} from './config.js';
import {ResultsJournal} from './csv/journal.js';
import {AltbatchError, InputError, UsageError} from './errors.js';
import {scanInput, type CheckedInput} from './input-check.js';
import type {Logger} from './logger.js';
import {decideUnseen} from './rows/decide.js';
import {jobKey, type Columns, type Job} from './rows/job.js';
import {resultCells, resultHeader, type Outcome, type Status} from './rows/result.js';
import {altTextWarnings, describeWarnings, DuplicateAltTracker} from './rows/warnings.js';
import {RowPool} from './schedule/pool.js';
import {ratePerMinute, type BudgetMode} from './schedule/rate.js';
import {Lane} from './lane.js';
import {lockPath} from './lock.js';
import {assertCanWrite, assertDistinctFiles, fileStamp} from './paths.js';
import {assertDryRunMayReplace, InputPrints, ResumePlan} from './resume.js';
import {followedByMany, outcomeOf, RunStop, Session, type StopReason} from './session.js';
import {coverageOf, type SiteSnapshot} from './site.js';
import {writeReport, type CoverageRow} from './report.js';
import {emptyStatuses, Tally} from './tally.js';

export type {StopReason} from './session.js';

/**
 * Where a run's rows come from when not from a jobs file (undo makes them from a results file):
 * the whole input, checked, and a pass handing over every job in order.
 */
export type JobSource = {
	readonly checked: CheckedInput;
	scan(onJob: (job: Job) => Promise<void> | undefined): Promise<CheckedInput>;
};

export type Progress = {
	readonly done: number;
	readonly total: number;
	readonly elapsedMs: number;
	readonly pausedUntil: number;
};

export type Summary = {
	readonly input: string;
	readonly out: string;
	readonly dryRun: boolean;
	readonly rows: number;
	readonly statuses: Record<Status, number>;
	readonly errorCodes: Record<string, number>;
	/** Alt-text quality warnings by code. */
	readonly warnings: Record<string, number>;
	readonly requests: number;
	/** Of `requests`, the prefetch's list pages. */
	readonly listRequests: number;
	/** `--dry-run`: the requests a real run would cost. */
	readonly estimatedRequests: number | undefined;
	readonly tooManyRequests: number;
	readonly pausedSeconds: number;
	readonly elapsedSeconds: number;
	/** Requests per minute actually sent. */
	readonly effectiveRatePerMinute: number;
	/** The rate paced to at the end, and where it came from. */
	readonly rateLimitPerMinute: number;
	readonly rateSource: string;
	/** How the budget was kept: 'local', 'shared' (Redis), or 'fallback: …' when Redis went away. */
	readonly budget: string;
	/** With `--tokens` or `--prefetch`: the same, per site. */
	readonly sites: Record<string, SiteSummary> | undefined;
	readonly stopped: {readonly reason: StopReason; readonly message: string} | undefined;
};

export type RunHooks = {
	readonly logger: Logger;
	/** Ctrl-C: stop taking rows, let requests in flight finish. */
	readonly interrupt?: AbortSignal | undefined;
	/** A second Ctrl-C: cancel the requests in flight too. */
	readonly abort?: AbortSignal | undefined;
	readonly onProgress?: ((progress: Progress) => void) | undefined;
	readonly now?: () => number;
};

/** One row on its way: its job, its warnings, and the lane (token) it goes through. */
type RowWork = {readonly job: Job; readonly warnings: readonly string[]; readonly lane: string};

export type SiteSummary = {
	readonly statuses: Record<Status, number>;
	/** Requests sent for the site: list pages, reads, PATCHes (its token's introspect with the first site of the token). */
	readonly requests: number;
	/** Of `requests`, the prefetch's list pages. */
	readonly listRequests: number;
	/** `--dry-run`: the requests a real run would cost for the site. */
	readonly estimatedRequests: number | undefined;
	/** Rows not written because the sheet and the site both changed a field. */
	readonly conflicts: number;
	readonly tooManyRequests: number;
	/** The pace of the site's token (shared by the sites of a workspace token). */
	readonly rateLimitPerMinute: number;
	readonly stopped: {readonly reason: StopReason; readonly message: string} | undefined;
};

const DEFAULT_LANE = 'default';
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
	const prefetch = config.site !== undefined || config.prefetch === true;
	// No two of the files may be one file on disk, and the files to write must be writable: all
	// checked before the first request, so a typo costs nothing.
	assertDistinctFiles([{role: config.undo ? 'the results to undo' : 'the input', path: config.input}, {role: '--out', path: config.out}, {role: 'the lock', path: lockPath(config.out)}, {role: '--report', path: config.report}]);
	assertCanWrite({role: '--out', path: config.out});
	assertCanWrite({role: 'the lock of --out', path: lockPath(config.out)});
	if (config.report !== undefined) {
		assertCanWrite({role: '--report', path: config.report});
	}

	if (config.dryRun) {
		await assertDryRunMayReplace(config.out);
	}

	// The whole file is checked before the first request; a run that sends nothing reads it once.
	// Reading it twice, each row's print from the first read is what the second must find.
	const needsNetwork = !config.dryRun || prefetch || config.undo === true;
	const singlePass = !needsNetwork && !config.resume && source === undefined;
	const prints = singlePass || source ? undefined : new InputPrints();
	const stamp = prints ? fileStamp(config.input) : undefined;
	const checked = source?.checked ?? (prints ? await scanInput({path: config.input, encoding: config.encoding, onJob: job => prints.add(job)}) : undefined);
	if (checked) {
		logger.info({input: config.input, rows: checked.rows, delimiter: checked.dialect.delimiter, encoding: checked.dialect.encoding}, 'input checked');
	}

	if (checked && config.prefetch === true && config.site === undefined && checked.columns.index.siteId === undefined) {
		throw new UsageError('--prefetch reads the sites named in the siteId column, and this file has none: give it a siteId column, or name the one site with --site <id>', 'prefetch_needs_site_ids');
	}

	const hasDefaultToken = config.token !== undefined && config.token !== '';

	// A result that cannot be written (a full disk, say) stops the run as Ctrl-C does: nothing more is sent.
	const writeFailed = new AbortController();
	const stopping = {
		...hooks,
		interrupt: followedByMany(hooks.interrupt ? AbortSignal.any([hooks.interrupt, writeFailed.signal]) : writeFailed.signal),
		abort: hooks.abort ? followedByMany(hooks.abort) : undefined,
	};
	let writeFailure: {error: unknown} | undefined;
	const lanes = needsNetwork ? openLanes({config, siteIds: checked!.siteIds, hooks: stopping, now}) : new Map<string, Lane>();
	// A run with no network still stops on Ctrl-C.
	const offline = new RunStop();
	const unfollowInterrupt = offline.followInterrupt(stopping.interrupt);
	const tally = new Tally({forReport: config.report !== undefined, undo: config.undo});
	const count = (entry: Parameters<Tally['add']>[0]) => {
		tally.add(entry);
		progress();
	};

	const progress = () => {
		if (hooks.onProgress) {
			const pausedUntil = Math.max(0, ...[...lanes.values()].map(l => l.session.governor.pausedUntil));
			hooks.onProgress({done: tally.done, total: checked?.rows ?? tally.done, elapsedMs: now() - started, pausedUntil});
		}
	};

	// Also while no row finishes (a long rate-limit pause), so the pause can be shown counting down.
	const ticker = hooks.onProgress ? setInterval(progress, 1000) : undefined;
	ticker?.unref();

	let journal: ResultsJournal | undefined;
	let plan: ResumePlan | undefined;
	const openJournal = async (columns: Columns) => {
		const header = resultHeader(columns.header);
		if (config.resume) {
			({plan, journal} = await ResumePlan.open({path: config.out, header, columns, prints: prints!}));
			logger.info({carried: plan.carried, out: config.out}, 'resuming');
		} else {
			// A dry run changes nothing, so its results need not survive a kill line by line.
			journal = ResultsJournal.create({path: config.out, header, durable: !config.dryRun});
		}
	};

	const finish = (work: RowWork, outcome: Outcome) => {
		if (writeFailure) {
			return; // Nothing more can be written; --resume redoes this row.
		}

		try {
			journal!.write(resultCells({...outcome, job: work.job, warnings: work.warnings, finishedAt: new Date(now())}));
		} catch (error) {
			writeFailure = {error};
			writeFailed.abort();
			return;
		}

		count({...work, outcome});
	};

	/**
	 * The lane a row goes through, or why it has none. With `--site` (or neither `--tokens` nor
	 * `--prefetch`) every row takes the one lane; otherwise each row its site's.
	 */
	const route = (job: Job): {key: string; lane: Lane | undefined} | Outcome => {
		if (!perSite(config)) {
			return {key: DEFAULT_LANE, lane: lanes.get(DEFAULT_LANE)};
		}

		if (job.siteId === undefined) {
			if (config.prefetch === true) {
				return {status: 'invalid', errorCode: 'no_site_id', errorMessage: 'the row has no siteId, and --prefetch reads each row\'s site', attempts: 0};
			}

			return hasDefaultToken ? {key: DEFAULT_LANE, lane: lanes.get(DEFAULT_LANE)} : {status: 'invalid', errorCode: 'no_token_for_site', errorMessage: 'the row has no siteId, and --tokens routes rows by it', attempts: 0};
		}

		if (config.tokens?.has(job.siteId) !== true && !hasDefaultToken) {
			return {status: 'invalid', errorCode: 'no_token_for_site', errorMessage: `--tokens has no token for site ${job.siteId}`, attempts: 0};
		}

		return {key: job.siteId, lane: lanes.get(job.siteId)};
	};

	// One pool per lane. With several lanes the reader runs ahead (up to READ_AHEAD rows queued in
	// all), so a file sorted by site keeps every site's budget busy instead of one at a time.
	const pools = new Map([...lanes.keys()].map(key => [key, new RowPool(config.concurrency, lanes.size > 1 ? Math.ceil(READ_AHEAD / lanes.size) : undefined)]));
	const chains = new Map<string, Promise<void>>();
	const secrets = [config.token, ...config.tokens?.values() ?? []].filter((token): token is string => token !== undefined && token !== '');
	const duplicates = new DuplicateAltTracker();
	const snapshotOf = (job: Job) => lanes.get(DEFAULT_LANE)?.snapshot ?? (job.siteId === undefined ? undefined : lanes.get(job.siteId)?.snapshot);
	let scanned: CheckedInput | undefined;
	let offlineEstimate = 0;
	let poolFailure: PromiseRejectedResult | undefined;
	const inputChanged = (where: string, cause?: unknown) => new AltbatchError('stop', 'input_changed', `${config.input} changed while the run was reading it (${where}): the run stopped and sent nothing more. The rows finished before are in ${config.out}; check the file, then run again with --resume`, {cause});
	// From here on requests go out: whatever fails, every session is closed (a Redis connection would keep the process alive).
	try {
		// Each site's prefetch reads the locales its own rows use (one site's locale ids mean nothing to another).
		await Promise.all([...lanes.values()].map(lane => lane.start({prefetch, locales: lane.site === config.site ? checked!.locales : checked!.localesBySite.get(lane.site ?? '') ?? checked!.locales})));
		if (stamp !== undefined && fileStamp(config.input) !== stamp) {
			throw inputChanged('it is not the file that was checked any more');
		}

		if (checked) {
			await openJournal(checked.columns);
		}

		try {
			const onJob = (job: Job): Promise<void> | undefined => {
				if (prints && !prints.same(job)) {
					throw inputChanged(`line ${job.line} is not what was checked`);
				}

				const routed = job.problem ? undefined : route(job);
				const laneKey = routed && 'key' in routed ? routed.key : DEFAULT_LANE;
				const carried = plan?.carriedStatus(job);
				if (carried) {
					const refreshed = plan!.refreshedLine(job);
					if (refreshed) {
						journal!.write(refreshed); // Same edit, other cells edited since: today's cells, the old result.
					}

					// Its warnings are counted again (and its alt text seen), as a fresh run would.
					count({job, lane: laneKey, warnings: warningsFor(job, snapshotOf(job), duplicates), outcome: {status: carried}});
					return;
				}

				const work: RowWork = {job, warnings: job.problem ? [] : warningsFor(job, snapshotOf(job), duplicates), lane: laneKey};
				const superseded = job.problem ? undefined : plan?.superseded(job);
				const refused = work.warnings.filter(code => config.refuseWarnings?.has(code));
				if (job.problem) {
					finish(work, {status: 'invalid', errorCode: job.problem.code, errorMessage: job.problem.message, attempts: 0});
				} else if (refused.length > 0) {
					finish(work, {status: 'invalid', errorCode: refused[0], errorMessage: `--refuse-warnings: the alt text ${describeWarnings(refused)}; not sent`, attempts: 0});
				} else if (superseded) {
					finish(work, superseded);
				} else if (routed && 'status' in routed) {
					finish(work, routed);
				} else if (offline.current) {
					finish(work, outcomeOf({kind: 'stopped', reply: undefined, attempts: 0}, offline, config.maxWaitMs));
				} else if (!routed?.lane) {
					// A dry run that reads nothing: fields the file left as exported are still never written.
					const decision = decideUnseen(job);
					offlineEstimate += decision.kind === 'done' ? 0 : job.base === undefined ? 1 : 2;
					finish(work, decision.kind === 'done' ? decision.outcome : {status: 'would_update', attempts: 0});
				} else if (routed.lane.stopped) {
					finish(work, routed.lane.stoppedOutcome());
				} else {
					const lane = routed.lane;
					return pools.get(routed.key)!.add(() => inKeyOrder(chains, jobKey(job), async () => {
						finish(work, await lane.process(job).catch((error: unknown) => internalFailure({error, logger, row: job.row, secrets})));
					}));
				}

				return undefined;
			};
			scanned = source ? await source.scan(onJob) : await scanInput({
				path: config.input,
				encoding: checked?.dialect.encoding ?? config.encoding,
				onColumns: singlePass ? columns => {
					journal = ResultsJournal.create({path: config.out, header: resultHeader(columns.header), durable: false});
				} : undefined,
				onJob,
			});
			if (checked && (scanned.rows !== checked.rows || scanned.lastRow !== checked.lastRow)) {
				throw inputChanged(`it has ${scanned.lastRow} rows now, ${checked.lastRow} when checked`);
			}
		} catch (error) {
			if (singlePass && error instanceof InputError) {
				// Refused part-way through: an earlier results file stays as it was.
				journal?.discard();
			}

			// Read a second time, the file no longer passes the check: it changed, and requests went out.
			throw !singlePass && error instanceof InputError ? inputChanged(error.message, error) : error;
		} finally {
			// Every row in flight ends before the file is finished, even when one of them threw.
			const drained = await Promise.allSettled([...pools.values()].map(pool => pool.drain()));
			poolFailure = drained.find(result => result.status === 'rejected');
			if (writeFailure) {
				journal?.abandon();
			} else {
				try {
					journal?.finish({lastRow: (scanned ?? checked)?.lastRow ?? Number.MAX_SAFE_INTEGER});
				} catch (error) {
					journal?.discard();
					const why = error instanceof Error ? error.message : String(error);
					// A real run's journal stays as written (every finished row); only putting it in order failed.
					throw new AltbatchError('internal', 'results_not_written', config.dryRun
						? `the dry run's results could not be written to ${config.out} (${why})`
						: `${config.out} could not be rewritten in input order (${why}); every finished row is in it as written: free the space and run again with --resume`, {cause: error});
				}
			}
		}
	} finally {
		clearInterval(ticker);
		unfollowInterrupt();
		await Promise.all(sessionsOf(lanes).map(session => session.close()));
	}

	if (writeFailure) {
		// What was written stands, and --resume goes on from it.
		const {error} = writeFailure;
		throw new AltbatchError('internal', 'results_not_written', `a row's result could not be written to ${config.out} (${error instanceof Error ? error.message : String(error)}); the run stopped there. The file holds every row finished before it: free the space and run again with --resume`, {cause: error});
	}

	if (poolFailure) {
		throw poolFailure.reason;
	}

	const summary = summarize({config, tally, lanes, offline, offlineEstimate, rows: scanned.rows, elapsedMs: Math.max(1, now() - started)});
	logger.info({summary}, 'run finished');
	if (config.report !== undefined) {
		writeReport(config.report, {
			summary,
			startedAt: started,
			endedAt: now(),
			timelines: sessionsOf(lanes).map(session => session.governor.timeline()),
			coverage: [...lanes.values()].flatMap(lane => coverageRows(lane)),
			problems: tally.problems,
			warnings: tally.warningRows,
			problemRows: tally.problemCount,
			warningRows: tally.warningRowCount,
			conflicts: tally.conflictRows,
			conflictRows: tally.conflictRowCount,
			restored: config.undo ? tally.restoredRows : undefined,
			restoredRows: tally.restoredRowCount,
		});
	}

	return summary;
}

/** Whether rows go each through their own site's lane (`--tokens`, `--prefetch`) rather than one lane (`--site`, or one token). */
function perSite(config: RunConfig): boolean {
	return config.site === undefined && (config.tokens !== undefined || config.prefetch === true);
}

/**
 * The lanes: with `--site`, one for that site (its token from `--tokens`, else WEBFLOW_TOKEN);
 * with `--tokens` or `--prefetch`, one per site in the file, each through its token from the file,
 * else WEBFLOW_TOKEN (a workspace token), plus WEBFLOW_TOKEN's for rows without a siteId (not with
 * `--prefetch`); otherwise WEBFLOW_TOKEN's one. Sites that share a token share its session and budget.
 */
function openLanes({config, siteIds, hooks, now}: {config: RunConfig; siteIds: ReadonlySet<string>; hooks: RunHooks; now: () => number}): Map<string, Lane> {
	const lanes = new Map<string, Lane>();
	const sessions = new Map<string, Session>();
	const open = (key: string, token: string, site: string | undefined) => {
		let session = sessions.get(token);
		if (!session) {
			session = new Session({...config, token, logger: hooks.logger.child({site: site ?? DEFAULT_LANE}), now, interrupt: hooks.interrupt, abort: hooks.abort});
			sessions.set(token, session);
		}

		lanes.set(key, new Lane({session, site, config, logger: hooks.logger}));
	};

	const fallback = config.token === undefined || config.token === '' ? undefined : config.token;
	if (!perSite(config)) {
		const token = config.site === undefined ? fallback : config.tokens?.get(config.site) ?? fallback;
		if (token !== undefined) {
			open(DEFAULT_LANE, token, config.site);
		}

		return lanes;
	}

	if (fallback !== undefined && config.prefetch !== true) {
		open(DEFAULT_LANE, fallback, undefined);
	}

	for (const siteId of siteIds) {
		const token = config.tokens?.get(siteId) ?? fallback;
		if (token !== undefined) {
			open(siteId, token, siteId);
		}
	}

	return lanes;
}

/** Each session once, however many lanes (sites) share its token. */
function sessionsOf(lanes: Map<string, Lane>): Session[] {
	return [...new Set([...lanes.values()].map(lane => lane.session))];
}

/** The run's summary from what was counted and what each lane's pacer saw. */
function summarize({config, tally, lanes, offline, offlineEstimate, rows, elapsedMs}: {config: RunConfig; tally: Tally; lanes: Map<string, Lane>; offline: RunStop; offlineEstimate: number; rows: number; elapsedMs: number}): Summary {
	const sites: Record<string, SiteSummary> = {};
	for (const [key, lane] of lanes) {
		const stats = lane.session.governor.stats();
		const stop = lane.stopped;
		const statuses = tally.byLane.get(key) ?? emptyStatuses();
		const listRequests = lane.snapshot?.pages ?? 0;
		sites[lane.site ?? key] = {
			statuses,
			requests: lane.requests,
			listRequests,
			estimatedRequests: config.dryRun ? listRequests + lane.wouldSend : undefined,
			conflicts: statuses.conflict,
			tooManyRequests: lane.tooManyRequests,
			rateLimitPerMinute: Math.round(ratePerMinute(stats.rate) * 10) / 10,
			stopped: stop ? {reason: stop.reason, message: stop.message} : undefined,
		};
	}

	let requests = 0;
	let tooManyRequests = 0;
	let pausedMs = 0;
	let first = Number.POSITIVE_INFINITY;
	let last = Number.NEGATIVE_INFINITY;
	for (const session of sessionsOf(lanes)) {
		const stats = session.governor.stats();
		requests += stats.requests;
		tooManyRequests += stats.tooManyRequests;
		pausedMs = Math.max(pausedMs, stats.pausedMs);
		first = Math.min(first, stats.sentSpan?.first ?? first);
		last = Math.max(last, stats.sentSpan?.last ?? last);
	}

	// Requests per minute from the first request sent to the last (n requests span n - 1 gaps), so
	// a short run paced at the limit shows the limit, not more. One request has no rate: 0.
	const effectivePerMs = requests >= 2 && last > first ? (requests - 1) / (last - first) : 0;

	const all = [...lanes.values()];
	const stats = all[0]?.session.governor.stats();
	const stops = all.map(lane => lane.stopped);
	const interrupted = offline.current ?? stops.find(stop => stop?.reason === 'interrupted');
	// The run stopped when every lane did; one site's refused token stops only that site's rows.
	const stopped = interrupted ?? (stops.length > 0 && stops.every(Boolean) ? stops[0] : undefined);
	const listRequests = all.reduce((sum, lane) => sum + (lane.snapshot?.pages ?? 0), 0);
	const wouldSend = all.reduce((sum, lane) => sum + lane.wouldSend, 0);
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
		estimatedRequests: config.dryRun ? listRequests + wouldSend + offlineEstimate : undefined,
		tooManyRequests,
		pausedSeconds: Math.round(pausedMs / 100) / 10,
		elapsedSeconds: Math.round(elapsedMs / 100) / 10,
		effectiveRatePerMinute: Math.round(effectivePerMs * 60_000 * 10) / 10,
		rateLimitPerMinute: stats ? Math.round(ratePerMinute(stats.rate) * 10) / 10 : 0,
		rateSource: stats?.source ?? 'none',
		budget: describeBudget(stats?.budget),
		sites: config.tokens !== undefined || config.prefetch === true ? sites : undefined,
		stopped: stopped ? {reason: stopped.reason, message: stopped.message} : undefined,
	};
}

function describeBudget(mode: BudgetMode | undefined): string {
	if (mode === undefined || mode.kind === 'local') {
		return 'local';
	}

	return mode.kind === 'shared' ? `shared through Redis (${mode.peers} other process${mode.peers === 1 ? '' : 'es'} seen)` : `local after Redis went away (${Math.round(mode.share * 100)}% of the rate): ${mode.reason}`;
}

/** Coverage before (at the prefetch) and after (the snapshot with every applied row). */
function coverageRows(lane: Lane): CoverageRow[] {
	if (!lane.snapshot || !lane.coverageBefore) {
		return [];
	}

	const after = coverageOf(lane.snapshot);
	return [...lane.coverageBefore].map(([locale, before]) => ({site: lane.snapshot!.siteId, locale, before, after: after.get(locale) ?? before}));
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

function warningsFor(job: Job, snapshot: SiteSnapshot | undefined, duplicates: DuplicateAltTracker): string[] {
	// An empty alt text (undo --allow-clear putting an empty one back) has nothing to warn about.
	if (job.altText === undefined || job.altText === '') {
		return [];
	}

	const displayName = job.displayName ?? snapshot?.assets.get(job.assetId)?.displayName;
	const warnings: string[] = altTextWarnings({altText: job.altText, displayName});
	if (duplicates.seen({altText: job.altText, assetId: job.assetId})) {
		warnings.push('alt_duplicate');
	}

	return warnings;
}

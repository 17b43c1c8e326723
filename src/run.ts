import type {RunConfig} from './config.js';
import {ResultsJournal, type StoredRow} from './csv/journal.js';
import {InputError, UsageError} from './errors.js';
import {scanInput, type CheckedInput} from './input-check.js';
import type {Logger} from './logger.js';
import {applyToSnapshot, decide, hasAltText, skippedForAltText} from './rows/decide.js';
import {jobKey, toJob, type Columns, type Job} from './rows/job.js';
import {DONE_STATUSES, resultCells, resultHeader, STATUSES, type Outcome, type Status} from './rows/result.js';
import {altTextWarnings, DuplicateAltTracker} from './rows/warnings.js';
import type {Attempted} from './schedule/attempts.js';
import {RowPool} from './schedule/pool.js';
import {ratePerMinute} from './schedule/rate.js';
import {learnBudget, outcomeOf, RunStop, Session, type StopReason} from './session.js';
import {fetchSite, PAGE_SIZE, type CurrentAsset, type SiteSnapshot} from './site.js';

export type {StopReason} from './session.js';

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
	/** Of `requests`, the `--site` list pages. */
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

function sameEdit(a: Job, b: Job): boolean {
	return a.assetId === b.assetId && a.localeId === b.localeId && a.displayName === b.displayName && a.altText === b.altText && a.siteId === b.siteId;
}

/** How one row gets its result: the file's order and same-key chaining are handled around it. */
type RowWork = {readonly job: Job; readonly warnings: readonly string[]};

/**
 * `altbatch run`: checks the whole file, learns the token's budget (and with `--site` the site's
 * current assets), applies every row that needs it at the rate (rows of one asset and locale in
 * file order), and journals each row's result as it finishes. Returns the summary; prints nothing.
 */
export async function run(config: RunConfig, hooks: RunHooks): Promise<Summary> {
	const {logger} = hooks;
	const now = hooks.now ?? Date.now;
	const started = now();
	const site = config.site;
	if (config.onlyMissing && site === undefined) {
		throw new UsageError('--only-missing needs --site <id>: the current alt text is read from the site', 'only_missing_needs_site');
	}

	// The whole file is checked before the first request; a run that sends nothing reads it once.
	const singlePass = config.dryRun && !config.resume && site === undefined;
	const checked = singlePass ? undefined : await scanInput({path: config.input, encoding: config.encoding});
	if (checked) {
		logger.info({input: config.input, rows: checked.rows, delimiter: checked.dialect.delimiter, encoding: checked.dialect.encoding}, 'input checked');
	}

	const needsNetwork = !config.dryRun || site !== undefined;
	if (needsNetwork && (config.token === undefined || config.token === '')) {
		throw new UsageError('No token: set WEBFLOW_TOKEN or pass --token-file <path>', 'no_token');
	}

	const session = needsNetwork ? new Session({...config, token: config.token ?? '', logger, now, interrupt: hooks.interrupt, abort: hooks.abort}) : undefined;
	const stop = session?.stop ?? offlineStop(hooks.interrupt);
	const statuses = Object.fromEntries(STATUSES.map(s => [s, 0])) as Record<Status, number>;
	const errorCodes: Record<string, number> = {};
	const warningCounts: Record<string, number> = {};
	let done = 0;
	const count = (status: string, code: string | undefined) => {
		statuses[status as Status]++;
		if (code) {
			errorCodes[code] = (errorCodes[code] ?? 0) + 1;
		}

		done++;
		hooks.onProgress?.({done, total: checked?.rows ?? done, elapsedMs: now() - started, pausedUntil: session?.governor.pausedUntil ?? 0});
	};

	// Until the token is known to be good, the first PATCH goes alone: a refused token then costs
	// one request, not one per request in flight.
	let tokenChecked: Promise<unknown> | undefined;
	let snapshot: SiteSnapshot | undefined;
	if (session && await learnBudget({session, site, scope: config.dryRun ? 'assets:read' : 'assets:write', logger})) {
		tokenChecked = Promise.resolve();
	}

	if (session && site !== undefined && !stop.current) {
		snapshot = await prefetch({session, site, locales: checked!.locales, logger});
	}

	let journal: ResultsJournal | undefined;
	let kept = new Map<number, StoredRow>();
	const openJournal = async (columns: Columns) => {
		const header = resultHeader(columns.header);
		if (config.resume) {
			({journal, kept} = await ResultsJournal.resume({path: config.out, header, keep: row => DONE_STATUSES.has(row.values.get('status') ?? '')}));
			logger.info({carried: kept.size, out: config.out}, 'resuming');
		} else {
			// A dry run changes nothing, so its results need not survive a kill line by line.
			journal = ResultsJournal.create({path: config.out, header, durable: !config.dryRun});
		}
	};

	if (checked) {
		await openJournal(checked.columns);
	}

	const finish = ({job, warnings}: RowWork, outcome: Outcome) => {
		journal!.write(resultCells({...outcome, job, warnings, finishedAt: new Date(now())}));
		count(outcome.status, outcome.errorCode);
		for (const warning of warnings) {
			warningCounts[warning] = (warningCounts[warning] ?? 0) + 1;
		}
	};

	const stopped = (): Outcome => outcomeOf({kind: 'stopped', reply: undefined, attempts: 0}, stop, config.maxWaitMs);
	let wouldSend = 0;
	const patch = async (job: Job): Promise<Outcome> => {
		const call = () => session!.request(() => session!.client.patchAsset(job, hooks.abort));
		let attempted: Attempted;
		if (tokenChecked === undefined) {
			const probe = call();
			tokenChecked = probe;
			attempted = await probe;
		} else {
			await tokenChecked;
			attempted = stop.current ? {kind: 'stopped', reply: undefined, attempts: 0} : await call();
		}

		return session!.outcome(attempted);
	};

	const processRow = async (work: RowWork) => {
		const {job} = work;
		if (stop.current) {
			finish(work, stopped());
			return;
		}

		if (snapshot) {
			const decision = decide({job, snapshot, onlyMissing: config.onlyMissing});
			if (decision.kind === 'done') {
				finish(work, decision.outcome);
				return;
			}

			if (config.dryRun) {
				wouldSend += config.onlyMissing ? 2 : 1;
				applyToSnapshot(job, snapshot);
				finish(work, {status: 'would_update', attempts: 0});
				return;
			}

			if (config.onlyMissing) {
				// The alt text is read again just before the write, so an editor's new text is never overwritten.
				const fresh = await readCurrent({session: session!, job});
				if (fresh.kind === 'outcome') {
					finish(work, fresh.outcome);
					return;
				}

				if (hasAltText(job, fresh.current)) {
					finish(work, skippedForAltText(job, fresh.current));
					return;
				}
			}
		}

		const outcome = await patch(job);
		if (snapshot && outcome.status === 'updated') {
			applyToSnapshot(job, snapshot);
		}

		finish(work, outcome);
	};

	const pool = new RowPool(config.concurrency);
	const chains = new Map<string, Promise<void>>();
	const duplicates = new DuplicateAltTracker();
	let scanned: CheckedInput | undefined;
	try {
		scanned = await scanInput({
			path: config.input,
			encoding: checked?.dialect.encoding ?? config.encoding,
			onColumns: singlePass ? columns => void openJournal(columns) : undefined,
			onJob(job) {
				const previous = kept.get(job.row);
				if (previous && checked && carriedOver({job, previous, columns: checked.columns, journal: journal!})) {
					count(previous.values.get('status') ?? 'updated', undefined);
					return;
				}

				const work: RowWork = {job, warnings: job.problem ? [] : warningsFor(job, snapshot, duplicates)};
				if (job.problem) {
					finish(work, {status: 'invalid', errorCode: job.problem.code, errorMessage: job.problem.message, attempts: 0});
				} else if (stop.current) {
					finish(work, stopped());
				} else if (config.dryRun && !snapshot) {
					finish(work, {status: 'would_update', attempts: 0});
				} else {
					return pool.add(() => inKeyOrder(chains, jobKey(job), () => processRow(work)));
				}

				return undefined;
			},
		});
	} catch (error) {
		if (singlePass && error instanceof InputError) {
			// Refused part-way through: no results file rather than half of one.
			await journal?.discard();
		}

		throw error;
	} finally {
		await pool.drain();
		await journal?.finish({lastRow: (scanned ?? checked)?.lastRow ?? Number.MAX_SAFE_INTEGER});
		await session?.close();
	}

	const stats = session?.governor.stats();
	const requests = stats?.requests ?? 0;
	const elapsedMs = Math.max(1, now() - started);
	const summary: Summary = {
		input: config.input,
		out: config.out,
		dryRun: config.dryRun,
		rows: scanned.rows,
		statuses,
		errorCodes,
		warnings: warningCounts,
		requests,
		listRequests: snapshot?.pages ?? 0,
		estimatedRequests: config.dryRun ? (snapshot?.pages ?? 0) + (snapshot ? wouldSend : statuses.would_update) : undefined,
		tooManyRequests: stats?.tooManyRequests ?? 0,
		pausedSeconds: Math.round((stats?.pausedMs ?? 0) / 100) / 10,
		elapsedSeconds: Math.round(elapsedMs / 100) / 10,
		effectiveRatePerMinute: Math.round(requests * 60_000 / elapsedMs * 10) / 10,
		rateLimitPerMinute: stats ? Math.round(ratePerMinute(stats.rate) * 10) / 10 : 0,
		rateSource: stats?.source ?? 'none',
		stopped: stop.current ? {reason: stop.current.reason, message: stop.current.message} : undefined,
	};
	logger.info({summary}, 'run finished');
	return summary;
}

/** A run with no network still stops on Ctrl-C. */
function offlineStop(interrupt: AbortSignal | undefined): RunStop {
	const stop = new RunStop();
	const onInterrupt = () => {
		stop.trigger({reason: 'interrupted', rowCode: 'interrupted', message: 'the run was interrupted before this row was done'});
	};

	if (interrupt?.aborted) {
		onInterrupt();
	}

	interrupt?.addEventListener('abort', onInterrupt, {once: true});
	return stop;
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
	if (job.altText === undefined) {
		return [];
	}

	const displayName = job.displayName ?? snapshot?.assets.get(job.assetId)?.displayName;
	const warnings: string[] = altTextWarnings({altText: job.altText, displayName});
	if (duplicates.seen({altText: job.altText, assetId: job.assetId})) {
		warnings.push('alt_duplicate');
	}

	return warnings;
}

/** `--site`: the site's assets in every locale the file uses, counted against the same budget. */
async function prefetch({session, site, locales, logger}: {session: Session; site: string; locales: ReadonlySet<string>; logger: Logger}): Promise<SiteSnapshot | undefined> {
	const fetched = await fetchSite({
		siteId: site,
		locales: locales.size > 0 ? locales : [''],
		request: ({localeId, offset}) => session.request(() => session.client.listAssets({siteId: site, localeId, offset, limit: PAGE_SIZE}, session.abort)),
	});
	if ('attempted' in fetched) {
		const {attempted} = fetched;
		if (attempted.kind === 'failed' && attempted.reply.kind === 'error' && (attempted.reply.status === 404 || attempted.reply.status === 400)) {
			session.stop.trigger({reason: 'auth', rowCode: 'aborted', message: `site ${site} cannot be listed with this token (${attempted.reply.status} ${attempted.reply.code}: ${attempted.reply.message})`});
		} else if (attempted.kind === 'failed') {
			const outcome = session.outcome(attempted);
			session.stop.trigger({reason: 'unreachable', rowCode: 'aborted', message: `the assets of site ${site} could not be read (${outcome.errorCode ?? 'error'}: ${outcome.errorMessage ?? ''})`});
		} else {
			session.outcome(attempted);
		}

		return undefined;
	}

	logger.info({site, assets: fetched.assets.size, pages: fetched.pages}, 'site assets read');
	return fetched;
}

/** `--only-missing`: one asset as it is right now, or the row's result when it cannot be read. */
async function readCurrent({session, job}: {session: Session; job: Job}): Promise<{kind: 'current'; current: CurrentAsset} | {kind: 'outcome'; outcome: Outcome}> {
	const attempted = await session.request(() => session.client.getAsset({assetId: job.assetId, localeId: job.localeId}, session.abort));
	if (attempted.kind !== 'ok') {
		return {kind: 'outcome', outcome: session.outcome(attempted)};
	}

	const body = attempted.reply.body as {altText?: unknown; displayName?: unknown};
	const altText = typeof body.altText === 'string' ? body.altText : null;
	return {
		kind: 'current',
		current: {id: job.assetId, displayName: typeof body.displayName === 'string' ? body.displayName : undefined, altText: new Map([[job.localeId ?? '', altText]]), summary: {id: job.assetId, displayName: undefined, altText, hostedUrl: undefined, originalFileName: undefined, contentType: undefined, lastUpdated: undefined, folderId: undefined}},
	};
}

/** `--resume`: a row already done with the same edit is not sent again; its line is refreshed if its cells changed. */
function carriedOver({job, previous, columns, journal}: {job: Job; previous: StoredRow; columns: Columns; journal: ResultsJournal}): boolean {
	const cells = columns.header.map(name => previous.values.get(name) ?? '');
	const before = toJob({columns, fields: cells, row: job.row, line: job.line});
	if (job.problem || !sameEdit(before, job)) {
		return false;
	}

	if (cells.some((cell, i) => cell !== job.cells[i])) {
		const stored = resultHeader(columns.header).map(name => name === 'row' ? String(job.row) : previous.values.get(name) ?? '');
		journal.write([String(job.row), ...job.cells, ...stored.slice(1 + job.cells.length)]);
	}

	return true;
}

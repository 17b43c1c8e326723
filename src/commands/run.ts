import {resolve} from 'node:path';
import {checkRunConfig, needsNetwork, type RunConfig} from '../cli/config.js';
import {AltbatchError, InputError} from '../errors.js';
import {checkInput, type CheckedInput, type JobSource} from '../files/input-check.js';
import type {Logger} from '../logger.js';
import {openRunLedger} from '../ledger/open.js';
import {LedgerView} from '../ledger/view.js';
import {lockPath} from '../files/lock.js';
import {assertFilesSafe, type PlannedFile} from '../files/paths.js';
import {Results} from '../files/results.js';
import {SheetResults} from '../files/sheet-results.js';
import {assertDryRunMayReplace, assertMayResume} from '../files/out-guard.js';
import {introspectsOfARealRun, noLanes, openLanes, startLanes} from '../engine/lanes.js';
import {RowRouter} from '../engine/pipeline.js';
import {followedByMany, RunStop} from '../engine/session.js';
import {coverageRows, summarize} from '../engine/summarize.js';
import {writeReport} from '../report/html.js';
import type {Lane} from '../engine/lane.js';
import type {Sessions} from '../engine/sessions.js';
import type {Progress, Summary} from '../report/summary.js';
import {Tally} from '../engine/tally.js';

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
	const input = await checkInput(config, source, logger, sheet?.journal ?? config.out).catch((error: unknown) => {
		sheet?.forget();
		throw error;
	});
	const signals = stopSignals(hooks);
	const networked = input.checked !== undefined && needsNetwork(config);
	// A real run (or undo) is on record before its first request: where the ledger is, it is opened first.
	const ledger = networked && !config.dryRun ? openRunLedger({config, hooks, siteIds: input.checked?.siteIds, now}) : undefined;
	const view = config.ledger === undefined ? undefined : new LedgerView({dir: config.ledger, apiBase: config.apiBase, exclude: ledger?.id, isAlive: hooks.isAlive});
	const {lanes, sessions} = networked && input.checked ? openLanes({config, siteIds: input.checked.siteIds, hooks: signals.hooks, now, ledger, view}) : noLanes();
	// A run with no network still stops on Ctrl-C.
	const offline = new RunStop();
	const unfollowInterrupt = offline.followInterrupt(signals.hooks.interrupt);
	const tally = new Tally({forReport: config.report !== undefined, undo: config.undo});
	const progress = () => hooks.onProgress?.({done: tally.done, total: input.checked?.rows ?? tally.done, elapsedMs: now() - started, pausedUntil: Math.max(0, ...sessions.all().map(session => session.pausedUntil))});
	// Also while no row finishes (a long rate-limit pause), so the pause can be shown counting down.
	const ticker = hooks.onProgress ? setInterval(progress, 1000) : undefined;
	ticker?.unref();
	const results = new Results({config: sheet ? {...config, out: sheet.journal} : config, resume: input.resume, logger, onFailure: () => signals.writeFailed.abort()});
	const rows = new RowRouter({config, lanes, offline, results, later: input.later, images: input.images, now, count(entry) {
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
			if (input.replay && input.checked) {
				// --resume with the rows to redo kept by the check: the input is not read again.
				await results.open(input.checked.columns);
				await rows.replay(input.replay, input.checked);
				scanned = input.checked;
			} else {
				scanned = await input.read({
					onColumns: async columns => results.open(columns),
					onJob(job) {
						input.assertSamePrint(job);
						return rows.take(job);
					},
				});
			}
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
		await sessions.close();
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
		...summarize({config, tally, lanes, sessions, offline, offlineEstimate, rows: scanned.rows, elapsedMs: Math.max(1, now() - started)}),
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
		writeRunReport({path: config.report, undo: config.undo === true, summary, started, ended: now(), lanes, sessions, tally});
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		logger.error({report: config.report, code}, 'the report could not be written');
		return {...summary, report: {path: config.report, written: false, error: code ?? (error instanceof Error ? error.message : String(error))}};
	}

	return {...summary, report: {path: config.report, written: true}};
}

/** `--report`: the summary, each token's timeline, each site's coverage before and after, and the rows to look at. */
function writeRunReport({path, undo, summary, started, ended, lanes, sessions, tally}: {path: string; undo: boolean; summary: Summary; started: number; ended: number; lanes: ReadonlyMap<string, Lane>; sessions: Sessions; tally: Tally}): void {
	writeReport(path, {
		summary,
		startedAt: started,
		endedAt: ended,
		timelines: sessions.all().map(session => session.timeline()),
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

import {isPending, readLedger, resultsNow, type StoredRun} from '../ledger/read.js';

/** `altbatch history`: the ledger folder, and (`--site`) one site's runs only. */
export type HistoryConfig = {readonly ledger: string; readonly site: string | undefined};

/** One run as `history` lists it (and `--json` prints it). */
export type HistoryEntry = {
	readonly id: string;
	/** The command line, without secrets. */
	readonly command: string;
	readonly startedAt: string;
	/** null: no end on record (killed, or still running). */
	readonly finishedAt: string | null;
	readonly jobs: string | null;
	readonly results: string | null;
	readonly sites: readonly string[];
	readonly apiBase: string;
	readonly undo: boolean;
	readonly undoOf: string | null;
	/** Rows per status at the end (empty when the run has no end on record). */
	readonly statuses: Readonly<Record<string, number>>;
	/** Writes recorded. */
	readonly writes: number;
	/** Writes whose answer never came and that no later read has settled. */
	readonly pending: number;
	/** Writes a later run found on the site although their answer never came. */
	readonly landedUnanswered: number;
	/** The run is still going (its process is alive on this machine). */
	readonly running: boolean;
};

const quoteArg = (arg: string) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll('\'', '\'\\\'\'')}'`;

/** The runs on record, newest first: reads the ledger only (no token, no request). */
export function history(config: HistoryConfig, {isAlive, host}: {isAlive?: (pid: number) => boolean; host?: string} = {}): HistoryEntry[] {
	const runs = readLedger(config.ledger);
	return runs
		.filter(run => config.site === undefined || run.sites.includes(config.site) || run.writes.some(write => write.target.site === config.site))
		.map(run => entry(run, runs, {isAlive, host}));
}

function entry(run: StoredRun, runs: readonly StoredRun[], {isAlive, host}: {isAlive?: (pid: number) => boolean; host?: string}): HistoryEntry {
	return {
		id: run.id,
		command: ['altbatch', ...run.command].map(quoteArg).join(' '),
		startedAt: run.startedAt,
		finishedAt: run.finishedAt ?? null,
		jobs: run.jobs ?? null,
		results: resultsNow(run, runs) ?? null,
		sites: run.sites,
		apiBase: run.apiBase,
		undo: run.undo,
		undoOf: run.undoOf ?? null,
		statuses: Object.fromEntries(Object.entries(run.statuses ?? {}).filter(([, count]) => count > 0)),
		writes: run.writes.length,
		pending: run.writes.filter(isPending).length,
		landedUnanswered: run.writes.filter(write => write.settled?.landed === true && write.result !== 'written').length,
		running: run.finishedAt === undefined && run.pid !== undefined && run.host === host && isAlive?.(run.pid) === true,
	};
}

/** The list as people read it. */
export function formatHistory(entries: readonly HistoryEntry[], ledger: string): string {
	if (entries.length === 0) {
		return `No runs on record in ${ledger}`;
	}

	const lines: string[] = [];
	for (const e of entries) {
		const when = `${e.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} → ${e.finishedAt === null ? (e.running ? 'running' : 'no end on record (killed?)') : e.finishedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`;
		const counts = Object.entries(e.statuses).map(([status, count]) => `${status} ${count}`).join(', ');
		lines.push(
			`${e.id}  ${e.undo ? 'undo' : 'run'}  ${when}`,
			`  ${e.command}`,
			`  ${counts === '' ? 'no rows counted' : counts}; ${e.writes} write${e.writes === 1 ? '' : 's'} on record${e.pending > 0 ? `, ${e.pending} pending (the answer never came: the next run or undo on the site reads them)` : ''}${e.landedUnanswered > 0 ? `, ${e.landedUnanswered} landed without an answer` : ''}`,
			`  sites: ${e.sites.join(', ') || 'none named'}${e.apiBase === 'https://api.webflow.com' ? '' : ` (API ${e.apiBase})`}`,
			...e.results === null ? [] : [`  results: ${e.results}`],
		);
	}

	return `${lines.join('\n')}\n(ledger: ${ledger})`;
}

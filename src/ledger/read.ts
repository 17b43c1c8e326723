import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {RUNS_FOLDER, type Line, type RunHeader, type WriteResult, type WriteTarget} from './ledger.js';

/**
 * The ledger read back: every run file, a line at a time. A line that is not whole JSON (the last
 * line of a run killed mid-append) is left out, and so is anything after it in that file: what
 * was synced before it stands. Nothing here sends a request or needs a token.
 */

/** One write as the ledger has it now: its record, its outcome, and what a later read found. */
export type StoredWrite = {
	readonly run: string;
	readonly n: number;
	readonly target: WriteTarget;
	readonly field: string;
	readonly before: string | null | undefined;
	readonly sent: string;
	/** The input row that wrote it (records from before rows were kept have none). */
	readonly row: number | undefined;
	result: WriteResult | undefined;
	http: number | undefined;
	code: string | undefined;
	/** Set when a later run read the site: whether it landed (null: the site held neither value). */
	settled: {readonly landed: boolean | null; readonly found: string | null; readonly by: string} | undefined;
};

export type StoredRun = RunHeader & {
	readonly id: string;
	readonly startedAt: string;
	finishedAt: string | undefined;
	statuses: Readonly<Record<string, number>> | undefined;
	readonly writes: StoredWrite[];
	/** Results files moved aside by this run (an earlier run's, kept). */
	readonly moved: Array<{readonly from: string; readonly to: string}>;
	/** Settlements this run made of earlier runs' writes. */
	readonly settlements: Array<{readonly run: string; readonly n: number; readonly landed: boolean | null; readonly found: string | null}>;
	/** The file ended in a torn line (a kill mid-append). */
	torn: boolean;
};

/** The ids of the runs on record, newest first. */
export function runIds(dir: string): string[] {
	let names: string[];
	try {
		names = readdirSync(join(dir, RUNS_FOLDER));
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return [];
		}

		throw error;
	}

	return names.filter(name => /^[\w-]+\.ndjson$/.test(name)).map(name => name.slice(0, -'.ndjson'.length)).sort().reverse();
}

function parse(text: string): Line | undefined {
	try {
		const value = JSON.parse(text) as Line;
		return typeof value === 'object' && value !== null && typeof value.t === 'string' ? value : undefined;
	} catch {
		return undefined;
	}
}

/** One run file; undefined when it has no readable first line (a run killed while creating it). */
export function readRunFile(path: string): StoredRun | undefined {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}

		throw error;
	}

	let run: StoredRun | undefined;
	const writes = new Map<number, StoredWrite>();
	let start = 0;
	while (start < text.length) {
		const end = text.indexOf('\n', start);
		const line = end < 0 ? undefined : parse(text.slice(start, end));
		if (line === undefined) {
			if (run) {
				run.torn = true;
			}

			break;
		}

		start = end + 1;
		if (line.t === 'run') {
			run = {command: line.command, apiBase: line.apiBase, jobs: line.jobs, results: line.results, sites: line.sites, undo: line.undo, undoOf: line.undoOf, pid: line.pid, host: line.host, id: line.id, startedAt: line.startedAt, finishedAt: undefined, statuses: undefined, writes: [], moved: [], settlements: [], torn: false};
			continue;
		}

		if (!run) {
			break;
		}

		switch (line.t) {
			case 'w': {
				const write: StoredWrite = {run: run.id, n: line.n, target: line.target, field: line.field, before: line.before, sent: line.sent, row: line.row, result: undefined, http: undefined, code: undefined, settled: undefined};
				writes.set(line.n, write);
				run.writes.push(write);
				break;
			}

			case 'o': {
				for (const n of line.n) {
					const write = writes.get(n);
					if (write) {
						write.result = line.result;
						write.http = line.http;
						write.code = line.code;
					}
				}

				break;
			}

			case 's': {
				run.settlements.push({run: line.run, n: line.n, landed: line.landed, found: line.found});
				break;
			}

			case 'moved': {
				run.moved.push({from: line.from, to: line.to});
				break;
			}

			case 'end': {
				run.finishedAt = line.finishedAt;
				run.statuses = line.statuses;
				break;
			}
		}
	}

	return run;
}

/** Whether a write may have reached the site and no read has said yet: no outcome, or an unknown one, and not settled. */
export function isPending(write: StoredWrite): boolean {
	return (write.result === undefined || write.result === 'unknown') && write.settled === undefined;
}

/** Whether a write may be on the site now: written, or never answered, unless a read found it did not land. */
export function mayHaveLanded(write: StoredWrite): boolean {
	if (write.settled) {
		return write.settled.landed !== false;
	}

	return write.result !== 'not_written';
}

/**
 * Every run on record (newest first), with the settlements later runs made applied to the writes
 * they settled, and each run's results path following the moves that kept it.
 */
export function readLedger(dir: string, {apiBase}: {apiBase?: string | undefined} = {}): StoredRun[] {
	const runs = runIds(dir).map(id => readRunFile(join(dir, RUNS_FOLDER, `${id}.ndjson`))).filter((run): run is StoredRun => run !== undefined);
	const byId = new Map(runs.map(run => [run.id, run]));
	// Oldest first, so a later settlement or move wins.
	for (const run of [...runs].reverse()) {
		for (const settlement of run.settlements) {
			const write = byId.get(settlement.run)?.writes.find(w => w.n === settlement.n);
			if (write) {
				write.settled = {landed: settlement.landed, found: settlement.found, by: run.id};
			}
		}
	}

	return apiBase === undefined ? runs : runs.filter(run => run.apiBase === apiBase);
}

/** Where a run's results are now: moved aside by a later run, or where it wrote them. */
export function resultsNow(run: StoredRun, runs: readonly StoredRun[]): string | undefined {
	let path = run.results;
	for (const later of [...runs].reverse()) {
		if (later.id > run.id) {
			for (const move of later.moved) {
				if (move.from === path) {
					path = move.to;
				}
			}
		}
	}

	return path;
}

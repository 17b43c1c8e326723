import {randomBytes} from 'node:crypto';
import {closeSync, fsync, mkdirSync, openSync} from 'node:fs';
import {join} from 'node:path';
import {AltbatchError} from '../errors.js';
import {writeAll} from '../files/csv/write.js';

/**
 * The ledger: every write altbatch sends, on record before it leaves (product.md, "Every write on
 * record"). One folder (`ledgerDir`); in it `runs/<id>.ndjson`, one file per real `run` or `undo`,
 * appended to, one JSON object per line (`src/ledger/read.ts` reads them back, torn last line and all).
 *
 * The API (target-neutral: asset rows and CMS rows alike):
 *
 * ```ts
 * const ledger = RunLedger.open({dir, run: {command, apiBase, jobs, results, sites, undoOf, pid, host}});
 * // Before a request leaves: one record per field it writes. Resolves once they are synced to disk.
 * const pending = await ledger.pending([
 *   {target: {kind: 'asset', site, assetId, localeId}, field: 'altText', before: 'old', sent: 'new'},
 *   {target: {kind: 'cms', site, collectionId, itemId, cmsLocaleId, field: 'hero', fileId, index: 1, live: false}, field: 'alt', before, sent, row: 7},
 * ]);
 * // ... send the request (one PATCH, or one bulk PATCH of up to 100 items) ...
 * pending.end({result: 'written', httpStatus: 200});          // the server said it applied it
 * pending.end({result: 'not_written', httpStatus: 400, code}); // the server refused it / it never left
 * pending.end({result: 'unknown', code: 'timeout'});           // no answer: stays pending, settled later
 * // A bulk answer that refuses some items: `pending.endEach(record => outcome)` per record.
 * ledger.settled([{run, n, landed: true, found: 'new'}]);     // what a later read found (settle.ts)
 * ledger.moved({from, to});                                   // an earlier results file kept aside
 * await ledger.close({statuses});                             // the end line, synced
 * ```
 *
 * Never the token: records hold ids, field names and values, nothing from the request's headers.
 * `pending()` never resolves before the bytes of its records were written and fsync'd: records
 * asked for together (or while a sync is under way) share one fsync. A ledger that cannot be
 * written rejects `pending()` with `ledger_unwritable`: the write must then not be sent.
 */

/** What a write changes: an asset's field in a locale, or one image's alt in a CMS item's field (staged or live). */
export type WriteTarget =
	| {readonly kind: 'asset'; readonly site: string | undefined; readonly assetId: string; readonly localeId: string | undefined}
	| {readonly kind: 'cms'; readonly site: string | undefined; readonly collectionId: string; readonly itemId: string; readonly cmsLocaleId: string | undefined; readonly field: string; readonly fileId: string; readonly live: boolean; /** 1-based place in the field when written. */ readonly index?: number | undefined};

/** One field written: where, the value before (undefined where it was not read) and the value sent. */
export type WriteRecord = {
	readonly target: WriteTarget;
	/** `displayName` or `altText` for assets; `alt` for a CMS image. */
	readonly field: string;
	readonly before?: string | null | undefined;
	readonly sent: string;
	/** The input row that wrote it (the last one, where rows of one image were merged): undo of a results file finds a row's writes by it. */
	readonly row?: number | undefined;
};

/** How a write ended: `written` (the server said so), `not_written` (refused, or never sent), `unknown` (no answer: pending). */
export type WriteResult = 'written' | 'not_written' | 'unknown';

export type WriteOutcome = {readonly result: WriteResult; readonly httpStatus?: number | undefined; readonly code?: string | undefined};

/** A later read of a pending write: whether it landed (null: the site holds neither value). */
export type Settlement = {readonly run: string; readonly n: number; readonly landed: boolean | null; readonly found: string | null};

/** A run as the ledger's first line says it. */
export type RunHeader = {
	readonly command: readonly string[];
	readonly apiBase: string;
	/** The input (run) or results (undo) read, absolute. */
	readonly jobs: string | undefined;
	/** The results written, absolute. */
	readonly results: string | undefined;
	readonly sites: readonly string[];
	readonly undo: boolean;
	/** `undo --run <id>`: the run undone. */
	readonly undoOf?: string | undefined;
	readonly pid?: number | undefined;
	readonly host?: string | undefined;
};

/** Lines as stored (short keys: a line per write on a 10,000-row run adds up). */
export type Line =
	| ({readonly t: 'run'; readonly v: 1; readonly id: string; readonly startedAt: string} & RunHeader)
	| {readonly t: 'w'; readonly n: number; readonly target: WriteTarget; readonly field: string; readonly before?: string | null; readonly sent: string; readonly row?: number}
	| {readonly t: 'o'; readonly n: readonly number[]; readonly result: WriteResult; readonly http?: number; readonly code?: string}
	| {readonly t: 's'; readonly run: string; readonly n: number; readonly landed: boolean | null; readonly found: string | null}
	| {readonly t: 'moved'; readonly from: string; readonly to: string}
	| {readonly t: 'end'; readonly finishedAt: string; readonly statuses: Readonly<Record<string, number>>};

export const RUNS_FOLDER = 'runs';

/** `20261202-171752-042-3f9a1c`: sorts by start time (to the millisecond); the random part keeps two runs of one millisecond apart. */
export function newRunId(now: Date): string {
	const stamp = now.toISOString().replace(/Z$/, '').replaceAll('-', '').replaceAll(':', '').replace('T', '-').replace('.', '-');
	return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Where a run's records go. */
export function runFile(dir: string, id: string): string {
	return join(dir, RUNS_FOLDER, `${id}.ndjson`);
}

/**
 * Where the ledger lives: `--ledger`, else `ALTBATCH_LEDGER`, else `$XDG_DATA_HOME/altbatch`, else
 * `~/.local/share/altbatch` (also on macOS: the contract names these two, and scripts find it in
 * one place on both). A relative `XDG_DATA_HOME` is ignored, as the XDG spec says.
 */
export function ledgerDir({flag, env, home}: {flag: string | undefined; env: Readonly<Record<string, string | undefined>>; home: string}): string {
	const given = flag ?? (env.ALTBATCH_LEDGER?.trim() === '' ? undefined : env.ALTBATCH_LEDGER);
	if (given !== undefined) {
		return given;
	}

	const xdg = env.XDG_DATA_HOME;
	return xdg !== undefined && xdg.startsWith('/') ? join(xdg, 'altbatch') : join(home, '.local', 'share', 'altbatch');
}

/** URL credentials (`redis://user:pass@host`) and `--token`'s value never reach the ledger. */
export function scrubCommand(argv: readonly string[]): string[] {
	return argv.map((arg, i) => argv[i - 1] === '--token' || arg.startsWith('--token=') ? '[redacted]' : arg.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1[redacted]@'));
}

function unwritable(dir: string, error: unknown): AltbatchError {
	const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
	return new AltbatchError('stop', 'ledger_unwritable', `the ledger in ${dir} cannot be written (${code}); nothing more is sent (--ledger <dir> or ALTBATCH_LEDGER picks another folder)`, {cause: error});
}

/** The writes of one request, pending until `end`. */
export class PendingWrites {
	readonly numbers: readonly number[];
	readonly records: readonly WriteRecord[];
	readonly #ledger: RunLedger;
	#ended = false;

	constructor(ledger: RunLedger, numbers: readonly number[], records: readonly WriteRecord[]) {
		this.#ledger = ledger;
		this.numbers = numbers;
		this.records = records;
	}

	/** The one outcome of all of them (one request). Only the first call counts. */
	end(outcome: WriteOutcome): void {
		if (!this.#ended) {
			this.#ended = true;
			this.#ledger.outcome(this.numbers, outcome);
		}
	}

	/** A bulk answer: each record's own outcome. */
	endEach(outcomeOf: (record: WriteRecord, index: number) => WriteOutcome): void {
		if (!this.#ended) {
			this.#ended = true;
			this.records.forEach((record, i) => {
				this.#ledger.outcome([this.numbers[i] ?? -1], outcomeOf(record, i));
			});
		}
	}
}

/** One run's ledger file, open for appending. */
export class RunLedger {
	readonly id: string;
	readonly path: string;
	readonly dir: string;
	#fd: number;
	#next = 0;
	#buffer: string[] = [];
	#waiting: Array<{resolve: () => void; reject: (error: unknown) => void}> = [];
	#flushing: Promise<void> | undefined;
	#failure: AltbatchError | undefined;
	/** Bytes appended (the bench's figure). */
	bytes = 0;
	/** fsyncs made (the bench's figure). */
	syncs = 0;

	private constructor({id, path, dir, fd}: {id: string; path: string; dir: string; fd: number}) {
		this.id = id;
		this.path = path;
		this.dir = dir;
		this.#fd = fd;
	}

	/** Creates the run's file with its first line (synced before anything is sent). */
	static open({dir, run, now = new Date()}: {dir: string; run: RunHeader; now?: Date}): RunLedger {
		const id = newRunId(now);
		const path = runFile(dir, id);
		let fd: number;
		try {
			mkdirSync(join(dir, RUNS_FOLDER), {recursive: true, mode: 0o700});
			fd = openSync(path, 'wx', 0o600);
		} catch (error) {
			throw unwritable(dir, error);
		}

		const ledger = new RunLedger({id, path, dir, fd});
		const line: Line = {t: 'run', v: 1, id, startedAt: now.toISOString(), ...run, command: scrubCommand(run.command)};
		ledger.#append(line);
		try {
			ledger.#writeBuffer();
		} catch (error) {
			throw unwritable(dir, error);
		}

		return ledger;
	}

	/** Records the writes of one request; resolves once they are on disk. Send nothing before. */
	async pending(records: readonly WriteRecord[]): Promise<PendingWrites> {
		const numbers = records.map(record => {
			const n = this.#next++;
			this.#append({t: 'w', n, target: record.target, field: record.field, ...record.before === undefined ? {} : {before: record.before}, sent: record.sent, ...record.row === undefined ? {} : {row: record.row}});
			return n;
		});
		await this.#synced();
		return new PendingWrites(this, numbers, records);
	}

	/** Outcomes are written soon after (not awaited): a kill before leaves the write pending, and it is settled by reading. */
	outcome(numbers: readonly number[], {result, httpStatus, code}: WriteOutcome): void {
		this.#append({t: 'o', n: numbers, result, ...httpStatus === undefined ? {} : {http: httpStatus}, ...code === undefined ? {} : {code}});
		this.#synced().catch(() => undefined);
	}

	settled(settlements: readonly Settlement[]): void {
		for (const {run, n, landed, found} of settlements) {
			this.#append({t: 's', run, n, landed, found});
		}

		this.#synced().catch(() => undefined);
	}

	moved({from, to}: {from: string; to: string}): void {
		this.#append({t: 'moved', from, to});
		this.#synced().catch(() => undefined);
	}

	/** The end line, synced; the file closed. A ledger that failed earlier is closed without it. */
	async close({statuses, now = new Date()}: {statuses: Readonly<Record<string, number>>; now?: Date}): Promise<void> {
		if (this.#fd < 0) {
			return;
		}

		this.#append({t: 'end', finishedAt: now.toISOString(), statuses});
		try {
			await this.#synced();
		} finally {
			closeSync(this.#fd);
			this.#fd = -1;
		}
	}

	#append(line: Line): void {
		this.#buffer.push(`${JSON.stringify(line)}\n`);
	}

	#writeBuffer(): void {
		const text = this.#buffer.join('');
		this.#buffer = [];
		if (text !== '') {
			const bytes = Buffer.from(text);
			writeAll(this.#fd, bytes);
			this.bytes += bytes.length;
		}
	}

	/** Resolves once everything appended so far is written and synced (one fsync for all who wait meanwhile). */
	async #synced(): Promise<void> {
		if (this.#failure) {
			throw this.#failure;
		}

		const done = new Promise<void>((resolve, reject) => {
			this.#waiting.push({resolve, reject});
		});
		this.#flushing ??= this.#flush();
		return done;
	}

	async #flush(): Promise<void> {
		// Let the other rows of this turn of the event loop add their records: one fsync for all.
		await new Promise(resolve => {
			setImmediate(resolve);
		});
		while (this.#waiting.length > 0) {
			const waiting = this.#waiting;
			this.#waiting = [];
			try {
				if (this.#fd < 0) {
					throw new Error('the ledger is closed');
				}

				this.#writeBuffer();
				const fd = this.#fd;
				await new Promise<void>((resolve, reject) => {
					fsync(fd, error => {
						if (error) {
							reject(error);
						} else {
							resolve();
						}
					});
				});
				this.syncs++;
				for (const waiter of waiting) {
					waiter.resolve();
				}
			} catch (error) {
				this.#failure ??= unwritable(this.dir, error);
				for (const waiter of [...waiting, ...this.#waiting.splice(0)]) {
					waiter.reject(this.#failure);
				}
			}
		}

		this.#flushing = undefined;
	}
}

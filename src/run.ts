import {DEFAULTS, type RunConfig} from './config.js';
import {ResultsJournal, type StoredRow} from './csv/journal.js';
import {InputError, UsageError} from './errors.js';
import {scanInput, type CheckedInput} from './input-check.js';
import type {Logger} from './logger.js';
import {jobKey, toJob, type Columns, type Job} from './rows/job.js';
import {DONE_STATUSES, resultCells, resultHeader, STATUSES, type Outcome, type Status} from './rows/result.js';
import {Reachability, withRetries, type Attempted, type RetryPolicy} from './schedule/attempts.js';
import {RowPool} from './schedule/pool.js';
import {RateGovernor, ratePerMinute} from './schedule/rate.js';
import {readIntrospection, WebflowClient} from './webflow/client.js';

export type StopReason = 'auth' | 'unreachable' | 'max_wait' | 'interrupted';

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
	readonly requests: number;
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

type Stop = {readonly reason: StopReason; readonly rowCode: string; readonly message: string};

/** The one decision to stop the run, and the signal every wait listens to. */
class RunStop {
	readonly #controller = new AbortController();
	#stop: Stop | undefined;

	get signal(): AbortSignal {
		return this.#controller.signal;
	}

	get current(): Stop | undefined {
		return this.#stop;
	}

	trigger(stop: Stop): void {
		if (this.#stop === undefined) {
			this.#stop = stop;
			this.#controller.abort();
		}
	}
}

function authMessage(reply: {status: number; code: string; message: string}): string {
	if (reply.status === 401) {
		return `the token was refused (401 ${reply.code}): it is invalid, expired or revoked; check WEBFLOW_TOKEN or --token-file`;
	}

	if (reply.code === 'missing_scopes' || /scope/i.test(reply.message)) {
		return `the token lacks a scope this needs (403 ${reply.code}: ${reply.message}); give it assets:write`;
	}

	return `the token has no access to this asset or site (403 ${reply.code}: ${reply.message})`;
}

/** What a row's request (with retries) means for its result; may decide to stop the run. */
function outcomeOf(attempted: Attempted, stop: RunStop, maxWaitMs: number): Outcome {
	const {reply, attempts} = attempted;
	switch (attempted.kind) {
		case 'ok': {
			return {status: 'updated', httpStatus: attempted.reply.status, attempts};
		}

		case 'auth': {
			stop.trigger({reason: 'auth', rowCode: 'aborted', message: authMessage(attempted.reply)});
			return {status: 'failed', httpStatus: attempted.reply.status, errorCode: attempted.reply.code, errorMessage: attempted.reply.message, attempts};
		}

		case 'too_long': {
			const seconds = Math.round((attempted.reply.retryAfterMs ?? 0) / 1000);
			const message = `the API asked to wait ${seconds} s (Retry-After), longer than --max-wait (${Math.round(maxWaitMs / 1000)} s)`;
			stop.trigger({reason: 'max_wait', rowCode: 'rate_limited', message});
			return {status: 'not_attempted', httpStatus: 429, errorCode: 'rate_limited', errorMessage: message, attempts};
		}

		case 'stopped': {
			const current = stop.current ?? {rowCode: 'interrupted', message: 'stopped'};
			return {status: 'not_attempted', errorCode: current.rowCode, errorMessage: current.message, attempts};
		}

		case 'failed': {
			if (reply?.kind === 'error') {
				const code = reply.status === 429 ? 'rate_limited' : reply.code;
				return {status: 'failed', httpStatus: reply.status, errorCode: code, errorMessage: reply.message, attempts};
			}

			if (reply?.kind === 'transport') {
				const code = reply.code === 'bad_body' ? 'bad_response' : reply.code;
				return {status: 'failed', httpStatus: reply.status, errorCode: code, errorMessage: reply.message, attempts};
			}

			return {status: 'failed', errorCode: 'internal_error', errorMessage: 'no answer recorded', attempts};
		}
	}
}

function sameEdit(a: Job, b: Job): boolean {
	return a.assetId === b.assetId && a.localeId === b.localeId && a.displayName === b.displayName && a.altText === b.altText && a.siteId === b.siteId;
}

/**
 * `altbatch run`: checks the whole file, learns the token's budget, applies every row at the rate
 * (rows of one asset and locale in file order), and journals each row's result as it finishes.
 * Returns the summary; prints nothing.
 */
export async function run(config: RunConfig, hooks: RunHooks): Promise<Summary> {
	const {logger} = hooks;
	const now = hooks.now ?? Date.now;
	const started = now();
	// The whole file is checked before the first request; a run that sends nothing reads it once.
	const singlePass = config.dryRun && !config.resume;
	const checked = singlePass ? undefined : await scanInput({path: config.input, encoding: config.encoding});
	if (checked) {
		logger.info({input: config.input, rows: checked.rows, delimiter: checked.dialect.delimiter, encoding: checked.dialect.encoding}, 'input checked');
	}

	const needsNetwork = !config.dryRun;
	if (needsNetwork && (config.token === undefined || config.token === '')) {
		throw new UsageError('No token: set WEBFLOW_TOKEN or pass --token-file <path>', 'no_token');
	}

	const stop = new RunStop();
	const onInterrupt = () => {
		stop.trigger({reason: 'interrupted', rowCode: 'interrupted', message: 'the run was interrupted before this row was done'});
	};

	hooks.interrupt?.addEventListener('abort', onInterrupt, {once: true});
	if (hooks.interrupt?.aborted) {
		onInterrupt();
	}

	const governor = new RateGovernor({
		rate: config.rate ?? DEFAULTS.rate,
		source: config.rate ? 'told' : 'default',
		now,
		onPause(until, reason) {
			logger.info({seconds: Math.round((until - now()) / 100) / 10, reason}, reason === '429' ? 'rate limit hit: every request paused' : 'rate budget spent: waiting for it to refill');
		},
	});
	const client = needsNetwork ? new WebflowClient({apiBase: config.apiBase, token: config.token ?? '', timeoutMs: config.timeoutMs, concurrency: config.concurrency}) : undefined;
	const policy: RetryPolicy = {maxAttempts: config.maxAttempts, backoffBaseMs: config.backoffBaseMs, backoffMaxMs: 30_000, maxWaitMs: config.maxWaitMs};
	const reachability = new Reachability({
		threshold: Math.max(8, 2 * config.concurrency),
		onUnreachable() {
			stop.trigger({reason: 'unreachable', rowCode: 'network_error', message: `the API at ${config.apiBase} is unreachable: every request failed on the network`});
		},
	});

	const statuses = Object.fromEntries(STATUSES.map(s => [s, 0])) as Record<Status, number>;
	const errorCodes: Record<string, number> = {};
	let done = 0;
	const count = (status: string, code: string | undefined) => {
		statuses[status as Status]++;
		if (code) {
			errorCodes[code] = (errorCodes[code] ?? 0) + 1;
		}

		done++;
		hooks.onProgress?.({done, total: checked?.rows ?? done, elapsedMs: now() - started, pausedUntil: governor.pausedUntil});
	};

	// Until the token is known to be good, the first PATCH goes alone: a refused token then costs
	// one request, not one per request in flight.
	let tokenChecked: Promise<unknown> | undefined;
	if (client && await learnBudget({client, governor, policy, reachability, stop, config, logger, abort: hooks.abort})) {
		tokenChecked = Promise.resolve();
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

	const finish = (job: Job, outcome: Outcome) => {
		journal!.write(resultCells({...outcome, job, finishedAt: new Date(now())}));
		count(outcome.status, outcome.errorCode);
	};

	const pool = new RowPool(config.concurrency);
	const chains = new Map<string, Promise<void>>();
	const processRow = async (job: Job) => {
		if (stop.current || !client) {
			finish(job, outcomeOf({kind: 'stopped', reply: undefined, attempts: 0}, stop, config.maxWaitMs));
			return;
		}

		const send = () => withRetries({send: () => client.patchAsset(job, hooks.abort), governor, policy, reachability, stop: stop.signal});
		let attempted: Attempted;
		if (tokenChecked === undefined) {
			const probe = send();
			tokenChecked = probe;
			attempted = await probe;
		} else {
			await tokenChecked;
			attempted = stop.current ? {kind: 'stopped', reply: undefined, attempts: 0} : await send();
		}

		finish(job, outcomeOf(attempted, stop, config.maxWaitMs));
	};

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

				if (job.problem) {
					finish(job, {status: 'invalid', errorCode: job.problem.code, errorMessage: job.problem.message, attempts: 0});
				} else if (stop.current) {
					finish(job, outcomeOf({kind: 'stopped', reply: undefined, attempts: 0}, stop, config.maxWaitMs));
				} else if (config.dryRun) {
					finish(job, {status: 'would_update', attempts: 0});
				} else {
					return pool.add(async () => {
						const key = jobKey(job);
						const before = chains.get(key);
						const mine = (async () => {
							await before;
							await processRow(job);
						})();
						chains.set(key, mine);
						try {
							await mine;
						} finally {
							if (chains.get(key) === mine) {
								chains.delete(key);
							}
						}
					});
				}
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
		await governor.close();
		hooks.interrupt?.removeEventListener('abort', onInterrupt);
	}

	const input = scanned!;

	const stats = governor.stats();
	const elapsedMs = Math.max(1, now() - started);
	const summary: Summary = {
		input: config.input,
		out: config.out,
		dryRun: config.dryRun,
		rows: input.rows,
		statuses,
		errorCodes,
		requests: stats.requests,
		tooManyRequests: stats.tooManyRequests,
		pausedSeconds: Math.round(stats.pausedMs / 100) / 10,
		elapsedSeconds: Math.round(elapsedMs / 100) / 10,
		effectiveRatePerMinute: Math.round(stats.requests * 60_000 / elapsedMs * 10) / 10,
		rateLimitPerMinute: Math.round(ratePerMinute(stats.rate) * 10) / 10,
		rateSource: stats.source,
		stopped: stop.current ? {reason: stop.current.reason, message: stop.current.message} : undefined,
	};
	logger.info({summary}, 'run finished');
	return summary;
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

/**
 * Asks `introspect` for the token's budget and scopes before the first PATCH. A token for which
 * introspect is refused still works: the first PATCH's `X-RateLimit-Limit` tells the budget then.
 * True when introspect vouched for the token.
 */
async function learnBudget({client, governor, policy, reachability, stop, config, logger, abort}: {
	client: WebflowClient;
	governor: RateGovernor;
	policy: RetryPolicy;
	reachability: Reachability;
	stop: RunStop;
	config: RunConfig;
	logger: Logger;
	abort: AbortSignal | undefined;
}): Promise<boolean> {
	const attempted = await withRetries({send: () => client.introspect(abort), governor, policy: {...policy, maxAttempts: Math.min(2, policy.maxAttempts)}, reachability, stop: stop.signal});
	if (attempted.kind === 'too_long') {
		outcomeOf(attempted, stop, config.maxWaitMs);
		return false;
	}

	if (attempted.kind !== 'ok') {
		logger.info({status: attempted.reply?.kind === 'error' ? attempted.reply.status : undefined}, 'introspect refused: the rate comes from --rate or the first answer');
		return false;
	}

	const info = readIntrospection(attempted.reply.body);
	if (info.rateLimit !== undefined) {
		governor.setRate({count: info.rateLimit, windowMs: 60_000}, 'introspect');
	}

	logger.info({rateLimitPerMinute: info.rateLimit, pacedPerMinute: ratePerMinute(governor.rate)}, 'token introspected');
	if (info.scopes !== undefined && !info.scopes.includes('assets:write')) {
		stop.trigger({reason: 'auth', rowCode: 'aborted', message: `the token is missing the assets:write scope (it has: ${info.scopes.join(', ') || 'none'})`});
	} else if (config.site !== undefined && info.siteIds !== undefined && !info.siteIds.includes(config.site)) {
		stop.trigger({reason: 'auth', rowCode: 'aborted', message: `the token has no access to site ${config.site} (it is authorized for: ${info.siteIds.join(', ') || 'none'})`});
	}

	return true;
}

/**
 * Bench cases on the rate: how close to what the windows allow a run goes (known, told, untold,
 * sliding, no rate headers), a budget spent at once, another client on the token, no limit at all,
 * and several processes on one token with and without Redis.
 */
import {rm} from 'node:fs/promises';
import {join} from 'node:path';
import {silentLogger} from '../logger.js';
import {run} from '../commands/run.js';
import type {Rate} from '../schedule/rate.js';
import {Sandbox, type SandboxOptions} from '../sandbox/server.js';
import {benchDir, CaseFailed, cliRun, config, ratio, sentDuringRetryAfter, site, spanMs, startRedis, table, utilisation, windowsNeedMs, writeJobs} from './support.js';

function describeRate(rate: Rate): string {
	return `${rate.count}/${rate.windowMs / 1000}s`;
}

/** One run of `rows` rows against a token limited to `limit`, told `told` (or introspect, or the headers). */
export async function paced({name, rows, limit, told, introspect, window = 'fixed', rateHeaders = true}: {name: string; rows: number; limit: Rate; told?: Rate; introspect: boolean; window?: SandboxOptions['window']; rateHeaders?: boolean}): Promise<void> {
	const dir = await benchDir();
	const s = site(name, rows);
	const sandbox = new Sandbox({sites: [s], rate: limit, window, rateHeaders, tokens: [{token: 'bench', introspect}]});
	const url = await sandbox.listen();
	const input = join(dir, 'jobs.csv');
	await writeJobs(input, [...s.assets.keys()]);
	const summary = await run(config({input, apiBase: url, rate: told}), {logger: silentLogger()});
	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	table.push({
		case: name,
		rows,
		limit: `${describeRate(limit)} ${window}`,
		told: told ? describeRate(told) : introspect ? '(introspect)' : '(header)',
		updated: summary.statuses.updated,
		'utilisation (windows need ÷ took)': ratio(utilisation(sandbox.requests, limit)),
		'429s': summary.tooManyRequests,
		'sent during Retry-After': sentDuringRetryAfter(sandbox),
		'rows/s': (rows / summary.elapsedSeconds).toFixed(1),
	});
}

/**
 * A per-minute budget scaled 1:10 (60 per 6 s): a job is done in the windows it needs — the last
 * one's start, counting the introspect — not at an even pace. Goal: within 8% + 1.5 s, no 429.
 */
export async function burst({rows, window}: {rows: number; window: SandboxOptions['window']}): Promise<void> {
	const limit = {count: 60, windowMs: 6000};
	const dir = await benchDir();
	const s = site(`burst-${rows}-${window}`, rows);
	const sandbox = new Sandbox({sites: [s], rate: limit, window, tokens: [{token: 'bench'}]});
	const url = await sandbox.listen();
	const input = join(dir, 'jobs.csv');
	await writeJobs(input, [...s.assets.keys()]);
	const summary = await run(config({input, apiBase: url}), {logger: silentLogger()});
	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	const need = windowsNeedMs(summary.requests, limit) / 1000;
	const goal = need * 1.08 + 1.5;
	table.push({
		case: `budget spent at once, ${window} window`,
		rows,
		limit: `${describeRate(limit)} ${window}`,
		updated: summary.statuses.updated,
		'ours s': summary.elapsedSeconds,
		'windows need s': need,
		'goal s': Math.round(goal * 100) / 100,
		'429s': summary.tooManyRequests,
		'sent during Retry-After': sentDuringRetryAfter(sandbox),
		'within goal': summary.elapsedSeconds <= goal && summary.tooManyRequests === 0 ? 'yes' : 'NO',
	});
}

/**
 * Another client on the same token spends part of the budget, for a while or throughout. Reports
 * our pace over the last third of the run as a fraction of what the other client left us.
 */
export async function otherClient({name, rows, limit, otherPerSecond, otherForMs, reportedRateLimit}: {name: string; rows: number; limit: Rate; otherPerSecond: number; otherForMs: number; reportedRateLimit?: number}): Promise<void> {
	const dir = await benchDir();
	const s = site(name, rows);
	const sandbox = new Sandbox({sites: [s], rate: limit, tokens: [{token: 'bench', reportedRateLimit}]});
	const url = await sandbox.listen();
	const input = join(dir, 'jobs.csv');
	await writeJobs(input, [...s.assets.keys()]);
	const other = setInterval(() => {
		void fetch(`${url}/v2/sites/${s.id}/assets`, {headers: {authorization: 'Bearer bench'}}).catch(() => undefined);
	}, 1000 / otherPerSecond);
	const stop = setTimeout(() => {
		clearInterval(other);
	}, otherForMs);
	const summary = await run(config({input, apiBase: url}), {logger: silentLogger()});
	clearInterval(other);
	clearTimeout(stop);
	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	const ours = sandbox.requests.filter(r => r.method === 'PATCH' && r.status === 200);
	const tail = ours.slice(Math.floor(ours.length * 2 / 3));
	const tailPerSecond = (tail.length - 1) / (spanMs(tail) / 1000);
	const endsAt = spanMs(ours);
	const leftToUs = limit.count * 1000 / limit.windowMs - (otherForMs >= endsAt ? otherPerSecond : 0);
	table.push({
		case: name,
		rows,
		limit: describeRate(limit),
		'introspect says': reportedRateLimit === undefined ? 'the limit' : `${reportedRateLimit}/min`,
		other: `${otherPerSecond}/s for ${otherForMs >= 60_000 ? 'the whole run' : `${otherForMs / 1000} s`}`,
		updated: summary.statuses.updated,
		'429s': summary.tooManyRequests,
		'last third, of what is left': (tailPerSecond / leftToUs).toFixed(3),
		'paced at end /min': summary.rateLimitPerMinute,
		'elapsed s': summary.elapsedSeconds,
	});
}

export async function unlimited(rows: number): Promise<void> {
	const dir = await benchDir();
	const s = site('unlimited', rows);
	const sandbox = new Sandbox({sites: [s], rate: {count: 1e9, windowMs: 1000}, tokens: [{token: 'bench', introspect: false}]});
	const url = await sandbox.listen();
	const input = join(dir, 'jobs.csv');
	await writeJobs(input, [...s.assets.keys()]);
	const summary = await run(config({input, apiBase: url, rate: {count: 1e6, windowMs: 1000}, concurrency: 16}), {logger: silentLogger()});
	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	table.push({case: 'no limit, concurrency 16', rows, updated: summary.statuses.updated, 'rows/s': (rows / summary.elapsedSeconds).toFixed(0)});
}

/**
 * `processes` real CLI processes on one token at once, `rowsEach` rows each: sharing its budget
 * through a real redis-server, or each on its own (only the server's answers to go by). Through
 * Redis, every process must say in its summary that it shared the budget with all the others, or
 * the case fails: a figure for Redis measured without it would be a lie.
 */
export async function sharedBudget({viaRedis, processes = 2, rowsEach = 150}: {viaRedis: boolean; processes?: number; rowsEach?: number}): Promise<void> {
	const limit = {count: 20, windowMs: 1000};
	const name = `${processes} processes on one token, ${viaRedis ? 'sharing it through Redis' : 'no Redis'}`;
	const redis = viaRedis ? await startRedis() : undefined;
	if (viaRedis && !redis) {
		table.push({case: name, rows: 'skipped: no redis-server'});
		return;
	}

	const dir = await benchDir();
	const s = site('shared', rowsEach * processes);
	const ids = [...s.assets.keys()];
	const sandbox = new Sandbox({sites: [s], rate: limit, tokens: [{token: 'bench'}]});
	const url = await sandbox.listen();
	let summaries;
	try {
		summaries = await Promise.all(Array.from({length: processes}, async (_, i) => {
			const input = join(dir, `jobs-${i}.csv`);
			await writeJobs(input, ids.slice(i * rowsEach, (i + 1) * rowsEach));
			const shared = redis ? ['--redis', redis.url] : [];
			return cliRun(['run', input, '--api-base', url, ...shared], {WEBFLOW_TOKEN: 'bench'});
		}));
	} finally {
		redis?.stop();
		await sandbox.close();
		await rm(dir, {recursive: true, force: true});
	}

	if (redis) {
		const unshared = summaries.filter(one => one.budget.kind !== 'shared' || one.budget.peers !== processes - 1);
		if (unshared.length > 0) {
			throw new CaseFailed(`${name}: ${unshared.length} of ${processes} processes did not share the budget with all the others: ${unshared.map(one => JSON.stringify(one.budget)).join('; ')}`);
		}
	}

	const accepted = sandbox.requests.filter(r => r.status !== 429);
	table.push({
		case: name,
		rows: rowsEach * processes,
		limit: `${describeRate(limit)} fixed`,
		told: '(introspect)',
		updated: sandbox.requests.filter(r => r.method === 'PATCH' && r.status === 200).length,
		'utilisation (windows need ÷ took)': ratio(utilisation(sandbox.requests, limit)),
		'windows need s': windowsNeedMs(accepted.length, limit) / 1000,
		'took s': Math.round((accepted.at(-1)?.at ?? 0) - (sandbox.requests[0]?.at ?? 0)) / 1000,
		'429s': sandbox.requests.filter(r => r.status === 429).length,
		// Without Redis a process never hears of the 429s the other one got.
		'sent during Retry-After': redis ? sentDuringRetryAfter(sandbox) : '(not shared)',
		budget: redis ? `shared by ${processes} (each summary)` : 'local',
		'exit codes': summaries.map(one => String(one.code)).join(' '),
	});
}

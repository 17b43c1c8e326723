/**
 * `npm run bench`: how close to the rate limit the tool runs, what it wastes, and what it costs.
 * Prints a table of ratios (no timing assertions: the machines are shared and noisy).
 */
import {spawn} from 'node:child_process';
import {createWriteStream} from 'node:fs';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {defaultRunConfig, type RunConfig} from '../config.js';
import {silentLogger} from '../logger.js';
import {resultHeader} from '../rows/result.js';
import {run} from '../run.js';
import {undo} from '../undo.js';
import type {Rate} from '../schedule/rate.js';
import {Sandbox, type SandboxOptions} from '../sandbox/server.js';
import {newAsset, newSite, objectId} from '../sandbox/state.js';

type Row = Record<string, string | number>;
const table: Row[] = [];

function site(label: string, count: number) {
	const s = newSite(objectId(`${label}/site`), 0);
	for (let i = 0; i < count; i++) {
		newAsset({site: s, id: objectId(`${label}/${i}`), fileName: `img-${i}.jpg`});
	}

	return s;
}

async function writeJobs(path: string, ids: string[]): Promise<void> {
	const stream = createWriteStream(path);
	stream.write('assetId,altText\n');
	for (const id of ids) {
		stream.write(`${id},Alt text for ${id}\n`);
	}

	await new Promise<void>(resolve => {
		stream.end(resolve);
	});
}

function config(overrides: Partial<RunConfig> & {input: string}): RunConfig {
	return {...defaultRunConfig(overrides.input), out: `${overrides.input}.results.csv`, token: 'bench', ...overrides};
}

/** Requests sent while a Retry-After given to their token ran, from 250 ms after its 429 (one already on its way is not counted). */
function sentDuringRetryAfter(sandbox: Sandbox): number {
	const limited = sandbox.requests.filter(r => r.retryUntil !== undefined);
	return sandbox.requests.filter(sent => limited.some(r => r.token === sent.token && sent.at > r.at + 250 && sent.at < (r.retryUntil ?? 0))).length;
}

/** Accepted requests per second between the first and the last, as a fraction of the limit. */
/** Milliseconds from the first request of the list to the last. */
function spanMs(requests: ReadonlyArray<{readonly at: number}>): number {
	return (requests.at(-1)?.at ?? 0) - (requests[0]?.at ?? 0);
}

function utilisation(sandbox: Sandbox, limit: Rate): number {
	const accepted = sandbox.requests.filter(r => r.status !== 429);
	if (accepted.length < 2) {
		return 0;
	}

	const perMs = (accepted.length - 1) / spanMs(accepted);
	return perMs / (limit.count / limit.windowMs);
}

async function paced({name, rows, limit, told, introspect, window = 'fixed', rateHeaders = true}: {name: string; rows: number; limit: Rate; told?: Rate; introspect: boolean; window?: SandboxOptions['window']; rateHeaders?: boolean}): Promise<void> {
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
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
		'limit': `${limit.count}/${limit.windowMs / 1000}s ${window}`,
		told: told ? `${told.count}/${told.windowMs / 1000}s` : introspect ? '(introspect)' : '(header)',
		updated: summary.statuses.updated,
		utilisation: utilisation(sandbox, limit).toFixed(3),
		'429s': summary.tooManyRequests,
		'sent during Retry-After': sentDuringRetryAfter(sandbox),
		'rows/s': (rows / summary.elapsedSeconds).toFixed(1),
	});
}

/**
 * A per-minute budget scaled 1:10 (60 per 6 s): a job is done in the windows it needs — the last
 * one's start, counting the introspect — not at an even pace. Goal: within 8% + 1.5 s, no 429.
 */
async function burst({rows, window}: {rows: number; window: SandboxOptions['window']}): Promise<void> {
	const limit = {count: 60, windowMs: 6000};
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
	const s = site(`burst-${rows}-${window}`, rows);
	const sandbox = new Sandbox({sites: [s], rate: limit, window, tokens: [{token: 'bench'}]});
	const url = await sandbox.listen();
	const input = join(dir, 'jobs.csv');
	await writeJobs(input, [...s.assets.keys()]);
	const summary = await run(config({input, apiBase: url}), {logger: silentLogger()});
	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	const need = (Math.ceil(summary.requests / limit.count) - 1) * limit.windowMs / 1000;
	const goal = need * 1.08 + 1.5;
	table.push({
		case: `budget spent at once, ${window} window`,
		rows,
		limit: `${limit.count}/${limit.windowMs / 1000}s ${window}`,
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
async function otherClient({name, rows, limit, otherPerSecond, otherForMs, reportedRateLimit}: {name: string; rows: number; limit: Rate; otherPerSecond: number; otherForMs: number; reportedRateLimit?: number}): Promise<void> {
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
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
		limit: `${limit.count}/${limit.windowMs / 1000}s`,
		'introspect says': reportedRateLimit === undefined ? 'the limit' : `${reportedRateLimit}/min`,
		other: `${otherPerSecond}/s for ${otherForMs >= 60_000 ? 'the whole run' : `${otherForMs / 1000} s`}`,
		updated: summary.statuses.updated,
		'429s': summary.tooManyRequests,
		'last third, of what is left': (tailPerSecond / leftToUs).toFixed(3),
		'paced at end /min': summary.rateLimitPerMinute,
		'elapsed s': summary.elapsedSeconds,
	});
}

async function unlimited(rows: number): Promise<void> {
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
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

/** Runs `run()` in a process of its own, so its peak RSS is that run's alone. */
async function runAlone(config: Partial<RunConfig> & {input: string}): Promise<{rows: number; statuses: Record<string, number>; seconds: number; maxRssKb: number}> {
	const runModule = new URL('../run.js', import.meta.url).href;
	const configModule = new URL('../config.js', import.meta.url).href;
	const loggerModule = new URL('../logger.js', import.meta.url).href;
	const script = `
		const {run} = await import(${JSON.stringify(runModule)});
		const {defaultRunConfig} = await import(${JSON.stringify(configModule)});
		const {silentLogger} = await import(${JSON.stringify(loggerModule)});
		const overrides = ${JSON.stringify(config)};
		const started = performance.now();
		const summary = await run({...defaultRunConfig(overrides.input), ...overrides}, {logger: silentLogger()});
		const seconds = (performance.now() - started) / 1000;
		console.log(JSON.stringify({rows: summary.rows, statuses: summary.statuses, seconds, maxRssKb: process.resourceUsage().maxRSS}));
	`;
	const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']});
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	await new Promise(resolve => child.on('close', resolve));
	return JSON.parse(output) as {rows: number; statuses: Record<string, number>; seconds: number; maxRssKb: number};
}

const MILLION = 1_000_000;
const millionId = (i: number) => i.toString(16).padStart(24, '0');

async function writeLines(path: string, lines: (write: (text: string) => boolean) => Promise<void>): Promise<void> {
	const stream = createWriteStream(path);
	await lines(text => stream.write(text));
	await new Promise<void>(resolve => {
		stream.end(resolve);
	});
}

/**
 * 1,000,000 rows, in processes of their own: a dry run, then a `--resume` of a real run killed
 * 1,000 rows before the end (the results file holds 999,000 rows `updated` and a torn line): the
 * resume carries those over and sends the last 1,000 to a sandbox.
 */
async function millionRows(): Promise<void> {
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
	const input = join(dir, 'million.csv');
	const inputHeader = ['assetId', 'localeId', 'displayName', 'altText', 'notes'];
	const cells = (i: number) => `${millionId(i)},,image-${i}.jpg,"A photo, number ${i}, of something worth describing well",batch ${i % 97}`;
	await writeLines(input, async write => {
		write(`${inputHeader.join(',')}\n`);
		for (let i = 0; i < MILLION; i++) {
			if (!write(`${cells(i)}\n`) && i % 1000 === 0) {
				await new Promise(resolve => setImmediate(resolve));
			}
		}
	});
	const dry = await runAlone({input, out: join(dir, 'million.dry-run.csv'), dryRun: true});
	table.push({case: 'dry run, 1M rows (own process)', rows: dry.rows, done: dry.statuses.would_update ?? 0, sent: 0, seconds: dry.seconds.toFixed(1), 'rows/s': (dry.rows / dry.seconds).toFixed(0), 'peak RSS MB': (dry.maxRssKb / 1024).toFixed(0), 'time vs dry run': '1.00'});

	const redo = 1000;
	const out = join(dir, 'million.results.csv');
	const header = resultHeader(inputHeader);
	const tail = () => {
		const result = ['updated', '200', '', '', '1', '2026-01-01T00:00:00.000Z', ''];
		return [...result, ...Array.from({length: header.length - 1 - inputHeader.length - result.length}, () => '')].join(',');
	};

	await writeLines(out, async write => {
		write(`${header.join(',')}\r\n`);
		for (let i = 0; i < MILLION - redo; i++) {
			if (!write(`${i + 2},${cells(i)},${tail()}\r\n`) && i % 1000 === 0) {
				await new Promise(resolve => setImmediate(resolve));
			}
		}

		write(`${MILLION - redo + 2},${millionId(MILLION - redo)},,ima`);
	});
	const resumeSite = newSite(objectId('million/site'), 0);
	for (let i = MILLION - redo; i < MILLION; i++) {
		newAsset({site: resumeSite, id: millionId(i), fileName: `image-${i}.jpg`});
	}

	const sandbox = new Sandbox({sites: [resumeSite], tokens: [{token: 'bench'}], rate: {count: 100_000, windowMs: 1000}});
	const url = await sandbox.listen();
	const resumed = await runAlone({input, out, resume: true, apiBase: url, token: 'bench', rate: {count: 100_000, windowMs: 1000}, concurrency: 16});
	await sandbox.close();
	const sent = sandbox.requests.filter(r => r.method === 'PATCH').length;
	table.push({case: `--resume, 1M rows, last ${redo} to redo (own process)`, rows: resumed.rows, done: resumed.statuses.updated ?? 0, sent, seconds: resumed.seconds.toFixed(1), 'rows/s': (resumed.rows / resumed.seconds).toFixed(0), 'peak RSS MB': (resumed.maxRssKb / 1024).toFixed(0), 'time vs dry run': (resumed.seconds / dry.seconds).toFixed(2)});
	await rm(dir, {recursive: true, force: true});
}

/** A nightly run over 1,000 assets of which 5% changed: requests per changed row, with and without --site. */
async function nightly(): Promise<void> {
	const assets = 1000;
	for (const withSite of [false, true]) {
		const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
		const s = site('nightly', assets);
		const ids = [...s.assets.keys()];
		for (const asset of s.assets.values()) {
			asset.altText.set(s.primaryLocale, `Alt text for ${asset.id}`);
		}

		const changed = new Set(ids.filter((_, i) => i % 20 === 0));
		const sandbox = new Sandbox({sites: [s], rate: {count: 2000, windowMs: 1000}, tokens: [{token: 'bench'}]});
		const url = await sandbox.listen();
		const input = join(dir, 'jobs.csv');
		const stream = createWriteStream(input);
		stream.write('assetId,altText\n');
		for (const id of ids) {
			stream.write(`${id},${changed.has(id) ? 'A better description' : `Alt text for ${id}`}\n`);
		}

		await new Promise<void>(resolve => {
			stream.end(resolve);
		});
		const summary = await run(config({input, apiBase: url, site: withSite ? s.id : undefined}), {logger: silentLogger()});
		await sandbox.close();
		await rm(dir, {recursive: true, force: true});
		table.push({
			case: `nightly, 1,000 assets, 5% changed, ${withSite ? 'with --site' : 'without --site'}`,
			rows: assets,
			updated: summary.statuses.updated,
			unchanged: summary.statuses.unchanged,
			requests: summary.requests,
			'requests per changed row': (summary.requests / changed.size).toFixed(2),
		});
	}
}

/**
 * Undo of a 1,000-row run (every asset of the site changed): requests per row put back, with
 * `--site` (goal: ⌈assets/100⌉ list pages + one PATCH per row, plus the introspect) and without
 * (one GET per asset and locale + one PATCH).
 */
async function undoCost(): Promise<void> {
	const assets = 1000;
	for (const withSite of [true, false]) {
		const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
		const s = site('undo', assets);
		for (const asset of s.assets.values()) {
			asset.altText.set(s.primaryLocale, `Alt text before the run for ${asset.id}`);
		}

		const sandbox = new Sandbox({sites: [s], rate: {count: 2000, windowMs: 1000}, tokens: [{token: 'bench'}]});
		const url = await sandbox.listen();
		const input = join(dir, 'jobs.csv');
		await writeJobs(input, [...s.assets.keys()]);
		const ran = await run(config({input, apiBase: url, site: s.id}), {logger: silentLogger()});
		const before = sandbox.requests.length;
		const summary = await undo(config({input: `${input}.results.csv`, out: join(dir, 'undo.csv'), apiBase: url, site: withSite ? s.id : undefined}), {logger: silentLogger()});
		const sent = sandbox.requests.slice(before);
		await sandbox.close();
		await rm(dir, {recursive: true, force: true});
		const goal = Math.ceil(assets / 100) + ran.statuses.updated;
		table.push({
			case: `undo of a 1,000-row run, ${withSite ? 'with --site' : 'without --site'}`,
			rows: ran.statuses.updated,
			'put back': summary.statuses.updated,
			requests: summary.requests,
			'list pages': sent.filter(r => r.path.endsWith('/assets')).length,
			GETs: sent.filter(r => r.method === 'GET' && r.path.startsWith('/v2/assets/')).length,
			PATCHes: sent.filter(r => r.method === 'PATCH').length,
			'requests per row put back': (summary.requests / summary.statuses.updated).toFixed(3),
			'goal (⌈assets/100⌉ + rows, + introspect)': `${goal} + 1 = ${((goal + 1) / ran.statuses.updated).toFixed(3)}`,
		});
	}
}

/** kill -9 of the real CLI mid-run, then --resume: requests sent again for rows already applied. */
async function killAndResume(): Promise<void> {
	const rows = 200;
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
	const s = site('kill', rows);
	const sandbox = new Sandbox({sites: [s], rate: {count: 50, windowMs: 1000}, tokens: [{token: 'bench'}]});
	const url = await sandbox.listen();
	const input = join(dir, 'jobs.csv');
	await writeJobs(input, [...s.assets.keys()]);
	const cli = new URL('../cli.js', import.meta.url).pathname;
	const env = {...process.env, WEBFLOW_TOKEN: 'bench'};
	const patches = () => sandbox.requests.filter(r => r.method === 'PATCH' && r.status === 200);
	const first = spawn(process.execPath, [cli, 'run', input, '--api-base', url, '--log-level', 'silent'], {env, stdio: 'ignore'});
	while (patches().length < 100) {
		await new Promise(resolve => setTimeout(resolve, 5));
	}

	first.kill('SIGKILL');
	await new Promise(resolve => first.on('close', resolve));
	const second = spawn(process.execPath, [cli, 'run', input, '--api-base', url, '--resume', '--log-level', 'silent'], {env, stdio: 'ignore'});
	const code = await new Promise(resolve => second.on('close', resolve));
	const applied = new Map<string, number>();
	for (const request of patches()) {
		applied.set(request.path, (applied.get(request.path) ?? 0) + 1);
	}

	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	table.push({
		case: 'kill -9 at ~100 of 200 rows, then --resume (concurrency 4)',
		rows,
		'resume exit code': String(code),
		'assets applied': applied.size,
		'requests redone': [...applied.values()].reduce((sum, n) => sum + n - 1, 0),
	});
}

/** Two real CLI processes on one token, sharing its budget through a real redis-server. */
/** Two CLI processes on one token at once: through Redis, or each on its own (only the server's answers to go by). */
async function sharedBudget({viaRedis}: {viaRedis: boolean}): Promise<void> {
	const rows = 150;
	const limit = {count: 20, windowMs: 1000};
	const name = viaRedis ? 'two processes sharing one token (Redis)' : 'two processes on one token, no Redis';
	let redis: ReturnType<typeof spawn> | undefined;
	const port = 26_379 + Math.floor(Math.random() * 1000);
	if (viaRedis) {
		const probe = spawn('redis-server', ['--version']);
		const hasRedis = await new Promise(resolve => {
			probe.on('error', () => resolve(false));
			probe.on('close', code => resolve(code === 0));
		});
		if (!hasRedis) {
			table.push({case: name, rows: 'skipped: no redis-server'});
			return;
		}

		redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], {stdio: 'ignore'});
		await new Promise(resolve => setTimeout(resolve, 500));
	}

	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
	const s = site('shared', rows * 2);
	const ids = [...s.assets.keys()];
	const sandbox = new Sandbox({sites: [s], rate: limit, tokens: [{token: 'bench'}]});
	const url = await sandbox.listen();
	const cli = new URL('../cli.js', import.meta.url).pathname;
	const env = {...process.env, WEBFLOW_TOKEN: 'bench'};
	const runs = [0, 1].map(async i => {
		const input = join(dir, `jobs-${i}.csv`);
		await writeJobs(input, ids.slice(i * rows, (i + 1) * rows));
		const shared = viaRedis ? ['--redis', `redis://127.0.0.1:${port}`] : [];
		const child = spawn(process.execPath, [cli, 'run', input, '--api-base', url, ...shared, '--log-level', 'silent'], {env, stdio: 'ignore'});
		return new Promise(resolve => child.on('close', resolve));
	});
	const codes = await Promise.all(runs);
	redis?.kill('SIGKILL');
	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	table.push({
		case: name,
		rows: rows * 2,
		limit: `${limit.count}/${limit.windowMs / 1000}s fixed`,
		told: '(introspect)',
		updated: sandbox.requests.filter(r => r.method === 'PATCH' && r.status === 200).length,
		utilisation: utilisation(sandbox, limit).toFixed(3),
		'429s': sandbox.requests.filter(r => r.status === 429).length,
		// Without Redis a process never hears of the 429s the other one got.
		'sent during Retry-After': viaRedis ? sentDuringRetryAfter(sandbox) : '(not shared)',
		'exit codes': codes.join(' '),
	});
}

/** A file spanning three sites (own tokens, own limits) against the same sites one after another. */
async function threeSites(): Promise<void> {
	const rowsPerSite = 60;
	const limits = [10, 15, 20];
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
	const sites = limits.map((_, i) => site(`three-${i}`, rowsPerSite));
	const sandbox = new Sandbox({sites, rate: {count: 10, windowMs: 1000}, tokens: limits.map((count, i) => ({token: `t${i}`, siteIds: sites.slice(i, i + 1).map(s => s.id), rate: {count, windowMs: 1000}}))});
	const url = await sandbox.listen();
	const write = async (path: string, which: ReadonlyArray<ReturnType<typeof site>>) => {
		const stream = createWriteStream(path);
		stream.write('siteId,assetId,altText\n');
		for (const s of which) {
			for (const id of s.assets.keys()) {
				stream.write(`${s.id},${id},Alt for ${id}\n`);
			}
		}

		await new Promise<void>(resolve => {
			stream.end(resolve);
		});
	};

	const tokens = new Map(sites.map((s, i) => [s.id, `t${i}`]));
	const all = join(dir, 'all.csv');
	await write(all, sites);
	const together = await run(config({input: all, apiBase: url, token: undefined, tokens}), {logger: silentLogger()});
	let oneByOne = 0;
	for (const [i, s] of sites.entries()) {
		const single = join(dir, `site-${i}.csv`);
		await write(single, [s]);
		const summary = await run(config({input: single, apiBase: url, token: undefined, tokens}), {logger: silentLogger()});
		oneByOne += summary.elapsedSeconds;
	}

	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	table.push({
		case: 'three sites (10, 15, 20/s) in one file vs one after another',
		rows: rowsPerSite * 3,
		updated: together.statuses.updated,
		'429s': together.tooManyRequests,
		'together s': together.elapsedSeconds,
		'one by one s': Math.round(oneByOne * 10) / 10,
		'speed-up': (oneByOne / together.elapsedSeconds).toFixed(2),
	});
}

/** The real CLI in a process of its own (as people run it); its `--json` summary. */
async function cliRun(args: string[], env: Record<string, string>): Promise<{requests: number; statuses: Record<string, number>}> {
	const cli = new URL('../cli.js', import.meta.url).pathname;
	const child = spawn(process.execPath, [cli, ...args, '--json', '--log-level', 'silent'], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'ignore']});
	let stdout = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	await new Promise(resolve => child.on('close', resolve));
	return JSON.parse(stdout) as {requests: number; statuses: Record<string, number>};
}

/**
 * An agency's nightly: 10 client sites × 1,000 assets, 5% changed, each site with its own token and
 * budget. One `run --tokens --prefetch` over one file against ten `run --site` one after another
 * (each the real CLI in its own process, the sandbox in this one).
 */
async function agencies(): Promise<void> {
	const siteCount = 10;
	const assets = 1000;
	const perSecond = 25;
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-'));
	const sites = Array.from({length: siteCount}, (_, i) => site(`agency-${i}`, assets));
	for (const s of sites) {
		for (const asset of s.assets.values()) {
			asset.altText.set(s.primaryLocale, `Alt text for ${asset.id}`);
		}
	}

	const rate = {count: perSecond, windowMs: 1000};
	const tokens = new Map(sites.map((s, i) => [s.id, `agency-${i}`]));
	const tokensFile = join(dir, 'tokens.txt');
	await writeFile(tokensFile, [...tokens].map(([id, token]) => `${id}=${token}\n`).join(''));
	const write = async (path: string, which: typeof sites, round: string) => {
		const stream = createWriteStream(path);
		stream.write('siteId,assetId,altText\n');
		for (const s of which) {
			for (const [i, id] of [...s.assets.keys()].entries()) {
				stream.write(`${s.id},${id},${i % 20 === 0 ? `A better description (${round})` : `Alt text for ${id}`}\n`);
			}
		}

		await new Promise<void>(resolve => {
			stream.end(resolve);
		});
	};

	const measure = async (runs: (url: string) => Promise<Array<{requests: number; statuses: Record<string, number>}>>) => {
		const sandbox = new Sandbox({sites, rate, tokens: sites.map((s, i) => ({token: `agency-${i}`, siteIds: [s.id], rate}))});
		const url = await sandbox.listen();
		const started = performance.now();
		const summaries = await runs(url);
		const seconds = (performance.now() - started) / 1000;
		await sandbox.close();
		return {seconds, requests: summaries.reduce((sum, one) => sum + one.requests, 0), updated: summaries.reduce((sum, one) => sum + (one.statuses.updated ?? 0), 0), received: sandbox.requests.length};
	};

	const together = await measure(async url => {
		const all = join(dir, 'all.csv');
		await write(all, sites, 'together');
		return [await cliRun(['run', all, '--api-base', url, '--tokens', tokensFile, '--prefetch'], {})];
	});
	const oneByOne = await measure(async url => {
		const summaries = [];
		for (const s of sites) {
			const single = join(dir, `site-${s.id}.csv`);
			await write(single, [s], 'one by one');
			summaries.push(await cliRun(['run', single, '--api-base', url, '--site', s.id], {WEBFLOW_TOKEN: tokens.get(s.id) ?? ''}));
		}

		return summaries;
	});
	await rm(dir, {recursive: true, force: true});
	for (const [name, m] of [['one run (--tokens --prefetch)', together], ['ten one-site runs (--site), one after another', oneByOne]] as const) {
		table.push({
			case: `agency, ${siteCount} sites × ${assets} assets, 5% changed, ${perSecond}/s per token: ${name}`,
			updated: m.updated,
			requests: m.requests,
			'received by the server': m.received,
			'requests per site': m.requests / siteCount,
			seconds: Math.round(m.seconds * 10) / 10,
			'speed-up': (oneByOne.seconds / m.seconds).toFixed(2),
		});
	}
}

async function main(): Promise<void> {
	const only = process.argv[2];
	const cases: Array<[string, () => Promise<void>]> = [
		['known', () => paced({name: 'known limit (introspect)', rows: 300, limit: {count: 50, windowMs: 1000}, introspect: true})],
		['told-exact', () => paced({name: 'known limit (told)', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 50, windowMs: 1000}, introspect: false})],
		['untold', () => paced({name: 'untold: told 2x the limit', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 100, windowMs: 1000}, introspect: false})],
		['sliding', () => paced({name: 'known limit, sliding window', rows: 300, limit: {count: 50, windowMs: 1000}, introspect: true, window: 'sliding'})],
		['burst-50', () => burst({rows: 50, window: 'fixed'})],
		['burst-150', () => burst({rows: 150, window: 'fixed'})],
		['burst-50-sliding', () => burst({rows: 50, window: 'sliding'})],
		['burst-150-sliding', () => burst({rows: 150, window: 'sliding'})],
		['minute-known', () => paced({name: 'per-minute limit scaled 1:10 (known)', rows: 150, limit: {count: 60, windowMs: 6000}, introspect: true})],
		['minute-untold', () => paced({name: 'per-minute limit scaled 1:10 (told 2x)', rows: 150, limit: {count: 60, windowMs: 6000}, told: {count: 20, windowMs: 1000}, introspect: false})],
		['no-headers-known', () => paced({name: 'known limit, no rate headers', rows: 300, limit: {count: 50, windowMs: 1000}, introspect: true, rateHeaders: false})],
		['no-headers-untold', () => paced({name: 'told 2x, no rate headers', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 100, windowMs: 1000}, introspect: false, rateHeaders: false})],
		['no-headers-untold3', () => paced({name: 'told 3x, no rate headers', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 150, windowMs: 1000}, introspect: false, rateHeaders: false})],
		['other-stops', () => otherClient({name: 'another client for 3 s (introspect overstates)', rows: 300, limit: {count: 20, windowMs: 1000}, otherPerSecond: 10, otherForMs: 3000, reportedRateLimit: 1800})],
		['other-stays', () => otherClient({name: 'another client throughout', rows: 200, limit: {count: 20, windowMs: 1000}, otherPerSecond: 6, otherForMs: 600_000})],
		['unlimited', () => unlimited(3000)],
		['nightly', () => nightly()],
		['undo', () => undoCost()],
		['shared', () => sharedBudget({viaRedis: true})],
		['shared-no-redis', () => sharedBudget({viaRedis: false})],
		['three-sites', () => threeSites()],
		['agencies', () => agencies()],
		['kill', () => killAndResume()],
		['million', () => millionRows()],
	];
	for (const [name, bench] of cases) {
		if (only === undefined || only === name) {
			await bench();
		}
	}

	// One table per kind of case, each with only its own columns.
	const groups = new Map<string, Row[]>();
	for (const row of table) {
		const shape = Object.keys(row).join('|');
		groups.set(shape, [...groups.get(shape) ?? [], row]);
	}

	for (const rows of groups.values()) {
		console.table(rows);
	}
}

await main();

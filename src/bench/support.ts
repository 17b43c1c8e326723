/**
 * What the bench cases share: the table they report to, sites and job files, the sandbox's log read
 * as figures (utilisation against what the windows allow, requests during a Retry-After), the real
 * CLI and `run()` in processes of their own, and a redis-server to share a budget through.
 */
import {spawn} from 'node:child_process';
import {createWriteStream, mkdtempSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import {createConnection} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {defaultRunConfig, type RunConfig} from '../cli/config.js';
import type {Rate} from '../schedule/rate.js';
import type {LoggedRequest, Sandbox} from '../sandbox/server.js';
import {newAsset, newSite, objectId} from '../sandbox/state.js';

export type Row = Record<string, string | number>;

/** Rows reported by the cases run so far, in order (the bench prints them by kind). */
export const table: Row[] = [];

/** A case that cannot say what it set out to measure: reported, and the bench exits 1. */
export class CaseFailed extends Error {}

export function site(label: string, count: number) {
	const s = newSite(objectId(`${label}/site`), 0);
	for (let i = 0; i < count; i++) {
		newAsset({site: s, id: objectId(`${label}/${i}`), fileName: `img-${i}.jpg`});
	}

	return s;
}

let ledgerDir: string | undefined;

/** The ledger every CLI the bench spawns writes to: a temporary folder, made once per bench. */
function benchLedger(): string {
	ledgerDir ??= mkdtempSync(join(tmpdir(), 'altbatch-bench-ledger-'));
	return ledgerDir;
}

export async function benchDir(): Promise<string> {
	return mkdtemp(join(tmpdir(), 'altbatch-bench-'));
}

/** Writes a file line by line, waiting whenever the stream asks to (`write` returns false). */
export async function writeLines(path: string, lines: (write: (text: string) => boolean) => Promise<void> | void): Promise<void> {
	const stream = createWriteStream(path);
	await lines(text => stream.write(text));
	await new Promise<void>(resolve => {
		stream.end(resolve);
	});
}

export async function writeJobs(path: string, ids: readonly string[]): Promise<void> {
	await writeLines(path, write => {
		write('assetId,altText\n');
		for (const id of ids) {
			write(`${id},Alt text for ${id}\n`);
		}
	});
}

export function config(overrides: Partial<RunConfig> & {input: string}): RunConfig {
	return {...defaultRunConfig(overrides.input), out: `${overrides.input}.results.csv`, token: 'bench', ...overrides};
}

/** Requests sent while a Retry-After given to their token ran, from 250 ms after its 429 (one already on its way is not counted). */
export function sentDuringRetryAfter(sandbox: Sandbox): number {
	const limited = sandbox.requests.filter(r => r.retryUntil !== undefined);
	return sandbox.requests.filter(sent => limited.some(r => r.token === sent.token && sent.at > r.at + 250 && sent.at < (r.retryUntil ?? 0))).length;
}

/** Milliseconds from the first request of the list to the last. */
export function spanMs(requests: ReadonlyArray<{readonly at: number}>): number {
	return (requests.at(-1)?.at ?? 0) - (requests[0]?.at ?? 0);
}

/**
 * The least time `accepted` requests take under `limit`: the windows before the last one they
 * fill, whole (fixed windows from the first request; a sliding window lets no more through).
 */
export function windowsNeedMs(accepted: number, limit: Rate): number {
	return Math.max(0, Math.ceil(accepted / limit.count) - 1) * limit.windowMs;
}

/**
 * How well the budget was used: the time the windows need for the requests the server accepted
 * (introspect, reads and writes, every process on the token) ÷ the time taken, from the token's
 * first request to its last accepted one. 1 is every window spent as soon as it opens; never above
 * 1. Undefined when the requests fit in one window (no time is needed; nothing to compare).
 */
export function utilisation(requests: readonly LoggedRequest[], limit: Rate): number | undefined {
	const accepted = requests.filter(r => r.status !== 429);
	const need = windowsNeedMs(accepted.length, limit);
	const taken = (accepted.at(-1)?.at ?? 0) - (requests[0]?.at ?? 0);
	return need === 0 || taken <= 0 ? undefined : Math.min(1, need / taken);
}

export function ratio(value: number | undefined): string {
	return value === undefined ? '-' : value.toFixed(3);
}

/** How long a command took in a process of its own, with its output; `cwd` as given. */
export async function spawned(args: string[], {env, cwd}: {env?: Record<string, string>; cwd?: string} = {}): Promise<{code: number | null; stdout: string; stderr: string}> {
	// The bench's runs are on record in a ledger of its own, never in the user's (XDG data folder).
	const child = spawn(process.execPath, args, {env: {...process.env, ALTBATCH_LEDGER: benchLedger(), ...env}, cwd, stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const code = await new Promise<number | null>(resolve => child.on('close', resolve));
	return {code, stdout, stderr};
}

export const CLI = new URL('../cli.js', import.meta.url).pathname;

export type CliSummary = {requests: number; statuses: Record<string, number>; budget: {kind: string; peers?: number; reason?: string}; tooManyRequests: number; elapsedSeconds: number};

/** The real CLI in a process of its own (as people run it); its `--json` summary and exit code. */
export async function cliRun(args: string[], env: Record<string, string>): Promise<CliSummary & {code: number | null}> {
	const {code, stdout, stderr} = await spawned([CLI, ...args, '--json', '--log-level', 'silent'], {env});
	try {
		return {...JSON.parse(stdout) as CliSummary, code};
	} catch {
		throw new CaseFailed(`altbatch ${args[0] ?? ''} printed no summary (exit ${String(code)}): ${stderr.trim().slice(0, 500)}`);
	}
}

/** `cpuSeconds`: user and system CPU time of the whole process (on a loaded machine, the steadier figure). */
export type AloneResult = {rows: number; statuses: Record<string, number>; seconds: number; cpuSeconds: number; maxRssKb: number};

/** Runs `run()` in a process of its own, so its peak RSS is that run's alone (`nodeArgs`: --cpu-prof, say). */
export async function runAlone(overrides: Partial<RunConfig> & {input: string}, nodeArgs: string[] = []): Promise<AloneResult> {
	const module = (name: string) => JSON.stringify(new URL(`../${name}`, import.meta.url).href);
	const script = `
		const {run} = await import(${module('commands/run.js')});
		const {defaultRunConfig} = await import(${module('cli/config.js')});
		const {silentLogger} = await import(${module('logger.js')});
		const overrides = ${JSON.stringify(overrides)};
		const started = performance.now();
		const summary = await run({...defaultRunConfig(overrides.input), ...overrides}, {logger: silentLogger()});
		const seconds = (performance.now() - started) / 1000;
		const usage = process.resourceUsage();
		console.log(JSON.stringify({rows: summary.rows, statuses: summary.statuses, seconds, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssKb: usage.maxRSS}));
	`;
	const {code, stdout, stderr} = await spawned([...nodeArgs, '--input-type=module', '-e', script]);
	if (code !== 0) {
		throw new CaseFailed(`run() in its own process failed (exit ${String(code)}): ${stderr.trim().slice(0, 500)}`);
	}

	return JSON.parse(stdout) as AloneResult;
}

/** Whether a TCP port answers a Redis PING with PONG. */
async function pong(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = createConnection({host: '127.0.0.1', port});
		let heard = '';
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};

		socket.setTimeout(500, () => {
			done(false);
		});
		socket.on('error', () => {
			done(false);
		});
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (chunk: Buffer) => {
			heard += chunk.toString();
			if (heard.includes('\r\n')) {
				done(heard.startsWith('+PONG'));
			}
		});
	});
}

/** A redis-server of our own on a free port, answering PING; undefined when there is no redis-server. */
export async function startRedis(): Promise<{url: string; stop: () => void} | undefined> {
	const probe = spawn('redis-server', ['--version'], {stdio: 'ignore'});
	const installed = await new Promise<boolean>(resolve => {
		probe.on('error', () => resolve(false));
		probe.on('close', code => resolve(code === 0));
	});
	if (!installed) {
		return undefined;
	}

	for (let attempt = 0; attempt < 5; attempt++) {
		const port = 26_379 + Math.floor(Math.random() * 1000);
		const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], {stdio: ['ignore', 'pipe', 'pipe']});
		let output = '';
		redis.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
		});
		const exited = new Promise<void>(resolve => redis.on('exit', () => resolve()));
		let gone = false;
		void exited.then(() => {
			gone = true;
		});
		for (let waited = 0; waited < 5000 && !gone; waited += 50) {
			if (await pong(port)) {
				return {url: `redis://127.0.0.1:${port}`, stop: () => redis.kill('SIGKILL')};
			}

			await new Promise(resolve => setTimeout(resolve, 50));
		}

		redis.kill('SIGKILL');
		if (!gone) {
			throw new CaseFailed(`redis-server on port ${port} did not answer PING in 5 s: ${output.trim().slice(-300)}`);
		}
	}

	throw new CaseFailed('redis-server would not start on any of 5 ports');
}

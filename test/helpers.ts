import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterEach} from 'vitest';
import {readResults} from '../src/files/csv/read-back.js';
import {Sandbox, type LoggedRequest, type SandboxOptions} from '../src/sandbox/server.js';
import {newAsset, newSite, objectId, type SandboxSite} from '../src/sandbox/state.js';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
/**
 * `.ci/run`'s second pass (Node 24) sets ALTBATCH_OTHER_PROGRAMS=skip: LibreOffice and Chromium
 * reading our files do not depend on the Node that wrote them, and the first pass ran them.
 */
export const OTHER_PROGRAMS_SKIPPED = process.env.ALTBATCH_OTHER_PROGRAMS === 'skip';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) {
		await cleanup();
	}
});

/** A sandbox on a free port, closed after the test. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
	const sandbox = new Sandbox(options);
	await sandbox.listen();
	cleanups.push(() => sandbox.close());
	return sandbox;
}

export async function tempDir(): Promise<string> {
	return mkdtemp(join(tmpdir(), 'altbatch-test-'));
}

/** A site with `count` assets and no alt text, ids derived from `label`. */
export function makeSite({label, count, locales = 1}: {label: string; count: number; locales?: number}): SandboxSite {
	const site = newSite(objectId(`${label}/site`), locales);
	for (let i = 0; i < count; i++) {
		newAsset({site, id: objectId(`${label}/asset/${i}`), fileName: `image-${i}.jpg`});
	}

	return site;
}

export function assetIds(site: SandboxSite): string[] {
	return [...site.assets.keys()];
}

/** Writes a CSV (LF, comma) from rows of cells; cells with a comma, quote or line break are quoted. */
export async function writeCsv(path: string, rows: string[][], {delimiter = ',', eol = '\n'}: {delimiter?: string; eol?: string} = {}): Promise<string> {
	const quote = (cell: string) => /[",;\t\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
	await writeFile(path, rows.map(r => r.map(quote).join(delimiter)).join(eol) + eol);
	return path;
}

/** The results file as objects keyed by column name, in file order. */
export async function results(path: string): Promise<Array<Record<string, string>>> {
	const {rows} = await readResults(path);
	return [...rows.values()].map(r => Object.fromEntries(r.values));
}

let testLedger: string | undefined;

/** The ledger spawned CLIs use unless a test gives its own: a temporary folder, never the user's real history. */
export function defaultTestLedger(): string {
	testLedger ??= mkdtempSync(join(tmpdir(), 'altbatch-ledger-'));
	return testLedger;
}

export type CliRun = {code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string};

/** Spawns the real CLI. */
export function spawnCli(args: string[], {env = {}, cwd, fileSizeLimitKb}: {env?: Record<string, string>; cwd?: string; fileSizeLimitKb?: number} = {}): {child: ChildProcess; done: Promise<CliRun>} {
	// `ulimit -f` makes writes past the size fail as on a full disk (Node ignores SIGXFSZ).
	const [command, commandArgs] = fileSizeLimitKb === undefined
		? [process.execPath, [CLI, ...args]]
		: ['bash', ['-c', `ulimit -f ${fileSizeLimitKb} && exec "$@"`, 'bash', process.execPath, CLI, ...args]];
	const child = spawn(command, commandArgs, {
		cwd,
		env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ALTBATCH_LEDGER: defaultTestLedger(), ...env},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout!.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr!.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const done = new Promise<CliRun>(resolve => {
		child.on('close', (code, signal) => {
			resolve({code, signal, stdout, stderr});
		});
	});
	cleanups.push(async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGKILL');
			await done;
		}
	});
	return {child, done};
}

export async function runCli(args: string[], options: Parameters<typeof spawnCli>[1] = {}): Promise<CliRun> {
	return spawnCli(args, options).done;
}

export async function text(path: string): Promise<string> {
	return readFile(path, 'utf8');
}

/** Resolves once `predicate` holds, polling. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await predicate())) {
		if (Date.now() > deadline) {
			throw new Error('condition not met in time');
		}

		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

import {defaultRunConfig, type RunConfig} from '../src/cli/config.js';
import {silentLogger} from '../src/logger.js';
import {run, type RunHooks, type Summary} from '../src/commands/run.js';

/** A run config for tests: fast backoff, the sandbox's URL and token. */
export function runConfig(overrides: Partial<RunConfig> & {input: string}): RunConfig {
	return {...defaultRunConfig(overrides.input), out: `${overrides.input}.results.csv`, token: 'sandbox-token', backoffBaseMs: 20, ...overrides};
}

export async function runJob(overrides: Partial<RunConfig> & {input: string}, hooks: Partial<RunHooks> = {}): Promise<Summary> {
	return run(runConfig(overrides), {logger: silentLogger(), ...hooks});
}

/**
 * A jobs file's rows for these assets: the header, then one row per asset with its alt text
 * (`Alt for <id>` unless told), and with `siteId` a siteId column first.
 */
export function jobsFor(assets: SandboxSite | Iterable<string>, {altText = id => `Alt for ${id}`, siteId}: {altText?: (id: string, i: number) => string; siteId?: string} = {}): string[][] {
	const ids = 'assets' in assets ? assetIds(assets) : [...assets];
	const rows = ids.map((id, i) => siteId === undefined ? [id, altText(id, i)] : [siteId, id, altText(id, i)]);
	return [siteId === undefined ? ['assetId', 'altText'] : ['siteId', 'assetId', 'altText'], ...rows];
}

/** The PATCHes the sandbox received, in order (whatever it answered). */
export function patchesSent(sandbox: Sandbox): LoggedRequest[] {
	return sandbox.requests.filter(request => request.method === 'PATCH');
}

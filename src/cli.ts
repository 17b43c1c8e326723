#!/usr/bin/env node
import {readFileSync, statSync} from 'node:fs';
import {basename, join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {
	DEFAULTS, defaultOut, LOG_LEVELS, parseApiBase, parseDuration, parseEncoding, parsePositiveInteger, parseRate, parseSiteId,
	type LogLevel, type RunConfig,
} from './config.js';
import {demo} from './demo.js';
import {AltbatchError, UsageError} from './errors.js';
import {exportSite, type ExportConfig} from './export.js';
import {lockResults} from './lock.js';
import {createLogger} from './logger.js';
import {run, type Summary} from './run.js';
import {loadSeed} from './sandbox/seed.js';
import {Sandbox, siteTokens} from './sandbox/server.js';
import {formatProgress, formatSummary} from './summary.js';

const HELP = `altbatch — apply a spreadsheet of Webflow asset alt text and display names, at the rate limit

Usage:
  altbatch run <jobs.csv> [options]       apply the edits; write the results CSV
  altbatch export --site <id> [options]   write the site's assets as a jobs CSV ready to edit
  altbatch sandbox [options]              run a local Webflow-compatible API
  altbatch demo                           the example job against an in-process sandbox (npm start)
  altbatch --help | --version

The token comes from WEBFLOW_TOKEN or --token-file <path>, never from a flag value.

run options:
  --out <file|folder>     results CSV (default: <jobs>.results.csv beside the input)
  --api-base <url>        API origin, https (http only for localhost) (default: https://api.webflow.com)
  --rate <n>/<s|min>      most requests per second or minute (default: the token's own limit, else 60/min)
  --concurrency <n>       most requests in flight (default: 4)
  --max-attempts <n>      tries per row for 5xx, network errors and timeouts (default: 5)
  --timeout <ms>          per request (default: 30000)
  --dry-run               change nothing; report what would change
  --resume                carry over rows already done in --out, redo the rest
  --site <id>             read the site's assets first: rows already right are unchanged, unknown
                          ids fail, without spending PATCHes
  --only-missing          (with --site) only fill alt text that is empty now; never overwrite
  --tokens <file>         siteId=token lines: rows go to their siteId's token, each with its own budget
  --max-wait <duration>   longest Retry-After worth waiting out (default: 15min)
  --encoding <name>       force the input encoding: utf-8, utf-16le, utf-16be, windows-1252
  --token-file <path>     read the token from this file
  --json                  print the run summary as JSON on stdout
  --report <file.html>    a self-contained HTML report of the run
  --redis <url>           share the rate budget and 429 pauses with every process using the same
                          token (or REDIS_URL)
  --log-level <level>     fatal, error, warn, info, debug, trace, silent (default: info)
  --log-file <path>       NDJSON logs to this file instead of stderr

export options:
  --site <id>             the site (required)
  --locale <id>           a locale to export; repeat for several (default: the primary locale)
  --missing-only          only assets without alt text
  --out <file|folder>     (default: assets-<site>.csv); --api-base, --rate, --token-file as for run

sandbox options:
  --port <n>              (default: 8787; 0 picks a free port)
  --token <t>             a token for every site (default: sandbox-token, unless --tokens)
  --tokens <file>         siteId=token lines: each token scoped to its own site
  --seed <assets.csv>     assets to serve, in the export format with a siteId column
  --rate <n>/<s|min>      per-token rate limit (default: 60/min)
  --faults <k=share,...>  error500, html503, drop, truncate, slow, limited (a 429 not caused by the
                          budget) (e.g. error500=0.08,drop=0.04)

Exit codes: 0 all rows fine · 1 some rows invalid or failed · 2 usage or input error, nothing sent ·
3 stopped early (token refused, API unreachable, Retry-After beyond --max-wait) · 130 interrupted.`;

function version(): string {
	const file = new URL('../package.json', import.meta.url);
	return (JSON.parse(readFileSync(file, 'utf8')) as {version: string}).version;
}

function exitCodeFor(summary: Summary): number {
	if (summary.stopped?.reason === 'interrupted') {
		return 130;
	}

	if (summary.stopped) {
		return 3;
	}

	return summary.statuses.invalid + summary.statuses.failed + summary.statuses.not_attempted > 0 ? 1 : 0;
}

function readToken(tokenFile: string | undefined): string | undefined {
	if (tokenFile !== undefined) {
		let text: string;
		try {
			text = readFileSync(tokenFile, 'utf8');
		} catch (error) {
			throw new UsageError(`Cannot read --token-file ${JSON.stringify(tokenFile)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
		}

		const token = text.trim();
		if (token === '') {
			throw new UsageError(`--token-file ${JSON.stringify(tokenFile)} is empty`);
		}

		return token;
	}

	const fromEnv = process.env.WEBFLOW_TOKEN?.trim();
	return fromEnv === '' ? undefined : fromEnv;
}

function parseRedisUrl(text: string | undefined): string | undefined {
	if (text === undefined || text.trim() === '') {
		return undefined;
	}

	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new UsageError('Expected --redis (or REDIS_URL) to be a URL like redis://127.0.0.1:6379');
	}

	if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
		throw new UsageError(`Expected --redis to be a redis:// or rediss:// URL, got ${url.protocol}`);
	}

	return url.href;
}

/** `--tokens`: `siteId=token` lines (blank lines and `#` comments allowed). The tokens are never echoed. */
function readTokensFile(path: string): Map<string, string> {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new UsageError(`Cannot read --tokens ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
	}

	const tokens = new Map<string, string>();
	for (const [i, raw] of text.replace(/^\uFEFF/, '').split(/\r?\n/).entries()) {
		const line = raw.trim();
		if (line === '' || line.startsWith('#')) {
			continue;
		}

		const at = line.indexOf('=');
		const site = at < 0 ? '' : line.slice(0, at).trim().toLowerCase();
		const token = at < 0 ? '' : line.slice(at + 1).trim();
		if (!/^[\da-f]{24}$/.test(site) || token === '') {
			throw new UsageError(`${path}:${i + 1}: expected siteId=token (a 24-character hex site id, then the token)`);
		}

		tokens.set(site, token);
	}

	if (tokens.size === 0) {
		throw new UsageError(`${path}: no siteId=token lines`);
	}

	return tokens;
}

/** The signals that stop a run: Ctrl-C, `kill`, and a terminal (or SSH session) that went away. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Ctrl-C once: stop taking rows, let requests in flight finish. Twice: cancel them too. */
function watchSignals(): {interrupt: AbortController; abort: AbortController; dispose: () => void} {
	const interrupt = new AbortController();
	const abort = new AbortController();
	const onSignal = (signal: NodeJS.Signals) => {
		if (interrupt.signal.aborted) {
			abort.abort();
			return;
		}

		interrupt.abort();
		if (signal !== 'SIGHUP') {
			process.stderr.write('\nStopping: finishing the requests in flight and writing every row (Ctrl-C again to cancel them)…\n');
		}
	};

	for (const signal of STOP_SIGNALS) {
		process.on(signal, onSignal);
	}

	return {
		interrupt,
		abort,
		dispose() {
			for (const signal of STOP_SIGNALS) {
				process.off(signal, onSignal);
			}
		},
	};
}

function progressPrinter(): {onProgress: Parameters<typeof run>[1]['onProgress']; clear: () => void} {
	if (!process.stderr.isTTY) {
		return {onProgress: undefined, clear() {}};
	}

	let last = 0;
	let shown = false;
	return {
		onProgress(progress) {
			const now = Date.now();
			if (now - last < 250 && progress.done < progress.total) {
				return;
			}

			last = now;
			shown = true;
			process.stderr.write(`\r\u001B[2K${formatProgress(progress, now)}`);
		},
		clear() {
			if (shown) {
				process.stderr.write('\r\u001B[2K');
			}
		},
	};
}

/** The options `run` and `export` share: where the API is, the token, the pace, retries, logs. */
const CONNECTION_OPTIONS = {
	out: {type: 'string'},
	'api-base': {type: 'string'},
	rate: {type: 'string'},
	timeout: {type: 'string'},
	'max-attempts': {type: 'string'},
	'max-wait': {type: 'string'},
	'token-file': {type: 'string'},
	token: {type: 'string'},
	json: {type: 'boolean'},
	'log-level': {type: 'string'},
	'log-file': {type: 'string'},
} as const;

type ConnectionValues = {[K in keyof typeof CONNECTION_OPTIONS]?: (typeof CONNECTION_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string};

function connectionConfig(values: ConnectionValues) {
	if (values.token !== undefined) {
		throw new UsageError('--token is not accepted (flags show in ps and shell history): set WEBFLOW_TOKEN or pass --token-file <path>');
	}

	return {
		apiBase: parseApiBase(values['api-base'] ?? DEFAULTS.apiBase),
		token: readToken(values['token-file']),
		rate: values.rate === undefined ? undefined : parseRate(values.rate),
		timeoutMs: values.timeout === undefined ? DEFAULTS.timeoutMs : parsePositiveInteger(values.timeout, '--timeout'),
		maxAttempts: values['max-attempts'] === undefined ? DEFAULTS.maxAttempts : parsePositiveInteger(values['max-attempts'], '--max-attempts'),
		maxWaitMs: values['max-wait'] === undefined ? DEFAULTS.maxWaitMs : parseDuration(values['max-wait'], '--max-wait'),
		backoffBaseMs: DEFAULTS.backoffBaseMs,
		logLevel: parseLogLevel(values['log-level']),
	};
}

async function commandRun(argv: string[]): Promise<number> {
	const {values, positionals} = parseArgs({
		args: argv,
		allowPositionals: true,
		strict: true,
		options: {
			...CONNECTION_OPTIONS,
			concurrency: {type: 'string'},
			'dry-run': {type: 'boolean'},
			resume: {type: 'boolean'},
			site: {type: 'string'},
			encoding: {type: 'string'},
			'only-missing': {type: 'boolean'},
			tokens: {type: 'string'},
			redis: {type: 'string'},
			report: {type: 'string'},
		},
	});
	const input = positionals[0];
	if (input === undefined || positionals.length > 1) {
		throw new UsageError('Usage: altbatch run <jobs.csv> [options] (see altbatch --help)');
	}

	const {logLevel, ...connection} = connectionConfig(values);
	const config: RunConfig = {
		...connection,
		input,
		out: outputFile(values.out, defaultOut(input), 'the results are rewritten in input order at the end and read back by --resume'),
		tokens: values.tokens === undefined ? undefined : readTokensFile(values.tokens),
		report: values.report,
		redis: parseRedisUrl(values.redis ?? process.env.REDIS_URL),
		concurrency: values.concurrency === undefined ? DEFAULTS.concurrency : parsePositiveInteger(values.concurrency, '--concurrency'),
		dryRun: values['dry-run'] ?? false,
		resume: values.resume ?? false,
		site: values.site === undefined ? undefined : parseSiteId(values.site),
		onlyMissing: values['only-missing'] ?? false,
		encoding: values.encoding === undefined ? undefined : parseEncoding(values.encoding),
	};
	if (resolve(config.out) === resolve(config.input)) {
		throw new UsageError(`--out ${JSON.stringify(config.out)} is the input file itself; the results go to a file of their own`);
	}

	const logger = createLogger({level: logLevel, file: values['log-file']});
	const unlock = lockResults({out: config.out, pid: process.pid, isAlive});
	const signals = watchSignals();
	const progress = progressPrinter();
	try {
		const summary = await run(config, {logger, interrupt: signals.interrupt.signal, abort: signals.abort.signal, onProgress: progress.onProgress});
		progress.clear();
		report(summary, values.json ?? false);
		return exitCodeFor(summary);
	} finally {
		progress.clear();
		signals.dispose();
		unlock();
	}
}

/** `--out`: a file (new or not), or a folder to put the default file name in; never a device or pipe. */
function outputFile(out: string | undefined, fallback: string, why: string): string {
	if (out === undefined) {
		return fallback;
	}

	let stats;
	try {
		stats = statSync(out);
	} catch {
		return out;
	}

	if (stats.isDirectory()) {
		return join(out, basename(fallback));
	}

	if (!stats.isFile()) {
		throw new UsageError(`--out ${JSON.stringify(out)} is not a regular file: ${why}, so it needs a file of its own`);
	}

	return out;
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function report(summary: Summary, json: boolean): void {
	process.stderr.write(`${formatSummary(summary)}\n`);
	if (json) {
		process.stdout.write(`${JSON.stringify(summary, undefined, 2)}\n`);
	}
}

async function commandExport(argv: string[]): Promise<number> {
	const {values, positionals} = parseArgs({
		args: argv,
		allowPositionals: true,
		strict: true,
		options: {
			...CONNECTION_OPTIONS,
			site: {type: 'string'},
			locale: {type: 'string', multiple: true},
			'missing-only': {type: 'boolean'},
		},
	});
	if (values.site === undefined || positionals.length > 0) {
		throw new UsageError('Usage: altbatch export --site <id> [--locale <id>]... [--missing-only] [--out <file>] (see altbatch --help)');
	}

	const site = parseSiteId(values.site);
	const {logLevel, ...connection} = connectionConfig(values);
	if (connection.token === undefined) {
		throw new UsageError('No token: set WEBFLOW_TOKEN or pass --token-file <path>', 'no_token');
	}

	const config: ExportConfig = {
		...connection,
		site,
		locales: (values.locale ?? []).map(locale => parseSiteId(locale, '--locale')),
		missingOnly: values['missing-only'] ?? false,
		out: outputFile(values.out, `assets-${site}.csv`, 'it is written whole, then moved into place'),
		concurrency: 1,
	};
	const logger = createLogger({level: logLevel, file: values['log-file']});
	const signals = watchSignals();
	try {
		const summary = await exportSite(config, {logger, interrupt: signals.interrupt.signal});
		if (summary.stopped) {
			process.stderr.write(`Export stopped (${summary.stopped.reason}): ${summary.stopped.message}\n`);
		} else {
			process.stderr.write(`Exported ${summary.rows} rows (${summary.assets} assets) of site ${site} with ${summary.requests} requests to ${summary.out}\n`);
		}

		if (values.json) {
			process.stdout.write(`${JSON.stringify(summary, undefined, 2)}\n`);
		}

		return summary.stopped?.reason === 'interrupted' ? 130 : summary.stopped ? 3 : 0;
	} finally {
		signals.dispose();
	}
}

function parseLogLevel(value: string | undefined): LogLevel {
	const level = (value ?? 'info') as LogLevel;
	if (!LOG_LEVELS.includes(level)) {
		throw new UsageError(`Expected --log-level to be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
	}

	return level;
}

async function commandSandbox(argv: string[]): Promise<number> {
	const {values} = parseArgs({
		args: argv,
		strict: true,
		options: {
			port: {type: 'string'},
			host: {type: 'string'},
			token: {type: 'string'},
			tokens: {type: 'string'},
			seed: {type: 'string'},
			rate: {type: 'string'},
			faults: {type: 'string'},
			window: {type: 'string'},
		},
	});
	const port = values.port === undefined ? 8787 : Number(values.port);
	if (!Number.isInteger(port) || port < 0 || port > 65_535) {
		throw new UsageError(`Expected --port to be a port number (0 picks a free one), got ${JSON.stringify(values.port)}`);
	}

	const faults: Record<string, number> = {};
	for (const part of (values.faults ?? '').split(',').filter(Boolean)) {
		const [kind = '', share = ''] = part.split('=');
		if (!['error500', 'html503', 'drop', 'truncate', 'slow', 'limited'].includes(kind) || !(Number(share) >= 0 && Number(share) <= 1)) {
			throw new UsageError(`Expected --faults like error500=0.08,html503=0.04,drop=0.04,truncate=0.03,slow=0.02, got ${JSON.stringify(part)}`);
		}

		faults[kind] = Number(share);
	}

	if (values.window !== undefined && values.window !== 'fixed' && values.window !== 'sliding') {
		throw new UsageError(`Expected --window to be fixed or sliding, got ${JSON.stringify(values.window)}`);
	}

	const token = values.token ?? (values.tokens === undefined ? 'sandbox-token' : undefined);
	const sites = values.seed === undefined ? undefined : await loadSeed(values.seed);
	const sandbox = new Sandbox({
		port,
		host: values.host ?? '127.0.0.1',
		tokens: [...token === undefined ? [] : [{token}], ...values.tokens === undefined ? [] : siteTokens(readTokensFile(values.tokens))],
		rate: values.rate === undefined ? undefined : parseRate(values.rate),
		window: values.window as 'fixed' | 'sliding' | undefined,
		sites,
		faults,
	});
	const url = await sandbox.listen();
	process.stdout.write(`Sandbox: ${url}\n${token === undefined ? '' : `Token: ${token}\n`}`);
	for (const site of sandbox.sites.values()) {
		process.stdout.write(`Site: ${site.id} (${site.assets.size} assets; locales: ${[site.primaryLocale, ...site.secondaryLocales].join(', ')})\n`);
	}

	await new Promise<void>(resolve => {
		const stop = () => {
			resolve();
		};

		for (const signal of STOP_SIGNALS) {
			process.once(signal, stop);
		}
	});
	await sandbox.close();
	return 0;
}

async function commandDemo(): Promise<number> {
	const logger = createLogger({level: 'warn'});
	const out = 'jobs.example.results.csv';
	const signals = watchSignals();
	try {
		const {steps, sandbox} = await demo({logger, out, interrupt: signals.interrupt.signal});
		process.stderr.write(`The example job (jobs.example.csv) against the built-in sandbox at ${sandbox}\n`);
		for (const step of steps) {
			process.stderr.write(`\n== ${step.title}\n$ ${step.command}\n`);
			report(step.summary, false);
		}

		const stopped = steps.find(step => step.summary.stopped);
		return stopped ? exitCodeFor(stopped.summary) : 0;
	} finally {
		signals.dispose();
	}
}

async function main(argv: string[]): Promise<number> {
	const [command, ...rest] = argv;
	switch (command) {
		case 'run': {
			return commandRun(rest);
		}

		case 'export': {
			return commandExport(rest);
		}

		case 'sandbox': {
			return commandSandbox(rest);
		}

		case 'demo': {
			return commandDemo();
		}

		case '--version':
		case '-v': {
			process.stdout.write(`${version()}\n`);
			return 0;
		}

		case undefined:
		case '--help':
		case '-h':
		case 'help': {
			process.stdout.write(`${HELP}\n`);
			return command === undefined ? 2 : 0;
		}

		default: {
			throw new UsageError(`Unknown command ${JSON.stringify(command)}; see altbatch --help`);
		}
	}
}

function exitCodeForError(error: unknown): number {
	if (error instanceof AltbatchError) {
		return error.kind === 'stop' ? 3 : error.kind === 'internal' ? 1 : 2;
	}

	if ((error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
		return 2;
	}

	return 1;
}

// A reader that went away (`| head`, a closed terminal) must not crash a run before its rows are written.
for (const stream of [process.stdout, process.stderr]) {
	stream.on('error', () => undefined);
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	const code = error instanceof AltbatchError ? ` [${error.code}]` : '';
	process.stderr.write(`altbatch: ${error instanceof Error ? error.message : String(error)}${code}\n`);
	process.exitCode = exitCodeForError(error);
}

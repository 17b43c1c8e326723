import {statSync} from 'node:fs';
import {homedir} from 'node:os';
import {basename, join, resolve} from 'node:path';
import {UsageError} from '../errors.js';
import type {AuditConfig} from '../commands/audit/audit.js';
import type {ExportConfig} from '../commands/export.js';
import {ledgerDir, runFile} from '../ledger/ledger.js';
import {readRunFile, runIds} from '../ledger/read.js';
import {checkRunConfig, defaultOut, defaultRunConfig, defaultUndoOut, type RunConfig} from './config.js';
import {theInput, type Environment, type Flags} from './flags.js';
import {DEFAULTS} from './options.js';
import {assertTokenFor, readToken, readTokensFile, tokensOf} from './tokens.js';
import {parseApiBase, parseDuration, parseEncoding, parseFaults, parseInclude, parsePort, parsePositiveInteger, parseRate, parseRedisUrl, parseSheet, parseSiteId, parseWarningCodes} from './values.js';
import type {Rate} from '../schedule/rate.js';

/** `altbatch sandbox`. */
export type SandboxConfig = {
	/** @default 8787 (0 picks a free port) */
	readonly port: number;
	/** @default '127.0.0.1' */
	readonly host: string;
	/** A token for every site. @default 'sandbox-token', unless `tokens` is given */
	readonly token: string | undefined;
	/** `--tokens`: site id → token, each token scoped to its own site. */
	readonly tokens: ReadonlyMap<string, string> | undefined;
	/** An assets CSV to serve instead of the demo site. */
	readonly seed: string | undefined;
	readonly rate: Rate | undefined;
	readonly window: 'fixed' | 'sliding' | undefined;
	/** Share of PATCHes answered with each fault. */
	readonly faults: Readonly<Record<string, number>>;
};

/** What `run` and `export` share: where the API is, the token, the pace and retries. */
function connectionConfig(flags: Flags, env: Environment) {
	if (flags.text('token') !== undefined) {
		throw new UsageError('--token is not accepted (flags show in ps and shell history): set WEBFLOW_TOKEN or pass --token-file <path>');
	}

	return {
		apiBase: parseApiBase(flags.text('api-base') ?? DEFAULTS.apiBase),
		token: readToken(flags.text('token-file'), env),
		tokenFile: flags.text('token-file'),
		rate: flags.read('rate', parseRate, undefined),
		timeoutMs: flags.read('timeout', parsePositiveInteger, DEFAULTS.timeoutMs),
		maxAttempts: flags.read('max-attempts', parsePositiveInteger, DEFAULTS.maxAttempts),
		maxWaitMs: flags.read('max-wait', parseDuration, DEFAULTS.maxWaitMs),
		backoffBaseMs: DEFAULTS.backoffBaseMs,
	};
}

export function runConfig(flags: Flags, positionals: readonly string[], env: Environment): RunConfig {
	const input = theInput(positionals, 'run <jobs.csv>');

	const dryRun = flags.flag('dry-run');
	const config: RunConfig = {
		...writingConfig({flags, input, env, out: defaultOut(input, {dryRun}), outWhy: 'the results are rewritten in input order at the end and read back by --resume'}),
		dryRun,
		resume: flags.flag('resume'),
		onlyMissing: flags.flag('only-missing'),
		force: flags.flag('force'),
		stagedOnly: flags.flag('staged-only'),
		refuseWarnings: flags.read('refuse-warnings', parseWarningCodes, undefined),
		encoding: flags.read('encoding', parseEncoding, undefined),
		sheet: flags.read('sheet', parseSheet, undefined),
	};
	checkRunConfig(config);
	return config;
}

/** What run and undo read alike: the connection, --out, the token files, --report, --redis, --concurrency, --site, --prefetch. */
function writingConfig({flags, input, env, out, outWhy}: {flags: Flags; input: string; env: Environment; out: string; outWhy: string}): RunConfig {
	const defaults = defaultRunConfig(input);
	return {
		...defaults,
		...connectionConfig(flags, env),
		out: outputFile(flags.text('out'), out, outWhy),
		...tokensOf(flags.read('tokens', readTokensFile, undefined)),
		tokensFile: flags.text('tokens'),
		report: flags.text('report'),
		redis: parseRedisUrl(flags.text('redis') ?? env.REDIS_URL),
		concurrency: flags.read('concurrency', parsePositiveInteger, defaults.concurrency),
		site: flags.read('site', parseSiteId, undefined),
		prefetch: flags.flag('prefetch'),
		ledger: ledgerFolder(flags, env),
	};
}

/** `--ledger`, else `ALTBATCH_LEDGER`, else the XDG data folder, else `~/.local/share/altbatch`. */
export function ledgerFolder(flags: Flags, env: Environment): string {
	return resolve(ledgerDir({flag: flags.text('ledger'), env, home: env.HOME ?? homedir()}));
}

export function undoConfig(flags: Flags, positionals: readonly string[], env: Environment): RunConfig {
	const fromLedger = ledgerRun(flags, positionals, env);
	const input = fromLedger?.file ?? theInput(positionals, 'undo <results.csv|results.xlsx>');

	const dryRun = flags.flag('dry-run');
	const out = fromLedger ? fromLedger.out(dryRun) : defaultUndoOut(input, {dryRun});
	const writing = writingConfig({flags, input, env, out, outWhy: 'undo\'s results are rewritten in order at the end'});
	const config: RunConfig = {
		...writing,
		// A run is undone where it was sent: its API base, unless --api-base says the same.
		apiBase: fromLedger?.apiBase ?? writing.apiBase,
		dryRun,
		undo: true,
		undoOf: fromLedger?.id,
		allowClear: flags.flag('allow-clear'),
		stagedOnly: flags.flag('staged-only'),
		sheet: flags.read('sheet', parseSheet, undefined),
	};
	checkRunConfig(config);
	return config;
}

/** `undo --run <id>` / `--last`: the run on record (its ledger file is undo's input), or undefined for `undo <results.csv>`. */
function ledgerRun(flags: Flags, positionals: readonly string[], env: Environment): {id: string; file: string; apiBase: string; out: (dryRun: boolean) => string} | undefined {
	const asked = flags.text('run');
	const last = flags.flag('last');
	if (asked === undefined && !last) {
		return undefined;
	}

	if (positionals.length > 0 || (asked !== undefined && last)) {
		throw new UsageError('Usage: altbatch undo <results.csv|results.xlsx> | --run <id> | --last [options]: one of the three (see altbatch undo --help)');
	}

	const ledger = ledgerFolder(flags, env);
	const apiBaseFlag = flags.text('api-base');
	const apiBase = apiBaseFlag === undefined ? undefined : parseApiBase(apiBaseFlag);
	const id = asked ?? runIds(ledger).find(candidate => apiBase === undefined || readRunFile(runFile(ledger, candidate))?.apiBase === apiBase);
	if (id === undefined) {
		throw new UsageError(`undo --last: no run on record in ${ledger}${apiBase === undefined ? '' : ` against ${apiBase}`}`, 'no_such_run');
	}

	const file = runFile(ledger, id);
	const run = /^[\w-]+$/.test(id) ? readRunFile(file) : undefined;
	if (run === undefined) {
		throw new UsageError(`undo --run: no run ${JSON.stringify(id)} on record in ${ledger} (altbatch history lists them)`, 'no_such_run');
	}

	if (apiBase !== undefined && apiBase !== run.apiBase) {
		throw new UsageError(`run ${id} was sent to ${run.apiBase}, not --api-base ${apiBase}: it is undone where it was sent (leave out --api-base)`, 'undo_other_api');
	}

	return {
		id,
		file,
		apiBase: run.apiBase,
		out: dryRun => run.results === undefined ? `altbatch-undo-${id}${dryRun ? '.dry-run' : ''}.csv` : defaultUndoOut(run.results, {dryRun}),
	};
}

/** What export and audit read: `--site` or the sites of `--tokens`, and a token for each. */
function sitesToRead(flags: Flags, positionals: readonly string[], env: Environment, usage: string) {
	const siteText = flags.text('site');
	const tokensFile = flags.text('tokens');
	if ((siteText === undefined && tokensFile === undefined) || positionals.length > 0) {
		throw new UsageError(usage);
	}

	const site = siteText === undefined ? undefined : parseSiteId(siteText);
	const tokens = tokensFile === undefined ? undefined : readTokensFile(tokensFile).tokens;
	const connection = connectionConfig(flags, env);
	assertTokenFor({token: connection.token, tokens, site});
	return {site, tokens, tokensFile, connection};
}

export function exportConfig(flags: Flags, positionals: readonly string[], env: Environment): ExportConfig {
	const {site, tokens, tokensFile, connection} = sitesToRead(flags, positionals, env, 'Usage: altbatch export --site <id> | --tokens <file> [--locale <id>]... [--missing-only] [--out <file>] (see altbatch export --help)');
	return {
		...connection,
		site,
		tokens,
		tokensFile,
		locales: flags.list('locale').map(locale => parseSiteId(locale, '--locale')),
		missingOnly: flags.flag('missing-only'),
		include: flags.read('include', parseInclude, new Set(['assets'] as const)),
		out: outputFile(flags.text('out'), site === undefined ? 'assets-all-sites.csv' : `assets-${site}.csv`, 'it is written whole, then moved into place'),
		redis: parseRedisUrl(flags.text('redis') ?? env.REDIS_URL),
		concurrency: 1,
	};
}

export function auditConfig(flags: Flags, positionals: readonly string[], env: Environment): AuditConfig {
	const {site, tokens, tokensFile, connection} = sitesToRead(flags, positionals, env, 'Usage: altbatch audit --site <id> | --tokens <file> [--out <audit.csv>] [--report <audit.html>] [--locale <id>]... [--compare <earlier.csv>] [--json] (see altbatch audit --help)');
	const out = outputFile(flags.text('out'), site === undefined ? 'audit-all-sites.csv' : `audit-${site}.csv`, 'it is written whole, then moved into place');
	const compare = flags.text('compare');
	if (compare !== undefined && resolve(compare) === resolve(out)) {
		throw new UsageError(`--compare ${JSON.stringify(compare)} is --out too: the new audit would replace the one it is compared with; give --out another name`, 'compare_is_out');
	}

	return {
		...connection,
		site,
		tokens,
		tokensFile,
		locales: flags.list('locale').map(locale => parseSiteId(locale, '--locale')),
		out,
		report: flags.text('report'),
		redis: parseRedisUrl(flags.text('redis') ?? env.REDIS_URL),
		compare,
		concurrency: DEFAULTS.concurrency,
	};
}

export function sandboxConfig(flags: Flags): SandboxConfig {
	const window = flags.text('window');
	if (window !== undefined && window !== 'fixed' && window !== 'sliding') {
		throw new UsageError(`Expected --window to be fixed or sliding, got ${JSON.stringify(window)}`);
	}

	return {
		port: flags.read('port', parsePort, DEFAULTS.sandboxPort),
		host: flags.text('host') ?? DEFAULTS.sandboxHost,
		token: flags.text('token') ?? (flags.text('tokens') === undefined ? DEFAULTS.sandboxToken : undefined),
		tokens: flags.read('tokens', readTokensFile, undefined)?.tokens,
		seed: flags.text('seed'),
		rate: flags.read('rate', parseRate, undefined),
		window,
		faults: flags.read('faults', parseFaults, {}),
	};
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

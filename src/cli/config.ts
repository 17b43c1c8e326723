import {readFileSync, statSync} from 'node:fs';
import {homedir} from 'node:os';
import {basename, dirname, extname, join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import type {Encoding} from '../files/csv/decode.js';
import {ENCODINGS} from '../files/csv/decode.js';
import {UsageError} from '../errors.js';
import type {AuditConfig} from '../commands/audit/audit.js';
import type {ExportConfig} from '../commands/export.js';
import type {HistoryConfig} from '../commands/history.js';
import {ledgerDir, runFile} from '../ledger/ledger.js';
import {readRunFile, runIds} from '../ledger/read.js';
import {
	COMMANDS, DEFAULTS, FAULT_KINDS, LOG_LEVELS, optionsOf, type CommandName, type LogLevel,
} from './options.js';
import {isObjectId} from '../rows/job.js';
import {isWarningCode, WARNING_CODES, type WarningCode} from '../rows/warnings.js';
import type {Rate} from '../schedule/rate.js';

export {DEFAULTS, LOG_LEVELS, type LogLevel} from './options.js';

/** Everything `run` needs, checked once at the edge. */
export type RunConfig = {
	readonly input: string;
	/** @default `<jobs>.results.csv` beside the input */
	readonly out: string;
	/** @default 'https://api.webflow.com' */
	readonly apiBase: string;
	readonly token: string | undefined;
	/** `--redis` / `REDIS_URL`: share the budget with every process using the same token. */
	readonly redis?: string | undefined;
	/** `--report`: where to write the HTML report. */
	readonly report?: string | undefined;
	/** `--tokens`: the file the tokens were read from (no two of the run's files may be one). */
	readonly tokensFile?: string | undefined;
	/** `--token-file`: the file the token was read from (nothing the run writes may land on it). */
	readonly tokenFile?: string | undefined;
	/** `--tokens`: site id → token; rows are routed by their siteId column. */
	readonly tokens?: ReadonlyMap<string, string> | undefined;
	/** `--tokens`: site id → the line of the file its token is on (a refused token's message names it). */
	readonly tokenLines?: ReadonlyMap<string, number> | undefined;
	/** Told with `--rate`; otherwise the token's own limit, else 60/min. */
	readonly rate: Rate | undefined;
	/** @default 4 */
	readonly concurrency: number;
	/** @default 5 */
	readonly maxAttempts: number;
	/** @default 30000 */
	readonly timeoutMs: number;
	readonly dryRun: boolean;
	readonly resume: boolean;
	/** `--site`: the one site to read first and write to (the one-site shorthand of `prefetch`). */
	readonly site: string | undefined;
	/** `--prefetch`: read every site of the file first (each through its own token with `--tokens`). @default false */
	readonly prefetch?: boolean | undefined;
	readonly onlyMissing: boolean;
	/** `--force`: write fields that changed both in the file and on the site since the export. @default false */
	readonly force?: boolean | undefined;
	/** `--refuse-warnings`: rows with these alt-text warnings are `invalid`, before any request. */
	readonly refuseWarnings?: ReadonlySet<WarningCode> | undefined;
	/** `--staged-only`: CMS rows write the staged items only, never the live ones. @default false */
	readonly stagedOnly?: boolean | undefined;
	/** Set by `undo`: reads the site even on a dry run, never forces. */
	readonly undo?: boolean | undefined;
	/** `undo --allow-clear`: restoring an empty alt text sends `altText: ""`. @default false */
	readonly allowClear?: boolean | undefined;
	/** @default 15 minutes */
	readonly maxWaitMs: number;
	readonly encoding: Encoding | undefined;
	/** `--sheet`: the sheet of an .xlsx input to read (else its first). */
	readonly sheet?: string | undefined;
	/** First retry backoff. @default 500 */
	readonly backoffBaseMs: number;
	/** The ledger folder (`--ledger`, `ALTBATCH_LEDGER`, the XDG data folder): every write on record. None: not recorded (callers of `run()` other than the CLI). */
	readonly ledger?: string | undefined;
	/** `undo --run <id>` / `--last`: the run undone, from the ledger (then `input` is its ledger file). */
	readonly undoOf?: string | undefined;
};

const UNITS: Readonly<Record<string, number>> = {
	ms: 1,
	s: 1000,
	sec: 1000,
	second: 1000,
	m: 60_000,
	min: 60_000,
	minute: 60_000,
	h: 3_600_000,
	hour: 3_600_000,
};

/** `60/min`, `50/s`, `2/sec` → a rate. */
export function parseRate(text: string, option = '--rate'): Rate {
	const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d*)\s*([a-z]+)\s*$/i.exec(text);
	const unitName = match?.[3]?.toLowerCase() ?? '';
	const unit = UNITS[unitName] ?? UNITS[unitName.replace(/s$/, '')];
	const count = Number(match?.[1]);
	const per = match?.[2] ? Number(match[2]) : 1;
	if (!match || unit === undefined || unit < 1000 || !(count > 0) || !(per > 0)) {
		throw new UsageError(`Expected ${option} to be a number of requests per second or minute, like 60/min or 2/s, got ${JSON.stringify(text)}`);
	}

	return {count, windowMs: unit * per};
}

/** `15min`, `90s`, `500ms`, `1h`; a bare number is seconds. */
export function parseDuration(text: string, option: string): number {
	const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
	const unitName = match?.[2]?.toLowerCase() ?? '';
	const unit = unitName === '' ? 1000 : UNITS[unitName] ?? UNITS[unitName.replace(/s$/, '')];
	if (!match || unit === undefined) {
		throw new UsageError(`Expected ${option} to be a duration like 15min, 90s or 500ms, got ${JSON.stringify(text)}`);
	}

	return Number(match[1]) * unit;
}

export function parsePositiveInteger(text: string, option: string): number {
	const n = Number(text);
	if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
		throw new UsageError(`Expected ${option} to be a whole number of at least 1, got ${JSON.stringify(text)}`);
	}

	return n;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** The API origin: https, or http to this machine only (a token never crosses a network in the clear). */
export function parseApiBase(text: string): string {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new UsageError(`Expected --api-base to be a URL like https://api.webflow.com, got ${JSON.stringify(text)}`);
	}

	if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
		throw new UsageError(`Expected --api-base to use https (http only for localhost), got ${JSON.stringify(text)}`);
	}

	if (url.username !== '' || url.password !== '' || url.search !== '') {
		throw new UsageError('Expected --api-base without credentials or a query string');
	}

	// The API version is ours to add: `https://api.webflow.com/v2` means the same origin.
	return url.href.replace(/\/+$/, '').replace(/\/(?:v2|beta)$/, '');
}

export function parseSiteId(text: string, option = '--site'): string {
	const id = text.trim().toLowerCase();
	if (!isObjectId(id)) {
		throw new UsageError(`Expected ${option} to be a 24-character hex site id, got ${JSON.stringify(text)}`);
	}

	return id;
}

export function parseEncoding(text: string): Encoding {
	const value = text.toLowerCase().replace(/^(cp|win)-?1252$/, 'windows-1252').replace(/^utf8$/, 'utf-8') as Encoding;
	if (!ENCODINGS.includes(value)) {
		throw new UsageError(`Expected --encoding to be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(text)}`);
	}

	return value;
}

/** `<jobs>.results.csv` beside the input; a dry run's `<jobs>.dry-run.csv`, so it never lands on a real run's results. */
function defaultOut(input: string, {dryRun = false}: {dryRun?: boolean} = {}): string {
	return beside(input, dryRun ? 'dry-run' : 'results');
}

/** `altbatch undo` writes `<results>.undo.csv` beside the results it undoes (`.undo.dry-run.csv` for a dry run). */
export function defaultUndoOut(results: string, {dryRun = false}: {dryRun?: boolean} = {}): string {
	return beside(results, dryRun ? 'undo.dry-run' : 'undo');
}

/** `<name>.<suffix>.csv` in the folder of `path` (its extension dropped). */
function beside(path: string, suffix: string): string {
	return join(dirname(path), `${basename(path, extname(path))}.${suffix}.csv`);
}

/** A run with every default: the one source of them (the CLI, tests, the demo and the bench start here). */
export function defaultRunConfig(input: string): RunConfig {
	return {
		input,
		out: defaultOut(input),
		apiBase: DEFAULTS.apiBase,
		token: undefined,
		redis: undefined,
		report: undefined,
		tokens: undefined,
		rate: undefined,
		concurrency: DEFAULTS.concurrency,
		maxAttempts: DEFAULTS.maxAttempts,
		timeoutMs: DEFAULTS.timeoutMs,
		dryRun: false,
		resume: false,
		site: undefined,
		prefetch: false,
		onlyMissing: false,
		force: false,
		stagedOnly: false,
		maxWaitMs: DEFAULTS.maxWaitMs,
		encoding: undefined,
		backoffBaseMs: DEFAULTS.backoffBaseMs,
	};
}

/** How a command talks to the person running it; `cli.ts` applies it. */
export type OutputConfig = {
	/** `--json`: the summary as JSON on stdout. */
	readonly json: boolean;
	/** `--quiet`: on stderr only the summary and errors. */
	readonly quiet: boolean;
	/** @default 'info' */
	readonly logLevel: LogLevel;
	/** `--log-file`: NDJSON logs there instead of stderr. */
	readonly logFile: string | undefined;
};

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

/** What the command line asks for, checked whole: nothing has been sent or written yet. */
export type Invocation =
	| {readonly command: 'help'; readonly topic: CommandName | undefined; readonly asked: boolean}
	| {readonly command: 'version'}
	| {readonly command: 'run'; readonly config: RunConfig; readonly output: OutputConfig}
	| {readonly command: 'export'; readonly config: ExportConfig; readonly output: OutputConfig}
	| {readonly command: 'undo'; readonly config: RunConfig; readonly output: OutputConfig}
	| {readonly command: 'audit'; readonly config: AuditConfig; readonly output: OutputConfig}
	| {readonly command: 'history'; readonly config: HistoryConfig; readonly json: boolean}
	| {readonly command: 'sandbox'; readonly config: SandboxConfig}
	| {readonly command: 'demo'}
	| {readonly command: 'completion'; readonly shell: 'bash' | 'zsh'};

/** The environment variables read: `WEBFLOW_TOKEN`, `REDIS_URL`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** argv (without node and the script), the environment and the files they name → what to do. */
export function parseCommandLine(argv: readonly string[], env: Environment): Invocation {
	const [command, ...rest] = argv;
	switch (command) {
		case undefined: {
			return {command: 'help', topic: undefined, asked: false};
		}

		case '--help':
		case '-h':
		case 'help': {
			const topic = rest[0];
			if (topic !== undefined && !isCommand(topic)) {
				throw new UsageError(`Unknown command ${JSON.stringify(topic)}; see altbatch --help`);
			}

			return {command: 'help', topic, asked: true};
		}

		case '--version':
		case '-v': {
			return {command: 'version'};
		}

		default: {
			break;
		}
	}

	if (!isCommand(command)) {
		throw new UsageError(`Unknown command ${JSON.stringify(command)}; see altbatch --help`);
	}

	const {values, positionals} = parseOptions(command, rest);
	const flags = reader(values);
	if (flags.flag('help')) {
		return {command: 'help', topic: command, asked: true};
	}

	switch (command) {
		case 'run': {
			return {command, config: runConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'export': {
			return {command, config: exportConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'undo': {
			return {command, config: undoConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'audit': {
			return {command, config: auditConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'history': {
			noPositionals(command, positionals);
			return {command, config: {ledger: ledgerFolder(flags, env), site: flags.read('site', parseSiteId, undefined)}, json: flags.flag('json')};
		}

		case 'sandbox': {
			noPositionals(command, positionals);
			return {command, config: sandboxConfig(flags)};
		}

		case 'demo': {
			noPositionals(command, positionals);
			return {command};
		}

		case 'completion': {
			const [shell] = positionals;
			if ((shell !== 'bash' && shell !== 'zsh') || positionals.length > 1) {
				throw new UsageError('Usage: altbatch completion bash|zsh');
			}

			return {command, shell};
		}
	}
}

function isCommand(name: string): name is CommandName {
	return COMMANDS.some(command => command.name === name);
}

type Values = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;

/** node:util's parseArgs over the table's rows for this command; its errors become usage errors. */
function parseOptions(command: CommandName, args: string[]): {values: Values; positionals: string[]} {
	const options = Object.fromEntries(optionsOf(command).map(option => [option.name, {
		type: option.kind === 'flag' ? 'boolean' as const : 'string' as const,
		multiple: option.kind === 'values',
		...(option.short === undefined ? {} : {short: option.short}),
	}]));
	try {
		return parseArgs({args: withBareValues(command, args), options, allowPositionals: true, strict: true});
	} catch (error) {
		if ((error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
			throw new UsageError(`${(error as Error).message} (see altbatch ${command} --help)`);
		}

		throw error;
	}
}

/**
 * Options that may stand alone (`--refuse-warnings`) get their `bare` value unless what follows is
 * a list of their words (`--refuse-warnings alt_placeholder,alt_is_file_name`).
 */
function withBareValues(command: CommandName, args: readonly string[]): string[] {
	const bare = new Map(optionsOf(command).flatMap(option => option.bare === undefined ? [] : [[`--${option.name}` as string, {bare: option.bare, complete: option.complete}] as const]));
	const out: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const arg = args[i] ?? '';
		const option = bare.get(arg);
		if (option === undefined) {
			out.push(arg);
			continue;
		}

		const next = args[i + 1];
		const words = Array.isArray(option.complete) ? option.complete as readonly string[] : [];
		if (next !== undefined && next.split(',').every(part => words.includes(part.trim()))) {
			out.push(`${arg}=${next}`);
			i++;
		} else {
			out.push(`${arg}=${option.bare}`);
		}
	}

	return out;
}

type Flags = ReturnType<typeof reader>;

function reader(values: Values) {
	const text = (name: string): string | undefined => {
		const value = values[name];
		return typeof value === 'string' ? value : undefined;
	};

	return {
		text,
		flag: (name: string): boolean => values[name] === true,
		list: (name: string): string[] => (values[name] as string[] | undefined) ?? [],
		/** The option's value parsed, or `fallback` when it was not given. */
		read<T>(name: string, parse: (text: string, option: string) => T, fallback: T): T {
			const value = text(name);
			return value === undefined ? fallback : parse(value, `--${name}`);
		},
	};
}

function noPositionals(command: CommandName, positionals: readonly string[]): void {
	if (positionals.length > 0) {
		throw new UsageError(`altbatch ${command} takes no ${JSON.stringify(positionals[0])} (see altbatch ${command} --help)`);
	}
}

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

/** `--quiet` keeps only errors on stderr; logs going to a `--log-file` keep their `--log-level`. */
function outputConfig(flags: Flags): OutputConfig {
	const quiet = flags.flag('quiet');
	const logFile = flags.text('log-file');
	const level = flags.read('log-level', parseLogLevel, DEFAULTS.logLevel);
	const quieter = quiet && logFile === undefined && LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf('error') && level !== 'silent';
	return {json: flags.flag('json'), quiet, logLevel: quieter ? 'error' : level, logFile};
}

/** The one file a command takes (`run <jobs.csv>`, `undo <results.csv>`), or a usage error. */
function parseSheet(text: string): string {
	if (text.trim() === '') {
		throw new UsageError('--sheet needs the name of a sheet of the .xlsx input');
	}

	return text;
}

function theInput(positionals: readonly string[], usage: string): string {
	const input = positionals[0];
	if (input === undefined || positionals.length > 1) {
		throw new UsageError(`Usage: altbatch ${usage} [options] (see altbatch ${usage.split(' ')[0] ?? ''} --help)`);
	}

	return input;
}

function runConfig(flags: Flags, positionals: readonly string[], env: Environment): RunConfig {
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

/** `--include`: what an export writes, `assets` and/or `cms`, comma-separated. */
function parseInclude(text: string, option: string): ReadonlySet<'assets' | 'cms'> {
	const words = text.split(',').map(word => word.trim().toLowerCase()).filter(Boolean);
	const wrong = words.filter(word => word !== 'assets' && word !== 'cms');
	if (words.length === 0 || wrong.length > 0) {
		throw new UsageError(`Expected ${option} to be assets, cms or assets,cms, got ${JSON.stringify(text)}`);
	}

	return new Set(words as Array<'assets' | 'cms'>);
}

/** `--refuse-warnings`: `all`, or alt-text warning codes separated by commas. */
function parseWarningCodes(text: string, option: string): ReadonlySet<WarningCode> {
	const words = text.split(',').map(code => code.trim()).filter(Boolean);
	if (words.length === 1 && words[0] === 'all') {
		return new Set(WARNING_CODES);
	}

	const codes = words.filter(isWarningCode);
	if (codes.length === 0 || codes.length < words.length) {
		throw new UsageError(`Expected ${option} to be alt-text warning codes separated by commas (${WARNING_CODES.join(', ')}), or nothing for all of them, got ${JSON.stringify(text)}`);
	}

	return new Set(codes);
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
function ledgerFolder(flags: Flags, env: Environment): string {
	return resolve(ledgerDir({flag: flags.text('ledger'), env, home: env.HOME ?? homedir()}));
}

function undoConfig(flags: Flags, positionals: readonly string[], env: Environment): RunConfig {
	const fromLedger = ledgerRun(flags, positionals, env);
	const input = fromLedger?.file ?? theInput(positionals, 'undo <results.csv>');

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
		throw new UsageError('Usage: altbatch undo <results.csv> | --run <id> | --last [options]: one of the three (see altbatch undo --help)');
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

/** The rules between options of a run (`run()` checks them too, for callers other than the CLI). */
export function checkRunConfig(config: RunConfig): void {
	if (resolve(config.out) === resolve(config.input)) {
		throw new UsageError(`--out ${JSON.stringify(config.out)} is the input file itself; the results go to a file of their own`);
	}

	if (config.onlyMissing && config.site === undefined && config.prefetch !== true) {
		throw new UsageError('--only-missing needs --prefetch (every site of the file) or --site <id>: the current alt text is read from the site', 'only_missing_needs_site');
	}

	if (needsNetwork(config)) {
		assertTokenFor({token: config.token, tokens: config.tokens, site: config.site, why: config.undo ? ' (undo reads the site, even on a dry run)' : ''});
	}
}

/** Whether the run sends requests: a real run, a dry run that reads the site first, and undo (which reads the site even on a dry run). */
export function needsNetwork(config: RunConfig): boolean {
	return !config.dryRun || config.site !== undefined || config.prefetch === true || config.undo === true;
}

/** A token to send with: WEBFLOW_TOKEN (or --token-file) or --tokens, and with --site and --tokens, one for that site. */
function assertTokenFor({token, tokens, site, why = ''}: {token: string | undefined; tokens: ReadonlyMap<string, string> | undefined; site: string | undefined; why?: string}): void {
	const hasToken = token !== undefined && token !== '';
	if (!hasToken && !tokens) {
		throw new UsageError(`No token: set WEBFLOW_TOKEN or pass --token-file <path>${why}`, 'no_token');
	}

	// `--site` with `--tokens`: the one site, through its token from the file.
	if (!hasToken && site !== undefined && tokens && !tokens.has(site)) {
		throw new UsageError(`--tokens has no token for --site ${site}, and WEBFLOW_TOKEN is not set`, 'no_token');
	}
}

function exportConfig(flags: Flags, positionals: readonly string[], env: Environment): ExportConfig {
	const siteText = flags.text('site');
	const tokensFile = flags.text('tokens');
	if ((siteText === undefined && tokensFile === undefined) || positionals.length > 0) {
		throw new UsageError('Usage: altbatch export --site <id> | --tokens <file> [--locale <id>]... [--missing-only] [--out <file>] (see altbatch export --help)');
	}

	const site = siteText === undefined ? undefined : parseSiteId(siteText);
	const tokens = tokensFile === undefined ? undefined : readTokensFile(tokensFile).tokens;
	const connection = connectionConfig(flags, env);
	assertTokenFor({token: connection.token, tokens, site});

	return {
		...connection,
		site,
		tokens,
		tokensFile,
		locales: flags.list('locale').map(locale => parseSiteId(locale, '--locale')),
		missingOnly: flags.flag('missing-only'),
		include: flags.read('include', parseInclude, new Set(['assets'] as const)),
		out: outputFile(flags.text('out'), site === undefined ? 'assets-all-sites.csv' : `assets-${site}.csv`, 'it is written whole, then moved into place'),
		concurrency: 1,
	};
}

function auditConfig(flags: Flags, positionals: readonly string[], env: Environment): AuditConfig {
	const siteText = flags.text('site');
	const tokensFile = flags.text('tokens');
	if ((siteText === undefined && tokensFile === undefined) || positionals.length > 0) {
		throw new UsageError('Usage: altbatch audit --site <id> | --tokens <file> [--out <audit.csv>] [--report <audit.html>] [--locale <id>]... [--compare <earlier.csv>] [--json] (see altbatch audit --help)');
	}

	const site = siteText === undefined ? undefined : parseSiteId(siteText);
	const tokens = tokensFile === undefined ? undefined : readTokensFile(tokensFile).tokens;
	const connection = connectionConfig(flags, env);
	assertTokenFor({token: connection.token, tokens, site});
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
		compare,
		concurrency: DEFAULTS.concurrency,
	};
}

function sandboxConfig(flags: Flags): SandboxConfig {
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

function parseLogLevel(text: string): LogLevel {
	const level = text as LogLevel;
	if (!LOG_LEVELS.includes(level)) {
		throw new UsageError(`Expected --log-level to be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
	}

	return level;
}

function parsePort(text: string): number {
	const port = Number(text);
	if (!Number.isInteger(port) || port < 0 || port > 65_535) {
		throw new UsageError(`Expected --port to be a port number (0 picks a free one), got ${JSON.stringify(text)}`);
	}

	return port;
}

/** `error500=0.08,drop=0.04` → the share of PATCHes answered with each fault. */
function parseFaults(text: string): Record<string, number> {
	const faults: Record<string, number> = {};
	for (const part of text.split(',').filter(Boolean)) {
		const [kind = '', share = ''] = part.split('=');
		if (!(FAULT_KINDS as readonly string[]).includes(kind) || !(Number(share) >= 0 && Number(share) <= 1)) {
			throw new UsageError(`Expected --faults like error500=0.08,html503=0.04,drop=0.04,truncate=0.03,slow=0.02, got ${JSON.stringify(part)}`);
		}

		faults[kind] = Number(share);
	}

	return faults;
}

/** The token: `--token-file`'s content, else `WEBFLOW_TOKEN`. Never echoed in a message. */
function readToken(tokenFile: string | undefined, env: Environment): string | undefined {
	if (tokenFile === undefined) {
		const fromEnv = env.WEBFLOW_TOKEN?.trim();
		return fromEnv === '' || fromEnv === undefined ? undefined : wellFormedToken(fromEnv, 'WEBFLOW_TOKEN');
	}

	const token = readText(tokenFile, '--token-file').trim();
	if (token === '') {
		throw new UsageError(`--token-file ${JSON.stringify(tokenFile)} is empty`);
	}

	return wellFormedToken(token, `--token-file ${JSON.stringify(tokenFile)}`);
}

/**
 * A token goes in an HTTP header: one run of visible ASCII characters. Anything else (a line
 * break, a tab, a space, a character outside ASCII) could never be sent, so it is refused before
 * the first request, saying what is wrong and never showing the token.
 */
function wellFormedToken(token: string, where: string): string {
	const bad = /[^\x21-\x7e]/.exec(token)?.[0];
	if (bad !== undefined) {
		const what = bad === '\n' || bad === '\r' ? 'a line break' : bad === ' ' ? 'a space' : bad.charCodeAt(0) < 0x20 || bad === '\u007f' ? 'a control character' : 'a character outside ASCII';
		throw new UsageError(`${where}: the token is malformed: it holds ${what} (a token is one line of visible ASCII characters); nothing was sent`, 'token_malformed');
	}

	return token;
}

function readText(path: string, option: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		throw new UsageError(`Cannot read ${option} ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
	}
}

/** `--redis` or `REDIS_URL`: a redis:// or rediss:// URL; empty means none. */
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

type TokensFile = {tokens: Map<string, string>; lines: Map<string, number>};

function tokensOf(file: TokensFile | undefined): {tokens: ReadonlyMap<string, string> | undefined; tokenLines: ReadonlyMap<string, number> | undefined} {
	return {tokens: file?.tokens, tokenLines: file?.lines};
}

/**
 * `--tokens`: `siteId=token` lines (blank lines and `#` comments allowed), each site once (in any
 * case): a site listed twice is refused naming both lines. The tokens are never echoed.
 */
function readTokensFile(path: string): TokensFile {
	const text = readText(path, '--tokens');
	const tokens = new Map<string, string>();
	const lines = new Map<string, number>();
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

		const earlier = lines.get(site);
		if (earlier !== undefined) {
			throw new UsageError(`${path}:${i + 1}: site ${site} is listed twice (lines ${earlier} and ${i + 1}); keep one token per site`);
		}

		tokens.set(site, wellFormedToken(token, `${path}:${i + 1}`));
		lines.set(site, i + 1);
	}

	if (tokens.size === 0) {
		throw new UsageError(`${path}: no siteId=token lines`);
	}

	return {tokens, lines};
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

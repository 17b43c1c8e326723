import {ENCODINGS} from '../files/csv/decode.js';
import {WARNING_CODES} from '../rows/warnings.js';
import {DEFAULT_RATE} from '../schedule/rate-types.js';

/**
 * The one table of commands and options: `config.ts` parses argv with it, `help.ts` prints it and
 * `completion.ts` turns it into shell completion, so the three can't drift. A new option is one row.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = typeof LOG_LEVELS[number];

export const FAULT_KINDS = ['error500', 'html503', 'drop', 'truncate', 'slow', 'limited'] as const;

/** Every default, in one place: `defaultRunConfig()` and the help text are built from these. */
export const DEFAULTS = {
	apiBase: 'https://api.webflow.com',
	concurrency: 4,
	maxAttempts: 5,
	timeoutMs: 30_000,
	maxWaitMs: 15 * 60_000,
	backoffBaseMs: 500,
	/** When neither `--rate`, introspect nor an answer's `X-RateLimit-Limit` tells one. */
	rate: DEFAULT_RATE,
	logLevel: 'info',
	sandboxPort: 8787,
	sandboxHost: '127.0.0.1',
	sandboxToken: 'sandbox-token',
} as const;

export type CommandName = 'run' | 'export' | 'undo' | 'history' | 'audit' | 'sandbox' | 'demo' | 'completion';

export type CommandSpec = {
	readonly name: CommandName;
	/** What follows the command name in its usage line. */
	readonly usage: string;
	readonly summary: string;
	/** What shell completion offers for the positional argument. */
	readonly positional?: Completion;
};

export const COMMANDS: readonly CommandSpec[] = [
	{name: 'run', usage: '<jobs.csv> [options]', summary: 'apply the edits; write the results CSV', positional: 'file'},
	{name: 'export', usage: '--site <id> | --tokens <file> [options]', summary: 'write the site\'s assets (or every site\'s in a tokens file) as a jobs CSV ready to edit'},
	{name: 'undo', usage: '<results.csv|results.xlsx> | --run <id> | --last [options]', summary: 'put back what a run changed, except where the site changed since', positional: 'file'},
	{name: 'history', usage: '[--site <id>] [--json]', summary: 'the runs on record in the ledger, newest first (reads the ledger only)'},
	{name: 'audit', usage: '--site <id> | --tokens <file> [options]', summary: 'every place an image renders, the alt it gets, what is wrong: a sheet to fill in and run back'},
	{name: 'sandbox', usage: '[options]', summary: 'run a local Webflow-compatible API'},
	{name: 'demo', usage: '', summary: 'the example job against an in-process sandbox (npm start)'},
	{name: 'completion', usage: 'bash|zsh', summary: 'print a shell completion script: source <(altbatch completion bash)', positional: ['bash', 'zsh']},
];

/** `file`: any path; a list: these words. */
export type Completion = 'file' | readonly string[];

export type OptionSpec = {
	/** Without the leading `--`. */
	readonly name: string;
	/** `flag`: present or not; `value`: takes one value; `values`: may be repeated. */
	readonly kind: 'flag' | 'value' | 'values';
	/** The value's placeholder in help, like `<n>/<s|min>`. */
	readonly value?: string;
	readonly commands: readonly CommandName[];
	/** One or more lines of help. */
	readonly help: string;
	/** The default as people read it. */
	readonly default?: string;
	readonly complete?: Completion;
	readonly short?: string;
	/** Accepted only to be refused with a reason (never listed). */
	readonly hidden?: boolean;
	/**
	 * The value when the option is given alone (`--refuse-warnings`): what follows it is its value
	 * only when every comma-separated part is one of `complete`'s words.
	 */
	readonly bare?: string;
};

const CONNECTION: readonly CommandName[] = ['run', 'export', 'undo', 'audit'];
/** Commands that write through the API: `run` and `undo` (which runs the same way). */
const WRITES: readonly CommandName[] = ['run', 'undo'];
const perMinute = (rate: {count: number; windowMs: number}) => `${rate.count * 60_000 / rate.windowMs}/min`;

export const OPTIONS: readonly OptionSpec[] = [
	{name: 'out', kind: 'value', value: '<file|folder>', commands: ['run'], help: 'results CSV; a folder gets the default name inside it', default: '<jobs>.results.csv beside the input, <jobs>.dry-run.csv with --dry-run', complete: 'file'},
	{name: 'out', kind: 'value', value: '<file|folder>', commands: ['undo'], help: 'undo\'s own results, CSV (a workbook when it ends in .xlsx; undo can take it back in turn); a folder gets the default name inside it', default: '<results>.undo.csv beside the results'},
	{name: 'out', kind: 'value', value: '<file|folder>', commands: ['export'], help: 'where to write the jobs CSV; a folder gets the default name inside it', default: 'assets-<site>.csv, with --tokens assets-all-sites.csv', complete: 'file'},
	{name: 'site', kind: 'value', value: '<id>', commands: ['export'], help: 'the site (this or --tokens is required)'},
	{name: 'tokens', kind: 'value', value: '<file>', commands: ['export'], help: 'siteId=token lines: every site of the file, each through its own token, into one file with a siteId column', complete: 'file'},
	{name: 'locale', kind: 'values', value: '<id>', commands: ['export'], help: 'a locale to export; repeat for several', default: 'the primary locale'},
	{name: 'missing-only', kind: 'flag', commands: ['export'], help: 'only assets without alt text'},
	{name: 'include', kind: 'value', value: 'assets|cms|assets,cms', commands: ['export'], help: 'what to export: asset rows, CMS rows (one per image of every Image and MultiImage field of every item), or both', default: 'assets', complete: ['assets', 'cms', 'assets,cms']},
	{name: 'out', kind: 'value', value: '<file|folder>', commands: ['audit'], help: 'the audit CSV (a jobs file: fill altText, then altbatch run it back); a folder gets the default name inside it', default: 'audit-<site>.csv, with --tokens audit-all-sites.csv', complete: 'file'},
	{name: 'site', kind: 'value', value: '<id>', commands: ['audit'], help: 'the site (this or --tokens is required)'},
	{name: 'tokens', kind: 'value', value: '<file>', commands: ['audit'], help: 'siteId=token lines: every site of the file, each through its own token, into one file', complete: 'file'},
	{name: 'locale', kind: 'values', value: '<id>', commands: ['audit'], help: 'a locale to audit; repeat for several', default: 'the primary locale'},
	{name: 'report', kind: 'value', value: '<file.html>', commands: ['audit'], help: 'an HTML page: coverage per site, page and collection, worst first; the places only the Designer can fix', complete: 'file'},
	{name: 'compare', kind: 'value', value: '<earlier.csv>', commands: ['audit'], help: 'an earlier audit: places fixed, new and still open since (exit 1 only for new ones)', complete: 'file'},
	{name: 'api-base', kind: 'value', value: '<url>', commands: CONNECTION, help: 'API origin, https (http only for localhost)', default: DEFAULTS.apiBase},
	{name: 'rate', kind: 'value', value: '<n>/<s|min>', commands: CONNECTION, help: 'most requests per second or minute', default: `the token's own limit, else ${perMinute(DEFAULTS.rate)}`},
	{name: 'concurrency', kind: 'value', value: '<n>', commands: WRITES, help: 'most requests in flight', default: String(DEFAULTS.concurrency)},
	{name: 'max-attempts', kind: 'value', value: '<n>', commands: CONNECTION, help: 'tries per row for 5xx, network errors and timeouts', default: String(DEFAULTS.maxAttempts)},
	{name: 'timeout', kind: 'value', value: '<ms>', commands: CONNECTION, help: 'per request', default: String(DEFAULTS.timeoutMs)},
	{name: 'dry-run', kind: 'flag', commands: WRITES, help: 'change nothing; report what would change'},
	{name: 'resume', kind: 'flag', commands: ['run'], help: 'carry over rows already done in --out, redo the rest'},
	{name: 'site', kind: 'value', value: '<id>', commands: ['run'], help: 'read the site\'s assets first: rows already right are unchanged, unknown ids fail, without spending PATCHes'},
	{name: 'prefetch', kind: 'flag', commands: WRITES, help: 'what --site does, for every site in the siteId column (each through its own token with --tokens, else WEBFLOW_TOKEN)'},
	{name: 'only-missing', kind: 'flag', commands: ['run'], help: '(with --site or --prefetch) only fill alt text that is empty now; never overwrite'},
	{name: 'site', kind: 'value', value: '<id>', commands: ['undo'], help: 'read the site\'s assets first (list pages) instead of one GET per asset and locale'},
	{name: 'allow-clear', kind: 'flag', commands: ['undo'], help: 'put back an empty alt text by sending altText "" (Webflow does not document it); without, such rows are invalid (needs_allow_clear)'},
	{name: 'staged-only', kind: 'flag', commands: WRITES, help: 'CMS rows: write the staged items only (a published item\'s alt then renders once it is published); without, the live item is written too, never published'},
	{name: 'force', kind: 'flag', commands: ['run'], help: 'write fields the sheet and the site both changed since the export (conflict rows)'},
	{name: 'refuse-warnings', kind: 'value', value: '[codes]', commands: ['run'], help: 'rows whose alt text has these warnings (comma-separated; all when none are named) are invalid, before any request', complete: WARNING_CODES, bare: 'all'},
	{name: 'tokens', kind: 'value', value: '<file>', commands: WRITES, help: 'siteId=token lines: rows go to their siteId\'s token, each with its own budget', complete: 'file'},
	{name: 'max-wait', kind: 'value', value: '<duration>', commands: CONNECTION, help: 'longest Retry-After worth waiting out', default: `${DEFAULTS.maxWaitMs / 60_000}min`},
	{name: 'encoding', kind: 'value', value: '<name>', commands: ['run'], help: 'force the input encoding', default: 'detected', complete: ENCODINGS},
	{name: 'sheet', kind: 'value', value: '<name>', commands: ['run', 'undo'], help: 'the sheet of an .xlsx input (jobs, or the results to undo) to read', default: 'the first'},
	{name: 'token-file', kind: 'value', value: '<path>', commands: CONNECTION, help: 'read the token from this file', default: 'WEBFLOW_TOKEN', complete: 'file'},
	{name: 'token', kind: 'value', commands: CONNECTION, help: 'refused: flags show in ps and shell history', hidden: true},
	{name: 'json', kind: 'flag', commands: CONNECTION, help: 'print the summary as JSON on stdout'},
	{name: 'report', kind: 'value', value: '<file.html>', commands: WRITES, help: 'a self-contained HTML report of the run', complete: 'file'},
	{name: 'redis', kind: 'value', value: '<url>', commands: [...WRITES, 'export', 'audit'], help: 'share the rate budget and 429 pauses with every process using the same token', default: 'REDIS_URL, else none'},
	{name: 'run', kind: 'value', value: '<id>', commands: ['undo'], help: 'undo this run from the ledger (its id as history lists it) instead of a results file'},
	{name: 'last', kind: 'flag', commands: ['undo'], help: 'undo the newest run on record in the ledger'},
	{name: 'site', kind: 'value', value: '<id>', commands: ['history'], help: 'only the runs that touched this site'},
	{name: 'json', kind: 'flag', commands: ['history'], help: 'print the runs as JSON on stdout'},
	{name: 'ledger', kind: 'value', value: '<dir>', commands: [...WRITES, 'history'], help: 'the folder of the ledger, where every write is on record before it is sent', default: 'ALTBATCH_LEDGER, else $XDG_DATA_HOME/altbatch, else ~/.local/share/altbatch', complete: 'file'},
	{name: 'log-level', kind: 'value', value: '<level>', commands: CONNECTION, help: `one of ${LOG_LEVELS.join(', ')}`, default: DEFAULTS.logLevel, complete: LOG_LEVELS},
	{name: 'log-file', kind: 'value', value: '<path>', commands: CONNECTION, help: 'NDJSON logs to this file instead of stderr', complete: 'file'},
	{name: 'quiet', kind: 'flag', commands: CONNECTION, help: 'only the summary and errors on stderr: no progress line, no info or warn logs (a --log-file keeps --log-level)'},
	{name: 'port', kind: 'value', value: '<n>', commands: ['sandbox'], help: 'port to listen on; 0 picks a free one', default: String(DEFAULTS.sandboxPort)},
	{name: 'host', kind: 'value', value: '<address>', commands: ['sandbox'], help: 'address to listen on', default: DEFAULTS.sandboxHost},
	{name: 'token', kind: 'value', value: '<t>', commands: ['sandbox'], help: 'a token for every site, like a workspace token (a stand-in: a flag is fine here)', default: `${DEFAULTS.sandboxToken}, unless --tokens`},
	{name: 'tokens', kind: 'value', value: '<file>', commands: ['sandbox'], help: 'siteId=token lines, as run --tokens takes: each token may touch only its own site', complete: 'file'},
	{name: 'seed', kind: 'value', value: '<assets.csv>', commands: ['sandbox'], help: 'assets to serve, in the export format with a siteId column', default: 'a small demo site', complete: 'file'},
	{name: 'rate', kind: 'value', value: '<n>/<s|min>', commands: ['sandbox'], help: 'per-token rate limit', default: perMinute(DEFAULTS.rate)},
	{name: 'window', kind: 'value', value: 'fixed|sliding', commands: ['sandbox'], help: 'how the limit is counted', default: 'fixed', complete: ['fixed', 'sliding']},
	{name: 'faults', kind: 'value', value: '<kind=share,...>', commands: ['sandbox'], help: `share of PATCHes answered with a fault: ${FAULT_KINDS.join(', ')} (e.g. error500=0.08,drop=0.04)`},
	{name: 'help', kind: 'flag', short: 'h', commands: ['run', 'export', 'undo', 'history', 'audit', 'sandbox', 'demo', 'completion'], help: 'show this command\'s options'},
];

/** The options a command takes, in table order. */
export function optionsOf(command: CommandName): OptionSpec[] {
	return OPTIONS.filter(option => option.commands.includes(command));
}

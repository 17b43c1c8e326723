import {basename, dirname, extname, join, resolve} from 'node:path';
import type {Encoding} from '../files/csv/decode.js';
import {UsageError} from '../errors.js';
import {DEFAULTS} from './options.js';
import type {WarningCode} from '../rows/warnings.js';
import type {Rate} from '../schedule/rate.js';
import {assertTokenFor} from './tokens.js';

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
	/**
	 * How long the prefetch is trusted for a three-way decision: a row written later reads its asset
	 * again just before the write, so an editor's change made during a long run is not reverted.
	 * Not an option (tests shorten it). @default 60 seconds
	 */
	readonly snapshotFreshMs?: number | undefined;
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

/** `<jobs>.results.csv` beside the input; a dry run's `<jobs>.dry-run.csv`, so it never lands on a real run's results. */
export function defaultOut(input: string, {dryRun = false}: {dryRun?: boolean} = {}): string {
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

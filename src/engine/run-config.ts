import type {Encoding} from '../files/csv/decode.js';
import type {WarningCode} from '../rows/warnings.js';
import type {Rate} from '../schedule/rate.js';

/**
 * A run's settings as data: what the engine, the targets, the files and the ledger read. The command
 * line makes one (cli/command-config.ts; defaults and the rules between options in cli/config.ts).
 */

/** Everything `run` needs, checked once at the edge (the CLI) or by `run()` itself. */
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

/** Whether the run sends requests: a real run, a dry run that reads the site first, and undo (which reads the site even on a dry run). */
export function needsNetwork(config: RunConfig): boolean {
	return !config.dryRun || config.site !== undefined || config.prefetch === true || config.undo === true;
}

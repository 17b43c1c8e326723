import type {Status} from '../rows/result.js';
import type {BudgetMode, RateSource} from '../schedule/rate.js';
import type {RunStopped} from '../engine/session.js';
import type {WindowUse} from '../schedule/window-peak.js';

/** Of `total` assets (in a locale), `withAlt` have alt text, `covered` one without a problem: only those count as coverage. */
export type CoverageCount = {readonly total: number; readonly withAlt: number; readonly covered: number};

export type Progress = {
	readonly done: number;
	readonly total: number;
	readonly elapsedMs: number;
	readonly pausedUntil: number;
};

/** What a run did, as data: `--json` prints it, `formatSummary` renders it for people, the report draws it. */
export type Summary = {
	readonly input: string;
	readonly out: string;
	readonly dryRun: boolean;
	readonly rows: number;
	readonly statuses: Record<Status, number>;
	readonly errorCodes: Record<string, number>;
	/** Alt-text quality warnings by code. */
	readonly warnings: Record<string, number>;
	readonly requests: number;
	/** Of `requests`, the prefetch's list pages. */
	readonly listRequests: number;
	/** `--dry-run`: the requests a real run would cost. */
	readonly estimatedRequests: number | undefined;
	readonly tooManyRequests: number;
	readonly pausedSeconds: number;
	readonly elapsedSeconds: number;
	/** Requests per minute actually sent (from the first to the last: a short burst shows far more than its window allows; `window` states it against the budget). */
	readonly effectiveRatePerMinute: number;
	/** The most requests sent in one window of the budget (the token closest to its budget): "11 of 120 in any minute". */
	readonly window?: WindowUse | undefined;
	/** With `--site` or `--prefetch`: alt-text coverage per site and locale, before and after (alt text without a problem). */
	readonly coverage?: ReadonlyArray<{readonly site: string; readonly locale: string; readonly before: CoverageCount; readonly after: CoverageCount}> | undefined;
	/** The rate paced to at the end (all tokens together), and where it came from. */
	readonly rateLimitPerMinute: number;
	/** `none` when nothing was paced (no token opened), `mixed` when the tokens' rates came from different places. */
	readonly rateSource: RateSource | 'none' | 'mixed';
	/** How the budget was kept: `{kind: 'local'}`, `{kind: 'shared', peers}` (Redis), or `{kind: 'fallback', share, reason}` when Redis went away (with several tokens, the least shared of them). */
	readonly budget: BudgetMode;
	/** With `--tokens` or `--prefetch`: the same, per site. */
	readonly sites: Record<string, SiteSummary> | undefined;
	readonly stopped: RunStopped | undefined;
	/** `--resume`: rows carried over from the earlier results, with the status they had there (`updated`, `unchanged`). */
	readonly carriedOver?: number | undefined;
	/** `--report`: where, and whether it was written (the results stand either way; `error` says why not). */
	readonly report?: ReportOutcome | undefined;
	/** Where the earlier results at `out` were kept (a real run never replaces them). */
	readonly earlierResults?: string | undefined;
	/** The run's id in the ledger (`undo --run <id>`), when it is on record. */
	readonly ledgerRun?: string | undefined;
	/** Pending writes of earlier runs read back and put on record before this run wrote, and the reads it took. */
	readonly settled?: {readonly writes: number; readonly reads: number} | undefined;
};

export type ReportOutcome = {readonly path: string; readonly written: boolean; readonly error?: string | undefined};

export type SiteSummary = {
	readonly statuses: Record<Status, number>;
	/** Requests sent for the site: list pages, reads, PATCHes (its token's introspect with the first site of the token). */
	readonly requests: number;
	/** Of `requests`, the prefetch's list pages. */
	readonly listRequests: number;
	/** `--dry-run`: the requests a real run would cost for the site. */
	readonly estimatedRequests: number | undefined;
	/** Rows not written because the sheet and the site both changed a field. */
	readonly conflicts: number;
	readonly tooManyRequests: number;
	/** The pace of the site's token (shared by the sites of a workspace token). */
	readonly rateLimitPerMinute: number;
	readonly stopped: RunStopped | undefined;
};

/** One site's part of an export. */
export type ExportSiteSummary = {
	readonly assets: number;
	readonly rows: number;
	/** Requests for this site (its token's introspect with the first site of the token). */
	readonly requests: number;
	/** Locales asked for that this site does not have (with several sites: left out for it). */
	readonly skippedLocales: readonly string[];
	readonly stopped: RunStopped | undefined;
};

/** What an export did, as data: `--json` prints it, `formatExportSummary` renders it for people. */
export type ExportSummary = {
	readonly out: string;
	/** The one site (`--site`); undefined with `--tokens` alone. */
	readonly site: string | undefined;
	readonly assets: number;
	readonly rows: number;
	readonly requests: number;
	/** Whether the file was written (every site stopped: not). */
	readonly written: boolean;
	/** With `--tokens`: per site, in the file's order. */
	readonly sites: Record<string, ExportSiteSummary> | undefined;
	/** Set when nothing could be exported (every site stopped). */
	readonly stopped: RunStopped | undefined;
};

import type {Session} from '../engine/session.js';
import type {RunLedger} from '../ledger/ledger.js';
import type {LedgerView} from '../ledger/view.js';
import type {ValidJob} from '../rows/job.js';
import type {Outcome} from '../rows/result.js';
import type {SiteShare} from '../engine/share.js';

/**
 * The seam between a run and what its rows write to (issue 17): assets (targets/assets/) and CMS
 * items (targets/cms/). Everything else — reading the file, routing rows to lanes, the budget,
 * retries, results, ledger, report — is the engine's, written once (engine/pipeline.ts,
 * engine/lane.ts). A target of a lane:
 *
 * - keys its rows (`key`): rows of one key are one thing on the site (an asset, an item), decided
 *   in file order, the last row winning per field;
 * - reads the site's current values in pages of 100: up front in `open` (assets, with a
 *   prefetch), or once the file is read in `flush` (CMS), or one read before a row's write;
 * - decides each field three-way (rows/decide.ts; CMS: cms/merge.ts);
 * - writes: one PATCH per asset and locale as rows come (`take`), or up to 100 items a request once
 *   the file is read (`flush`);
 * - and says how a write is undone: each result carries the value before (`previous`), which undo
 *   turns back into a row whose edit is that value and whose base is what was written.
 */
export interface RowTarget<J extends ValidJob> {
	/** Rows with the same key are written together (one item) or in file order (one asset). */
	key(job: J): string;
	/** Once the lane's token is known, before the first row: what the target reads up front. */
	open(start: TargetStart): Promise<void>;
	/**
	 * A row, as the file is read; `done` is called exactly once with its end. The promise, when
	 * there is one, is the target's room for the next row: the reader waits for it.
	 */
	take(job: J, done: (outcome: Outcome) => void): Promise<void> | void;
	/** Once the file is read: every row taken has ended when this resolves. */
	flush(): Promise<void>;
}

/** What a lane knows once its token is introspected, for its targets' `open`. */
export type TargetStart = {
	/** Read the site's current values before the first row (`--site`, `--prefetch`, and the file has rows for this target). */
	readonly prefetch: boolean;
	/** The locales the lane's rows use. */
	readonly locales: ReadonlySet<string>;
	/** The sites (undefined: runs that named none) whose pending writes of earlier runs this lane settles. */
	readonly settles: ReadonlySet<string | undefined>;
	/** Introspect vouched for the token: its first write need not go alone. */
	readonly vouched: boolean;
};

/** What a target needs of its lane: the token's session, the site's share of it, the token's scopes; what it counts. */
export type TargetLane = {
	readonly session: Session;
	readonly share: SiteShare;
	readonly site: string | undefined;
	/** The token's scopes, when introspect said them. */
	readonly scopes: readonly string[] | undefined;
	/** A real run's ledger: every write is on record before it leaves. */
	readonly ledger?: RunLedger | undefined;
	/** The earlier runs on record: pending writes to settle, and what altbatch last wrote (our own writes are the base). */
	readonly view?: LedgerView | undefined;
	/** The site the lane's writes are on record under: its own, or the one site its token reaches. */
	readonly recordSite: string | undefined;
	/** Requests a real run would send (dry run): each target adds its own. */
	wouldSend: number;
	/** A row that cannot go on: the lane's stop, or its token's. */
	stoppedOutcome(): Outcome;
};

import type {RunConfig} from './run-config.js';
import type {RunLedger} from '../ledger/ledger.js';
import type {LedgerView} from '../ledger/view.js';
import type {Logger} from '../logger.js';
import type {ValidJob} from '../rows/job.js';
import type {Outcome} from '../rows/result.js';
import {ratePerMinute} from '../schedule/rate.js';
import {learnBudget, siteRefusal, type Session, type Stop} from './session.js';
import {SiteShare} from './share.js';
import {AssetTarget, type InKeyOrder} from '../targets/assets/target.js';
import type {CmsJob} from '../targets/cms/merge.js';
import {CmsTarget} from '../targets/cms/target.js';
import type {TargetLane} from '../targets/target.js';
import {takeByUrl} from './url-row.js';

export type LaneStats = {
	readonly requests: number;
	/** Of `requests`, the prefetch's list pages. */
	readonly listRequests: number;
	/** Dry run: the requests a real run would send for this lane (its token's introspect, list pages and reads included). */
	readonly wouldSend: number;
	readonly tooManyRequests: number;
	/** The pace of the lane's token (shared with the token's other lanes). */
	readonly ratePerMinute: number;
	readonly stopped: Stop | undefined;
};

/**
 * One site's share of a run (or, without sites, the token's): its session (budget, pauses, retries,
 * stop — shared with the other sites of a workspace token), the site it writes to, its own count
 * of requests and its own stop, and its targets — the site's assets and its CMS items
 * (src/targets/), each taking the lane's rows of its kind.
 */
export class Lane implements TargetLane {
	readonly session: Session;
	readonly site: string | undefined;
	/** Requests a real run would send (dry run): each target adds its own. */
	wouldSend = 0;
	/** The token's scopes, when introspect said them (CMS rows check theirs). */
	scopes: readonly string[] | undefined;
	/** The run's ledger (a real run's; none for a dry run): every write is recorded there before it is sent. */
	readonly ledger: RunLedger | undefined;
	/** The earlier runs on record: their pending writes to settle, and what altbatch last wrote (our own writes are the base). */
	readonly view: LedgerView | undefined;
	/** The lane's asset rows: one PATCH per asset and locale as they come. */
	readonly assets: AssetTarget;
	/** The lane's CMS rows: settled together once the file is read, up to 100 items a request. */
	readonly cms: CmsTarget;
	/** Pending writes of earlier runs this lane settled (assets and CMS), and the reads it took (beyond the prefetch). */
	settled = {writes: 0, reads: 0};
	readonly #share: SiteShare;
	readonly #logger: Logger;

	constructor({session, site, config, logger, ledger, view, backlog, inKeyOrder, fail}: {
		session: Session;
		site: string | undefined;
		config: RunConfig;
		logger: Logger;
		ledger?: RunLedger | undefined;
		view?: LedgerView | undefined;
		/** Asset rows queued beyond those in flight before the reader waits (several lanes read ahead). */
		backlog?: number | undefined;
		/** Rows of one key in file order, across the run's lanes. */
		inKeyOrder: InKeyOrder;
		/** A row whose work threw (a bug of ours) → its outcome. */
		fail: (error: unknown, row: number) => Outcome;
	}) {
		this.session = session;
		this.site = site;
		this.ledger = ledger;
		this.view = view;
		this.#share = new SiteShare(session);
		this.#logger = logger;
		this.assets = new AssetTarget({lane: this, config, logger, backlog, inKeyOrder, fail});
		this.cms = new CmsTarget({lane: this, config, logger});
	}

	/** Requests sent for this lane's rows and site (its token's introspect counted by the first lane to ask). */
	get requests(): number {
		return this.#share.requests + this.#introspected;
	}

	get tooManyRequests(): number {
		return this.#share.tooManyRequests;
	}

	/** This site's share of its token (its targets send through it). */
	get share(): SiteShare {
		return this.#share;
	}

	/** The site this lane's writes are on record under: its own, or the one site its token reaches. */
	get recordSite(): string | undefined {
		return this.site ?? this.#tokenSite;
	}

	/** Why this lane stopped: its token's stop, or its site's alone. */
	get stopped(): Stop | undefined {
		return this.#share.stopped;
	}

	#introspected = 0;
	/** The token's introspect as a real run would send it (1 on the token's first lane, else 0). */
	#introspects = 0;
	/** The one site the token can reach, when no site was named (introspect said so). */
	#tokenSite: string | undefined;

	/** What this lane did, for the summary: its own requests, list pages and 429s, what a real run would send, its stop, and its token's pace. */
	stats(): LaneStats {
		// Counted as sent: an interrupted prefetch leaves no snapshot, but its pages were sent.
		const {listRequests} = this.#share;
		return {
			requests: this.requests,
			listRequests,
			// Counted the way a real run counts its requests: the token's introspect with its first lane.
			wouldSend: this.#introspects + listRequests + this.wouldSend,
			tooManyRequests: this.tooManyRequests,
			ratePerMinute: ratePerMinute(this.session.stats().rate),
			stopped: this.stopped,
		};
	}

	/**
	 * Introspect (budget, scopes, site access; once per token), then each target opened: with
	 * `prefetch` the site's assets in these locales, and the pending writes of earlier runs
	 * settled. A site the token can't reach stops this lane only.
	 */
	async start({prefetch, locales, assets = true, settles = new Set([this.site])}: {prefetch: boolean; locales: ReadonlySet<string>; assets?: boolean; settles?: ReadonlySet<string | undefined>}): Promise<void> {
		// A dry run checks what the real run would: a token without assets:write stops it as it would the real run.
		// A file of CMS rows only needs no asset scope (its CMS target checks its own).
		// Joined before introspect: with other processes on the token, introspect spends the shared budget too.
		await this.session.connectShared();
		const facts = await learnBudget({session: this.session, scope: assets ? 'assets:write' : undefined, logger: this.#logger});
		this.#introspected = facts.requests;
		// A real run introspects the token once (retries apart): the first lane of the token counts it.
		this.#introspects = facts.requests > 0 ? 1 : 0;
		this.scopes = facts.scopes;
		// Without a site named, a token for one site writes to that site: its writes are on record with it.
		this.#tokenSite = this.site === undefined && facts.siteIds?.length === 1 ? facts.siteIds[0] : undefined;
		const refused = this.site === undefined ? undefined : siteRefusal(facts, this.site);
		if (refused !== undefined) {
			this.#share.stop({reason: 'auth', rowCode: 'aborted', message: refused});
		}

		// A lane without a site settles every site its token can reach.
		const start = {prefetch: prefetch && assets, locales, settles: this.site === undefined ? new Set([...settles, ...facts.siteIds ?? []]) : settles, vouched: facts.vouched};
		for (const target of [this.assets, this.cms]) {
			await target.open(start);
		}

		this.settled = {writes: this.assets.settled.writes + this.cms.settled.writes, reads: this.assets.settled.reads + this.cms.settled.reads};
		if (this.settled.writes > 0) {
			this.#logger.info({site: this.site, ...this.settled}, 'pending writes of earlier runs settled: read back from the site');
		}
	}

	/** A row to its target (CMS rows to the CMS, the rest to the assets); the promise is the reader's wait for room. */
	take(job: ValidJob, done: (outcome: Outcome) => void): Promise<void> | undefined {
		if (job.cms) {
			this.cms.take(job as CmsJob, done);
			return undefined;
		}

		if (job.image !== undefined && this.findsCmsImages()) {
			// A URL row with the site read: its asset (unless no asset of the site has the URL) and its CMS images.
			return takeByUrl({
				job,
				done,
				site: this.site ?? this.recordSite,
				asset: job.assetId === '' ? undefined : (one, end) => this.assets.take(one, end),
				cms: (one, end) => {
					this.cms.findByUrl(one, end);
				},
			});
		}

		return this.assets.take(job, done);
	}

	#cmsUnread = false;

	/**
	 * Whether rows keyed by an image URL are looked for among the site's CMS images: the site was
	 * read (`--site`, `--prefetch`; as `hostedUrl` matching) and the token may read and write the
	 * CMS (when introspect says its scopes).
	 */
	findsCmsImages(): boolean {
		if (this.assets.snapshot === undefined) {
			return false;
		}

		const missing = this.scopes === undefined ? [] : ['cms:read', 'cms:write'].filter(scope => !this.scopes?.includes(scope));
		if (missing.length > 0 && !this.#cmsUnread) {
			this.#cmsUnread = true;
			this.#logger.warn({site: this.site, missing}, 'the token has no CMS scopes: image URLs are matched against the site\'s assets only, not its CMS images');
		}

		return missing.length === 0;
	}

	/** Once the file is read: every row of the lane ended (the CMS rows read, decided and written now). */
	flush(): Array<Promise<void>> {
		return [this.cms.flush(), this.assets.flush()];
	}

	stoppedOutcome(): Outcome {
		const own = this.session.stop.current ? undefined : this.stopped;
		return own ? {status: 'not_attempted', errorCode: own.rowCode, errorMessage: own.message, attempts: 0} : this.session.outcome({kind: 'stopped', reply: undefined, attempts: 0});
	}
}

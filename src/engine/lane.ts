import type {RunConfig} from '../cli/config.js';
import {writesOf, writeOutcome} from '../ledger/hook.js';
import type {RunLedger} from '../ledger/ledger.js';
import {settlePending} from '../ledger/settle.js';
import {settleCmsPending} from '../targets/cms/settle.js';
import {shareRequest} from '../targets/cms/read.js';
import {adoptOwnWrites, type LedgerView} from '../ledger/view.js';
import type {Logger} from '../logger.js';
import {applyToSnapshot, decide, decideAgainst, decideUnseen} from '../rows/decide.js';
import {jobKey, type Job, type ValidJob} from '../rows/job.js';
import type {Outcome, Previous} from '../rows/result.js';
import type {Attempted} from '../schedule/attempts.js';
import {ratePerMinute} from '../schedule/rate.js';
import {learnBudget, siteRefusal, type Session, type Stop} from './session.js';
import {coverageOf, listStop, SiteShare, type Coverage, type CurrentAsset, type SiteSnapshot} from '../targets/assets/read.js';

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
 * of requests and its own stop, and — with a prefetch — that site's current assets. Turns a row
 * into its outcome.
 */
export class Lane {
	readonly session: Session;
	readonly site: string | undefined;
	snapshot: SiteSnapshot | undefined;
	/** Alt-text coverage when the snapshot was read (the report's "before"). */
	coverageBefore: Coverage | undefined;
	/** Requests a real run would send (dry run with a prefetch). */
	wouldSend = 0;
	/** The token's scopes, when introspect said them (CMS rows check theirs). */
	scopes: readonly string[] | undefined;
	readonly #share: SiteShare;
	// Until the token is known to be good, the first PATCH goes alone: a refused token then costs
	// one request, not one per request in flight.
	#tokenChecked: Promise<unknown> | undefined;
	readonly #config: RunConfig;
	readonly #logger: Logger;
	/** The run's ledger (a real run's; none for a dry run): every write is recorded there before it is sent. */
	readonly ledger: RunLedger | undefined;
	/** The earlier runs on record: their pending writes to settle, and what altbatch last wrote (our own writes are the base). */
	readonly view: LedgerView | undefined;
	/** Our own writes count as the base in three-way decisions of a run (never of an undo: a later run's write is not what it put back). */
	readonly #ownBase: LedgerView | undefined;
	/** Pending writes of earlier runs this lane settled, and the reads it took (beyond the prefetch). */
	settled = {writes: 0, reads: 0};

	constructor({session, site, config, logger, ledger, view}: {session: Session; site: string | undefined; config: RunConfig; logger: Logger; ledger?: RunLedger | undefined; view?: LedgerView | undefined}) {
		this.session = session;
		this.site = site;
		this.ledger = ledger;
		this.view = view;
		this.#ownBase = config.undo === true ? undefined : view;
		this.#share = new SiteShare(session);
		this.#config = config;
		this.#logger = logger;
	}

	/** Requests sent for this lane's rows and site (its token's introspect counted by the first lane to ask). */
	get requests(): number {
		return this.#share.requests + this.#introspected;
	}

	get tooManyRequests(): number {
		return this.#share.tooManyRequests;
	}

	/** This site's share of its token (CMS rows send through it). */
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
	 * Introspect (budget, scopes, site access; once per token), then with `prefetch` the site's
	 * assets in these locales. A site the token can't reach stops this lane only.
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
		if (facts.vouched) {
			this.#tokenChecked = Promise.resolve();
		}

		// Without a site named, a token for one site writes to that site: its writes are on record with it.
		this.#tokenSite = this.site === undefined && facts.siteIds?.length === 1 ? facts.siteIds[0] : undefined;
		const refused = this.site === undefined ? undefined : siteRefusal(facts, this.site);
		if (refused !== undefined) {
			this.#share.stop({reason: 'auth', rowCode: 'aborted', message: refused});
		}

		if (prefetch && assets && this.site !== undefined && !this.stopped) {
			this.snapshot = await this.#prefetch(this.site, locales);
			this.coverageBefore = this.snapshot ? coverageOf(this.snapshot) : undefined;
		}

		if (this.ledger && this.view && !this.stopped) {
			// A lane without a site settles every site its token can reach.
			await this.#settle(this.ledger, this.view, this.site === undefined ? new Set([...settles, ...facts.siteIds ?? []]) : settles);
		}
	}

	/** Before this run writes: the earlier runs' writes to this site whose answer never came, read and put on record. */
	async #settle(ledger: RunLedger, view: LedgerView, sites: ReadonlySet<string | undefined>): Promise<void> {
		const {settled, reads} = await settlePending({
			ledger,
			view,
			sites,
			snapshot: this.snapshot,
			read: async ({assetId, localeId}) => {
				const current = await this.#readCurrent({assetId, localeId});
				return 'status' in current ? undefined : current;
			},
		});
		const cms = await settleCmsPending({ledger, view, sites, client: this.session.client, request: shareRequest(this.#share, this.session)});
		this.settled = {writes: settled + cms.settled, reads: reads + cms.reads};
		if (settled + cms.settled > 0) {
			this.#logger.info({site: this.site, ...this.settled}, 'pending writes of earlier runs settled: read back from the site');
		}
	}

	stoppedOutcome(): Outcome {
		const own = this.session.stop.current ? undefined : this.stopped;
		return own ? {status: 'not_attempted', errorCode: own.rowCode, errorMessage: own.message, attempts: 0} : this.session.outcome({kind: 'stopped', reply: undefined, attempts: 0});
	}

	/**
	 * A valid row → its outcome: decided against the site (the snapshot, or the asset read just
	 * before the write) where that is known or needed, then sent with only the fields to write.
	 */
	async process(job: ValidJob): Promise<Outcome> {
		if (this.stopped) {
			return this.stoppedOutcome();
		}

		const config = this.#config;
		const {snapshot} = this;
		const ours = snapshot ? adoptOwnWrites({job, current: snapshot.assets.get(job.assetId), site: this.site ?? this.#tokenSite, view: this.#ownBase}) : job;
		let decision = snapshot ? decide({job: ours, snapshot, onlyMissing: config.onlyMissing, force: this.#force}) : decideUnseen(job);
		if (decision.kind === 'done') {
			return this.#sameAsset(job, decision.outcome);
		}

		// Undo reads the site even on a dry run: what it would do depends on it.
		const reads = config.undo === true || !config.dryRun;
		// Without a snapshot, a three-way row is checked against the asset as it is now. With
		// `--only-missing` the asset is read again just before the write either way, so an
		// editor's new alt text is never overwritten. A dry run counts that read as a real run
		// would send it (one GET before the write), whether or not it reads now.
		if (config.onlyMissing || (snapshot === undefined && job.base !== undefined)) {
			if (config.dryRun) {
				this.wouldSend++;
			}

			if (reads && (!config.dryRun || snapshot === undefined)) {
				const fresh = await this.#readCurrent(job);
				if ('status' in fresh) {
					return fresh;
				}

				decision = decideAgainst({job: adoptOwnWrites({job, current: fresh, site: this.site ?? this.#tokenSite, view: this.#ownBase}), current: fresh, onlyMissing: config.onlyMissing, force: this.#force});
				if (decision.kind === 'done') {
					return this.#sameAsset(job, decision.outcome);
				}
			}
		}

		const {job: send, previous} = decision;
		if (config.undo === true && send.altText === '' && config.allowClear !== true) {
			// Decided against the site first, so a row an editor changed since is a conflict, not this.
			return {status: 'invalid', errorCode: 'needs_allow_clear', errorMessage: 'the alt text was empty before the run: putting that back sends altText "", which Webflow does not document; pass --allow-clear to send it', attempts: 0, previous};
		}

		const note = clearing(send, config.dryRun);
		if (config.dryRun) {
			this.wouldSend++;
			if (snapshot) {
				applyToSnapshot(send, snapshot);
			}

			this.#written.set(jobKey(job), job.row);
			return {status: 'would_update', attempts: 0, previous, ...note};
		}

		const outcome = await this.#patch(send, previous);
		if (snapshot && outcome.status === 'updated') {
			applyToSnapshot(send, snapshot);
		}

		if (outcome.status === 'updated' && send.altText !== undefined) {
			this.#written.set(jobKey(job), job.row);
		}

		return {...outcome, previous, ...outcome.status === 'updated' ? note : {}};
	}

	/** Rows of this run that wrote (or would write) an asset's alt text, by asset and locale: an audit file lists one asset once per place it shows. */
	readonly #written = new Map<string, number>();

	/**
	 * An audit file names an asset once per place it shows, and the first changed row writes it:
	 * one write. The asset's other rows are then not "changed on the site" but `unchanged`
	 * (`same_asset`, naming the row that wrote it); one asking for another text is a `conflict`
	 * that says so.
	 */
	#sameAsset(job: Job, outcome: Outcome): Outcome {
		const row = this.#written.get(jobKey(job));
		if (row === undefined || row === job.row || job.base?.altText === undefined) {
			return outcome;
		}

		if (outcome.status === 'unchanged' || outcome.errorCode === 'changed_on_site') {
			return {...outcome, status: 'unchanged', errorCode: 'same_asset', errorMessage: `the same image shows here too: row ${row} wrote its alt text (one write per asset and locale)`};
		}

		if (outcome.status === 'conflict') {
			return {...outcome, errorMessage: `row ${row} of this file already gave this image another alt text (it shows in several places; one image has one alt text): ${outcome.errorMessage ?? ''}`};
		}

		return outcome;
	}

	/** `--force` where the run offers it (undo never overwrites). */
	get #force(): boolean | undefined {
		return this.#config.undo === true ? undefined : this.#config.force ?? false;
	}

	/**
	 * The one place an asset write leaves: its ledger records synced to disk first, then the PATCH
	 * (with its retries), then its outcome on record.
	 */
	async #patch(job: Job, previous: Previous | undefined): Promise<Outcome> {
		const {session} = this;
		let pending;
		try {
			pending = await this.ledger?.pending(writesOf({job, site: this.site ?? this.#tokenSite, previous}));
		} catch (error) {
			session.stop.trigger({reason: 'ledger', rowCode: 'aborted', message: error instanceof Error ? error.message : String(error)});
			return this.stoppedOutcome();
		}

		// Whether any try may have reached the server without its answer coming back whole.
		let uncertain = false;
		const call = () => this.#share.request(async () => {
			const reply = await session.client.patchAsset(job, session.abort);
			uncertain ||= reply.kind === 'transport';
			return reply;
		});
		const attempted = await this.#send(call);
		if (attempted === undefined) {
			pending?.end({result: 'not_written', code: 'not_sent'});
			return this.stoppedOutcome();
		}

		pending?.end(writeOutcome(attempted, uncertain));
		session.heed(attempted);
		return session.outcome(attempted);
	}

	/** The call, after the token's first PATCH (sent alone) vouched for it; undefined when the lane stopped before. */
	async #send(call: () => Promise<Attempted>): Promise<Attempted | undefined> {
		let attempted: Attempted;
		if (this.#tokenChecked === undefined) {
			const probe = call();
			this.#tokenChecked = probe;
			attempted = await probe;
		} else {
			await this.#tokenChecked;
			if (this.stopped) {
				return undefined;
			}

			attempted = await call();
		}

		return attempted;
	}

	/**
	 * The prefetch: the site's assets in every locale its rows use, on its token's budget. A site
	 * that can't be listed stops this lane only (the token's other sites go on).
	 */
	async #prefetch(site: string, locales: ReadonlySet<string>): Promise<SiteSnapshot | undefined> {
		const fetched = await this.#share.list({siteId: site, locales: locales.size > 0 ? locales : ['']});
		if ('attempted' in fetched) {
			this.session.heed(fetched.attempted);
			const stop = listStop({site, attempted: fetched.attempted, session: this.session});
			if (stop) {
				this.#share.stop(stop);
			}

			return undefined;
		}

		this.#logger.info({site, assets: fetched.assets.size, pages: fetched.pages}, 'site assets read');
		return fetched;
	}

	/** `--only-missing`: one asset as it is right now, or the row's outcome when it cannot be read. */
	async #readCurrent(job: {assetId: string; localeId: string | undefined}): Promise<CurrentAsset | Outcome> {
		const {session} = this;
		const attempted = await this.#share.request(() => session.client.getAsset({assetId: job.assetId, localeId: job.localeId}, session.abort));
		if (attempted.kind !== 'ok') {
			session.heed(attempted);
			return session.outcome(attempted);
		}

		const body = attempted.reply.body as {altText?: unknown; displayName?: unknown};
		const altText = typeof body.altText === 'string' ? body.altText : null;
		const displayName = typeof body.displayName === 'string' ? body.displayName : undefined;
		return {
			id: job.assetId,
			displayName,
			altText: new Map([[job.localeId ?? '', altText]]),
		};
	}
}

/** Only undo sends an empty alt text (with `--allow-clear`); its result says so, and undo of that undo reads it back. */
export const CLEARED_CODE = 'alt_text_cleared';

function clearing(job: Job, dryRun: boolean): Pick<Outcome, 'errorCode' | 'errorMessage'> {
	if (job.altText !== '') {
		return {};
	}

	// A dry run sends nothing: it says what a real undo would send.
	return {errorCode: CLEARED_CODE, errorMessage: dryRun ? 'alt text would be cleared: a real undo sends altText "" (--allow-clear), which Webflow does not document' : 'alt text cleared: sent altText "" (--allow-clear), which Webflow does not document'};
}

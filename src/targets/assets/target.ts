import type {RunConfig} from '../../engine/run-config.js';
import {writesOf, writeOutcome} from '../../ledger/hook.js';
import {settlePending} from '../../ledger/settle.js';
import {adoptOwnWrites, type LedgerView} from '../../ledger/view.js';
import type {Logger} from '../../logger.js';
import {applyToSnapshot, decide, decideAgainst, decideUnseen} from '../../rows/decide.js';
import {jobKey, type ValidJob} from '../../rows/job.js';
import type {Outcome, Previous} from '../../rows/result.js';
import type {Attempted} from '../../schedule/attempts.js';
import {RowPool} from '../../schedule/pool.js';
import type {RowTarget, TargetLane, TargetStart} from '../target.js';
import {coverageOf, listAssets, listStop, type Coverage, type CurrentAsset, type SiteSnapshot} from './read.js';

/** Rows of one key one after another, in file order, across every lane of the run (the engine's: `KeyOrder` in engine/row-order.ts). */
/**
 * How long a prefetch is trusted for a three-way write (Webflow's rate window): after it, the row's
 * asset is read again just before the write (one GET), so an editor's change during the run stays.
 */
const SNAPSHOT_FRESH_MS = 60_000;

export type InKeyOrder = (key: string, task: () => Promise<void>) => Promise<void>;

/**
 * Asset rows of one lane (a site, or the token's rows without a site): keyed by asset (rows of one
 * asset in file order, whatever their locale: the display name is the asset's); with a prefetch
 * the site's assets read up front, 100 a page per locale (read.ts), else one GET before a
 * three-way row's write; each row decided three-way against them (the last row wins per asset and
 * locale: a later row's fields were left to it before the row came here); one PATCH per asset and
 * locale, `--concurrency` in flight; undone by a row whose edit is `previous_*` and whose base is
 * what was written.
 */
export class AssetTarget implements RowTarget<ValidJob> {
	/** The site's assets as the prefetch read them, with this run's writes applied. */
	snapshot: SiteSnapshot | undefined;
	/** When the prefetch was read: a three-way write later than `SNAPSHOT_FRESH_MS` after it reads its asset again. */
	#snapshotAt = 0;
	/** Alt-text coverage when the snapshot was read (the report's "before"). */
	coverageBefore: Coverage | undefined;
	/** Pending writes of earlier runs this target settled, and the reads it took (beyond the prefetch). */
	settled = {writes: 0, reads: 0};
	readonly #lane: TargetLane;
	readonly #config: RunConfig;
	readonly #logger: Logger;
	/** Our own writes count as the base in three-way decisions of a run (never of an undo: a later run's write is not what it put back). */
	readonly #ownBase: LedgerView | undefined;
	readonly #pool: RowPool;
	readonly #inKeyOrder: InKeyOrder;
	readonly #fail: (error: unknown, row: number) => Outcome;
	// Until the token is known to be good, the first PATCH goes alone: a refused token then costs
	// one request, not one per request in flight.
	#tokenChecked: Promise<unknown> | undefined;

	constructor({lane, config, logger, backlog, inKeyOrder, fail}: {
		lane: TargetLane;
		config: RunConfig;
		logger: Logger;
		/** Rows queued beyond those in flight before the reader waits (several lanes read ahead). */
		backlog: number | undefined;
		inKeyOrder: InKeyOrder;
		/** A row whose work threw (a bug of ours) → its outcome. */
		fail: (error: unknown, row: number) => Outcome;
	}) {
		this.#lane = lane;
		this.#config = config;
		this.#logger = logger;
		this.#ownBase = config.undo === true ? undefined : lane.view;
		this.#pool = new RowPool(config.concurrency, backlog);
		this.#inKeyOrder = inKeyOrder;
		this.#fail = fail;
	}

	key(job: ValidJob): string {
		return job.assetId;
	}

	/** With a prefetch, the site's assets in these locales; then the pending writes of earlier runs settled. */
	async open({prefetch, locales, settles, vouched}: TargetStart): Promise<void> {
		if (vouched) {
			this.#tokenChecked = Promise.resolve();
		}

		const {site, ledger, view} = this.#lane;
		if (prefetch && site !== undefined && !this.#lane.share.stopped) {
			this.snapshot = await this.#prefetch(site, locales);
			this.#snapshotAt = Date.now();
			this.coverageBefore = this.snapshot ? coverageOf(this.snapshot) : undefined;
		}

		if (ledger && view && !this.#lane.share.stopped) {
			await this.#settle(ledger, view, settles);
		}
	}

	/** Queued on the lane's pool, after the earlier rows of its asset; the promise is the pool's room for the next row. */
	take(job: ValidJob, done: (outcome: Outcome) => void): Promise<void> {
		return this.#pool.add(async () => this.#inKeyOrder(this.key(job), async () => {
			done(await this.process(job).catch((error: unknown) => this.#fail(error, job.row)));
		}));
	}

	/** Every row taken has ended; rejects with the first that threw past its own catch. */
	flush(): Promise<void> {
		return this.#pool.drain();
	}

	/** Before this run writes: the earlier runs' writes to these sites whose answer never came, read and put on record. */
	async #settle(ledger: NonNullable<TargetLane['ledger']>, view: LedgerView, sites: ReadonlySet<string | undefined>): Promise<void> {
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
		this.settled = {writes: settled, reads};
	}

	/**
	 * A valid row → its outcome: decided against the site (the snapshot, or the asset read just
	 * before the write) where that is known or needed, then sent with only the fields to write.
	 */
	async process(job: ValidJob): Promise<Outcome> {
		const lane = this.#lane;
		if (lane.share.stopped) {
			return lane.stoppedOutcome();
		}

		const config = this.#config;
		const {snapshot} = this;
		const ours = snapshot ? adoptOwnWrites({job, current: snapshot.assets.get(job.assetId), site: this.#lane.recordSite, view: this.#ownBase}) : job;
		let decision = snapshot ? decide({job: ours, snapshot, onlyMissing: config.onlyMissing, force: this.#force}) : decideUnseen(job);
		if (decision.kind === 'done') {
			return this.#sameAsset(job, decision.outcome);
		}

		// Undo reads the site even on a dry run: what it would do depends on it.
		const reads = config.undo === true || !config.dryRun;
		// Without a snapshot, a three-way row is checked against the asset as it is now. With
		// `--only-missing` the asset is read again just before the write either way, so an
		// editor's new alt text is never overwritten. A dry run counts that read as a real run
		// would send it (one GET before the write), whether or not it reads now. A three-way row
		// written more than a minute after the prefetch reads its asset again too: an editor may
		// have changed it during a long run (a dry run is done in moments: it counts none).
		const stale = snapshot !== undefined && job.base !== undefined && !config.dryRun && Date.now() - this.#snapshotAt > (config.snapshotFreshMs ?? SNAPSHOT_FRESH_MS);
		if (config.onlyMissing || (snapshot === undefined && job.base !== undefined) || stale) {
			if (config.dryRun) {
				lane.wouldSend++;
			}

			if (reads && (!config.dryRun || snapshot === undefined)) {
				const fresh = await this.#readCurrent(job);
				if ('status' in fresh) {
					return fresh;
				}

				decision = decideAgainst({job: adoptOwnWrites({job, current: fresh, site: this.#lane.recordSite, view: this.#ownBase}), current: fresh, onlyMissing: config.onlyMissing, force: this.#force});
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
			lane.wouldSend++;
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
	#sameAsset(job: ValidJob, outcome: Outcome): Outcome {
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
	async #patch(job: ValidJob, previous: Previous | undefined): Promise<Outcome> {
		const {session, share} = this.#lane;
		let pending;
		try {
			pending = await this.#lane.ledger?.pending(writesOf({job, site: this.#lane.recordSite, previous}));
		} catch (error) {
			session.stop.trigger({reason: 'ledger', rowCode: 'aborted', message: error instanceof Error ? error.message : String(error)});
			return this.#lane.stoppedOutcome();
		}

		// Whether any try may have reached the server without its answer coming back whole.
		let uncertain = false;
		const call = () => share.request(async () => {
			const reply = await session.client.patchAsset(job, session.abort);
			uncertain ||= reply.kind === 'transport';
			return reply;
		});
		const attempted = await this.#send(call);
		if (attempted === undefined) {
			pending?.end({result: 'not_written', code: 'not_sent'});
			return this.#lane.stoppedOutcome();
		}

		pending?.end(writeOutcome(attempted, uncertain));
		session.heed(attempted);
		const outcome = session.outcome(attempted);
		// A row keyed by a Webflow CDN URL names its asset by the URL's id: a 404 says no asset of the
		// site is at that URL, which the contract calls `not_in_site` (as a read of the site would).
		return job.image !== undefined && outcome.status === 'failed' && outcome.httpStatus === 404
			? {...outcome, errorCode: 'not_in_site', errorMessage: `no asset of the site is at ${job.image.url} (404 ${outcome.errorMessage ?? ''})`}
			: outcome;
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
			if (this.#lane.share.stopped) {
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
		const {share, session} = this.#lane;
		const fetched = await listAssets(share, {siteId: site, locales: locales.size > 0 ? locales : ['']});
		if ('attempted' in fetched) {
			session.heed(fetched.attempted);
			const stop = listStop({site, attempted: fetched.attempted, session});
			if (stop) {
				share.stop(stop);
			}

			return undefined;
		}

		this.#logger.info({site, assets: fetched.assets.size, pages: fetched.pages}, 'site assets read');
		return fetched;
	}

	/** `--only-missing`: one asset as it is right now, or the row's outcome when it cannot be read. */
	async #readCurrent(job: {assetId: string; localeId: string | undefined}): Promise<CurrentAsset | Outcome> {
		const {share, session} = this.#lane;
		const attempted = await share.request(() => session.client.getAsset({assetId: job.assetId, localeId: job.localeId}, session.abort));
		if (attempted.kind !== 'ok') {
			session.heed(attempted);
			return session.outcome(attempted);
		}

		const body = attempted.reply.body as {altText?: unknown; displayName?: unknown};
		if (body.altText !== null && typeof body.altText !== 'string') {
			// `altText` is required (string or null): an answer without it is not "no alt text".
			return {status: 'failed', httpStatus: attempted.reply.status, errorCode: 'bad_response', errorMessage: 'the asset answer has no altText (Webflow always sends it, null when there is none): nothing written', attempts: attempted.attempts};
		}

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

function clearing(job: ValidJob, dryRun: boolean): Pick<Outcome, 'errorCode' | 'errorMessage'> {
	if (job.altText !== '') {
		return {};
	}

	// A dry run sends nothing: it says what a real undo would send.
	return {errorCode: CLEARED_CODE, errorMessage: dryRun ? 'alt text would be cleared: a real undo sends altText "" (--allow-clear), which Webflow does not document' : 'alt text cleared: sent altText "" (--allow-clear), which Webflow does not document'};
}

import type {RunConfig} from '../../engine/run-config.js';
import type {Logger} from '../../logger.js';
import type {Outcome} from '../../rows/result.js';
import type {Attempted} from '../../schedule/attempts.js';
import {ITEMS_PER_WRITE} from '../../webflow/client.js';
import type {RowTarget, TargetLane, TargetStart} from '../target.js';
import {planItem, type CmsJob, type ItemPlan, type Live} from './merge.js';
import {readAgain, readCollection, shareRequest, variantKey, withLiveItems, type CollectionState, type Request} from './read.js';
import {itemKey} from '../../rows/cms-row.js';
import {writeItems, type ItemWrite, type WriteHooks} from './write.js';
import {readCmsLocales} from './locales.js';
import {imageRecords, ledgerHooks} from './record.js';
import {settleCmsPending} from './settle.js';
import {atPlaces, readCmsImages, type FoundDone} from './by-url.js';
import type {ValidJob} from '../../rows/job.js';

type Pending = {readonly job: CmsJob; readonly done: (outcome: Outcome) => void};

/**
 * CMS rows of one lane (a site, or the token's rows without a site): taken as the file is read,
 * then — once it is all read — the collections they name are read (fields, then items staged and
 * live, 100 a request per CMS locale), every item's rows decided and merged (merge.ts), and the
 * items written up to 100 a request, staged then live (write.ts). `--staged-only` leaves live items.
 */
export class CmsTarget implements RowTarget<CmsJob> {
	readonly #lane: TargetLane;
	readonly #config: RunConfig;
	readonly #logger: Logger;
	readonly #rows: Pending[] = [];
	/** Rows keyed by an image URL, looked for among the site's CMS images once the file is read. */
	readonly #byUrl: Array<{readonly job: ValidJob; readonly done: FoundDone}> = [];
	/** This lane's CMS rows stopped (a token without cms:write): the message says why. */
	#stopped: string | undefined;
	/** Pending CMS writes of earlier runs this target settled, and the requests it took. */
	settled = {writes: 0, reads: 0};

	constructor({lane, config, logger}: {lane: TargetLane; config: RunConfig; logger: Logger}) {
		this.#lane = lane;
		this.#config = config;
		this.#logger = logger;
	}

	key(job: CmsJob): string {
		return itemKey(job.cms);
	}

	/** Before this run writes: the earlier runs' CMS writes to these sites whose answer never came, read again and put on record. */
	async open({settles}: TargetStart): Promise<void> {
		const {ledger, view, share, session} = this.#lane;
		if (ledger && view && !share.stopped) {
			const {settled, reads} = await settleCmsPending({ledger, view, sites: settles, client: session.client, request: shareRequest(share, session)});
			this.settled = {writes: settled, reads};
		}
	}

	take(job: CmsJob, done: (outcome: Outcome) => void): void {
		let ended = false;
		this.#rows.push({job, done(outcome) {
			if (!ended) {
				ended = true;
				done(outcome);
			}
		}});
	}

	/**
	 * A row keyed by an image URL (a crawler's): once the file is read, the site's CMS images are
	 * read and the row is written to every place that shows its image, as a CMS row would be.
	 * `done` gets each place's outcome (none when the URL is no CMS image of the site).
	 */
	findByUrl(job: ValidJob, done: FoundDone): void {
		this.#byUrl.push({job, done});
	}

	/** Reads, decides and writes every row taken; each row's `done` is called once. */
	async flush(): Promise<void> {
		const found = await this.#found();
		// In file order: the last row of an image wins, whether it named the image or its URL.
		const rows = [...this.#rows.splice(0), ...found.rows].sort((a, b) => a.job.row - b.job.row);
		if (rows.length === 0) {
			return;
		}

		// A dry run checks what the real run would need, as for asset rows.
		const scope = 'cms:write';
		const {scopes} = this.#lane;
		if (scopes !== undefined && !scopes.includes(scope)) {
			this.#stop(`the token is missing the ${scope} scope (it has: ${scopes.join(', ') || 'none'}): the CMS rows${this.#lane.site === undefined ? '' : ` of site ${this.#lane.site}`} are not written`);
		}

		const byCollection = new Map<string, Pending[]>();
		for (const row of await this.#inCmsLocales(rows)) {
			byCollection.set(row.job.cms.collectionId, [...byCollection.get(row.job.cms.collectionId) ?? [], row]);
		}

		await Promise.all([...byCollection].map(async ([collectionId, pending]) => this.#collection(collectionId, pending, found.states.get(collectionId)).catch((error: unknown) => {
			// A bug of ours: every row not yet ended says so, and the run goes on.
			const message = error instanceof Error ? error.message : String(error);
			this.#logger.error({collectionId, error: message}, 'internal error on CMS rows');
			for (const row of pending) {
				row.done({status: 'failed', errorCode: 'internal_error', errorMessage: `internal error: ${message}`, attempts: 0});
			}
		})));
	}

	/**
	 * Rows naming a locale, with it as the CMS locale id: an audit file names a site locale id, which
	 * the CMS calls do not take (get-site maps it, one request per site; a CMS locale id passes).
	 */
	async #inCmsLocales(rows: Pending[]): Promise<Pending[]> {
		const site = this.#lane.site ?? this.#lane.recordSite ?? rows.find(row => row.job.siteId !== undefined)?.job.siteId;
		if (site === undefined || this.#stoppedOutcome() || rows.every(row => row.job.cms.cmsLocaleId === undefined)) {
			return rows;
		}

		const locales = await readCmsLocales({client: this.#lane.session.client, request: this.#request, siteId: site});
		if (this.#config.dryRun) {
			this.#lane.wouldSend++;
		}

		if (locales.unread !== undefined) {
			this.#logger.warn({site, reason: locales.unread}, 'the site\'s locales could not be read (get-site, scope sites:read): CMS locale ids are sent as the rows give them');
		}

		return rows.map(row => {
			const cmsLocaleId = locales.toCms(row.job.cms.cmsLocaleId);
			return cmsLocaleId === row.job.cms.cmsLocaleId ? row : {...row, job: {...row.job, cms: {...row.job.cms, cmsLocaleId}}};
		});
	}

	#stop(message: string): void {
		this.#stopped ??= message;
		this.#logger.warn({site: this.#lane.site}, message);
	}

	/** Rows that cannot go on: the token's or the site's stop, or this lane's CMS stop. */
	#stoppedOutcome(): Outcome | undefined {
		if (this.#lane.share.stopped) {
			return this.#lane.stoppedOutcome();
		}

		return this.#stopped === undefined ? undefined : {status: 'not_attempted', errorCode: 'aborted', errorMessage: this.#stopped, attempts: 0};
	}

	/**
	 * A call's failure as the rows' outcome. A 403 (a missing cms scope, no access) stops the CMS
	 * rows of this lane only; a 401 stops the token (the session decides that).
	 */
	#failure(attempted: Attempted): Outcome {
		const {reply} = attempted;
		if (attempted.kind === 'auth' && reply?.kind === 'error' && reply.status === 403) {
			const scope = /cms:\w+/.exec(reply.message)?.[0];
			this.#stop(`the token was refused on the CMS (403 ${reply.code}: ${reply.message})${scope ? `; give it ${scope}` : ''}: the CMS rows${this.#lane.site === undefined ? '' : ` of site ${this.#lane.site}`} are not written`);
			return {status: 'not_attempted', httpStatus: 403, errorCode: 'aborted', errorMessage: this.#stopped ?? reply.message, attempts: attempted.attempts};
		}

		this.#lane.session.heed(attempted);
		return this.#lane.session.outcome(attempted);
	}

	get #request(): Request {
		return shareRequest(this.#lane.share, this.#lane.session);
	}

	/**
	 * The rows keyed by an image URL, each as a CMS row per place that shows its image, and the
	 * collections read to find them (their rows plan against these, not read again). A token the
	 * CMS refuses (403) finds none: the rows keep to their assets, and the log and the rows say
	 * why; a stopped lane ends them with its stop. A bug of ours ends them `internal_error`.
	 */
	async #found(): Promise<{rows: Pending[]; states: ReadonlyMap<string, CollectionState>}> {
		const lookups = this.#byUrl.splice(0);
		const none = {rows: [], states: new Map<string, CollectionState>()};
		const endAll = (ends: Parameters<FoundDone>[0], unread?: string) => {
			for (const {done} of lookups) {
				done(ends, unread);
			}

			return none;
		};

		const site = this.#lane.site ?? this.#lane.recordSite;
		const stopped = this.#stoppedOutcome();
		if (lookups.length === 0 || site === undefined || stopped) {
			return endAll(stopped ? [{place: undefined, outcome: stopped}] : []);
		}

		try {
			// Staged only: where an image is; the live items of the collections rows write are read with them.
			const index = await readCmsImages({client: this.#lane.session.client, request: this.#request, siteId: site});
			if ('failure' in index) {
				const {reply} = index.failure;
				const why = reply === undefined || reply.kind === 'ok' ? 'no answer' : `${reply.status ?? ''} ${reply.code}: ${reply.message}`.trim();
				const refused = index.failure.kind === 'auth' && reply?.kind === 'error' && reply.status === 403;
				this.#logger.warn({site, reason: why}, refused
					? 'the token cannot read the CMS (cms:read): image URLs are matched against the site\'s assets only'
					: 'the site\'s CMS images could not be read: rows keyed by image URL fail');
				return refused ? endAll([], `the token cannot read the site's CMS (${why})`) : endAll([{place: undefined, outcome: this.#failure(index.failure)}]);
			}

			if (this.#config.dryRun) {
				this.#lane.wouldSend += index.reads;
			}

			return {rows: atPlaces(lookups, index, site), states: index.states};
		} catch (error: unknown) {
			const message = error instanceof Error ? error.message : String(error);
			this.#logger.error({site, error: message}, 'internal error looking for image URLs among the CMS images');
			return endAll([{place: undefined, outcome: {status: 'failed', errorCode: 'internal_error', errorMessage: `internal error: ${message}`, attempts: 0}}]);
		}
	}

	async #collection(collectionId: string, pending: readonly Pending[], known: CollectionState | undefined): Promise<void> {
		const end = (rows: readonly Pending[], outcome: Outcome) => {
			for (const row of rows) {
				row.done(outcome);
			}
		};

		const stopped = this.#stoppedOutcome();
		if (stopped) {
			end(pending, stopped);
			return;
		}

		const {config} = {config: this.#config};
		const locales = new Set(pending.map(row => row.job.cms.cmsLocaleId));
		let listPages = 0;
		const request = this.#request;
		const counted: Request = async (send, kind) => {
			listPages += kind === 'list' ? 1 : 0;
			return request(send, kind);
		};

		// Read already (looking for image URLs, staged) when the rows keep to the primary CMS locale: its live items now.
		const reuse = known !== undefined && [...locales].every(locale => locale === undefined);
		let read = reuse ? (config.stagedOnly === true ? known : await withLiveItems({client: this.#lane.session.client, request: counted, state: known})) : await readCollection({client: this.#lane.session.client, request: counted, collectionId, locales, live: config.stagedOnly !== true});
		if (config.dryRun && !reuse) {
			this.#lane.wouldSend++; // The collection's details.
		}

		if (reuse) {
			// The staged list pages that read it (as `--only-missing` reads them again), one at least; the live ones were counted.
			listPages += Math.max(1, Math.ceil(known.staged.size / ITEMS_PER_WRITE));
		}

		if (read !== undefined && 'failure' in read) {
			end(pending, this.#failure(read.failure));
			return;
		}

		const items = new Map<string, {itemId: string; cmsLocaleId: string | undefined; rows: Pending[]}>();
		for (const row of pending) {
			const {itemId, cmsLocaleId} = row.job.cms;
			const key = variantKey(itemId, cmsLocaleId);
			const item = items.get(key) ?? {itemId, cmsLocaleId, rows: []};
			item.rows.push(row);
			items.set(key, item);
		}

		let {plans, writes} = this.#planAll(read, items);
		if (config.onlyMissing && read !== undefined && writes.staged.length + writes.live.length > 0) {
			// `--only-missing`: the items are read again just before the write (as an asset is), so
			// alt text an editor filled since the first read is never overwritten. A dry run counts
			// those list pages as a real run sends them.
			if (config.dryRun) {
				this.#lane.wouldSend += listPages;
			} else {
				const fresh = await readAgain({client: this.#lane.session.client, request: this.#request, state: read, locales, live: config.stagedOnly !== true});
				if ('failure' in fresh) {
					end(pending, this.#failure(fresh.failure));
					return;
				}

				read = fresh;
				({plans, writes} = this.#planAll(read, items));
			}
		}

		if (config.dryRun) {
			this.#lane.wouldSend += Math.ceil(writes.staged.length / ITEMS_PER_WRITE) + Math.ceil(writes.live.length / ITEMS_PER_WRITE);
			for (const {rows, plan} of plans) {
				this.#settle(rows, plan, () => ({status: 'would_update', attempts: 0}));
			}

			return;
		}

		const hooks = this.#ledgerHooks(collectionId, plans);
		const write = async (live: boolean, list: readonly ItemWrite[]) => list.length === 0 ? new Map<string, Attempted>() : writeItems({client: this.#lane.session.client, request: this.#request, collectionId, live, writes: list, concurrency: this.#config.concurrency, hooks});
		const staged = await write(false, writes.staged);
		// The live item only where the staged one was written (or had nothing to write).
		const liveWrites = writes.live.filter(item => {
			const end = staged.get(item.key);
			return end === undefined || end.kind === 'ok';
		});
		const live = this.#stoppedOutcome() ? new Map<string, Attempted>() : await write(true, liveWrites);
		for (const {key, rows, plan} of plans) {
			this.#settle(rows, plan, (rowPlan) => this.#written({stagedEnd: rowPlan.staged ? staged.get(key) : undefined, liveEnd: rowPlan.liveWrite ? live.get(key) : undefined, liveExpected: rowPlan.liveWrite}));
		}
	}

	/** Every item's plan against the collection as read, and the writes they make (staged, live). */
	#planAll(read: CollectionState | undefined, items: ReadonlyMap<string, {itemId: string; cmsLocaleId: string | undefined; rows: Pending[]}>) {
		const plans = [...items].map(([key, {itemId, cmsLocaleId, rows}]) => ({key, itemId, cmsLocaleId, rows, plan: this.#plan(read, key, rows)}));
		const writes = {staged: [] as ItemWrite[], live: [] as ItemWrite[]};
		for (const {key, itemId, cmsLocaleId, plan} of plans) {
			if (plan.staged) {
				writes.staged.push({key, id: itemId, cmsLocaleId, fieldData: plan.staged});
			}

			if (plan.live) {
				writes.live.push({key, id: itemId, cmsLocaleId, fieldData: plan.live});
			}
		}

		return {plans, writes};
	}

	/** The ledger's hooks for this collection's writes: each item's images on record before its request leaves. */
	#ledgerHooks(collectionId: string, plans: ReadonlyArray<{key: string; itemId: string; cmsLocaleId: string | undefined; rows: readonly Pending[]; plan: ItemPlan}>): WriteHooks | undefined {
		const {ledger, session} = this.#lane;
		if (ledger === undefined) {
			return undefined;
		}

		const records = new Map(plans.map(({key, itemId, cmsLocaleId, rows, plan}) => [key, imageRecords({site: rows[0]?.job.siteId ?? this.#lane.recordSite ?? this.#lane.site, collectionId, itemId, cmsLocaleId, images: plan.images})]));
		return ledgerHooks({
			ledger,
			recordsOf: key => records.get(key) ?? [],
			onUnwritable(error) {
				session.stop.trigger({reason: 'ledger', rowCode: 'aborted', message: error instanceof Error ? error.message : String(error)});
			},
		});
	}

	#plan(read: CollectionState | undefined, key: string, rows: readonly Pending[]): ItemPlan {
		const config = this.#config;
		const {view} = this.#lane;
		const site = this.#lane.recordSite ?? this.#lane.site;
		return planItem({
			ours: config.undo === true || view === undefined ? undefined : (job, alt) => view.lastWrittenCms({...job.cms, site: job.siteId ?? site, live: false}) === alt,
			rows: rows.map(row => row.job),
			fields: read?.fields,
			staged: read?.staged.get(key),
			live: read?.live.get(key),
			onlyMissing: config.onlyMissing,
			force: config.undo === true ? undefined : config.force ?? false,
			stagedOnly: config.stagedOnly === true,
			undo: config.undo === true,
		});
	}

	/** Each row's end from its plan: decided before any write, or from the writes it waited for. */
	#settle(rows: readonly Pending[], plan: ItemPlan, written: (rowPlan: Extract<ItemPlan['rows'] extends ReadonlyMap<CmsJob, infer P> ? P : never, {kind: 'write'}>) => Outcome): void {
		for (const {job, done} of rows) {
			const rowPlan = plan.rows.get(job);
			if (!rowPlan) {
				done({status: 'failed', errorCode: 'internal_error', errorMessage: 'no plan for this CMS row', attempts: 0});
				continue;
			}

			if (rowPlan.kind === 'done') {
				done(withLive(rowPlan.outcome, rowPlan.live));
				continue;
			}

			const stopped = this.#stoppedOutcome();
			const outcome = written(rowPlan);
			done(withLive(outcome.status === 'updated' || outcome.status === 'would_update' || !stopped ? {...outcome, previous: rowPlan.previous} : stopped, rowPlan.live));
		}
	}

	/** A row that waited for writes: `updated` when each it needed landed. */
	#written({stagedEnd, liveEnd, liveExpected}: {stagedEnd: Attempted | undefined; liveEnd: Attempted | undefined; liveExpected: boolean}): Outcome {
		if (stagedEnd && stagedEnd.kind !== 'ok') {
			return this.#failure(stagedEnd);
		}

		if (liveExpected && (liveEnd === undefined || liveEnd.kind !== 'ok')) {
			const failure = liveEnd ? this.#failure(liveEnd) : this.#stoppedOutcome() ?? {status: 'failed', errorCode: 'internal_error', errorMessage: 'the live item was not written', attempts: 0};
			return {...failure, status: failure.status === 'not_attempted' && stagedEnd ? 'failed' : failure.status, errorMessage: `${stagedEnd ? 'the staged item was written, ' : ''}the live item was not: ${failure.errorMessage ?? ''}`};
		}

		const last = liveEnd ?? stagedEnd;
		return {status: 'updated', httpStatus: last?.reply?.kind === 'ok' ? last.reply.status : undefined, attempts: (stagedEnd?.attempts ?? 0) + (liveEnd?.attempts ?? 0)};
	}
}

function withLive(outcome: Outcome, live: Live | undefined): Outcome {
	return live === undefined ? outcome : {...outcome, live};
}

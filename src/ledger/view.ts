import {hostname} from 'node:os';
import type {CurrentAsset} from '../rows/snapshot.js';
import {EDIT_FIELDS, type Base, type EditField, type ValidJob} from '../rows/job.js';
import {isPending, mayHaveLanded, readLedger, type StoredRun, type StoredWrite} from './read.js';

/** A display name is the asset's, whatever the locale. */
const key = (site: string | undefined, assetId: string, localeId: string | undefined, field: string) => `${site ?? ''}\u0000${assetId}\u0000${field === 'displayName' ? '' : localeId ?? ''}\u0000${field}`;

/**
 * What a run needs from the ledger's earlier runs (read once, when first asked, for this API
 * base): the asset writes still pending per site, to settle; and what altbatch last wrote to each
 * field, so a site value that is our own write counts as the base. A run still going (its process
 * alive on this machine) is not settled by another.
 */
export class LedgerView {
	readonly #dir: string;
	readonly #apiBase: string;
	readonly #exclude: string | undefined;
	readonly #isAlive: (pid: number) => boolean;
	#runs: StoredRun[] | undefined;
	#last: Map<string, string> | undefined;

	constructor({dir, apiBase, exclude, isAlive}: {dir: string; apiBase: string; exclude?: string | undefined; isAlive?: ((pid: number) => boolean) | undefined}) {
		this.#dir = dir;
		this.#apiBase = apiBase;
		this.#exclude = exclude;
		this.#isAlive = isAlive ?? (() => false);
	}

	#read(): StoredRun[] {
		if (this.#runs === undefined) {
			const host = hostname();
			this.#runs = readLedger(this.#dir, {apiBase: this.#apiBase}).filter(run => run.id !== this.#exclude);
			this.#running = new Set(this.#runs.filter(run => run.finishedAt === undefined && run.pid !== undefined && run.host === host && this.#isAlive(run.pid)).map(run => run.id));
		}

		return this.#runs;
	}

	#running = new Set<string>();

	/** The writes (asset or CMS) on these sites (undefined: runs that named none) whose answer never came and that no read has settled. */
	pendingOn(sites: ReadonlySet<string | undefined>, kind: 'asset' | 'cms' = 'asset'): StoredWrite[] {
		return this.#read().filter(run => !this.#running.has(run.id)).flatMap(run => run.writes)
			.filter(write => write.target.kind === kind && sites.has(write.target.site) && isPending(write));
	}

	/** What altbatch last wrote (and may have landed) to this image of this CMS item (staged, or live), by its `fileId`. */
	lastWrittenCms(image: {site: string | undefined; collectionId: string; itemId: string; cmsLocaleId: string | undefined; field: string; fileId: string; live: boolean}): string | undefined {
		const cmsKey = (t: typeof image) => ['cms', t.site ?? '', t.collectionId, t.itemId, t.cmsLocaleId ?? '', t.field, t.fileId, t.live ? 'live' : 'staged'].join('\u0000');
		if (this.#lastCms === undefined) {
			this.#lastCms = new Map();
			for (const run of [...this.#read()].reverse()) {
				for (const write of run.writes) {
					if (write.target.kind === 'cms' && mayHaveLanded(write)) {
						this.#lastCms.set(cmsKey(write.target), write.sent);
					}
				}
			}
		}

		return this.#lastCms.get(cmsKey(image));
	}

	#lastCms: Map<string, string> | undefined;

	/** What altbatch last wrote (and may have landed) to this field of this asset and locale. */
	lastWritten(site: string | undefined, assetId: string, localeId: string | undefined, field: EditField): string | undefined {
		if (this.#last === undefined) {
			this.#last = new Map();
			// Oldest run first, each in its order: the latest write wins.
			for (const run of [...this.#read()].reverse()) {
				for (const write of run.writes) {
					if (write.target.kind === 'asset' && mayHaveLanded(write)) {
						this.#last.set(key(write.target.site, write.target.assetId, write.target.localeId, write.field), write.sent);
					}
				}
			}
		}

		return this.#last.get(key(site, assetId, localeId, field));
	}
}

/**
 * Our own writes are ours: where the sheet changed a field since the export and the site holds
 * what altbatch itself last wrote there, that value is the field's base (not an editor's change).
 * A field the sheet left as exported keeps its base: it is still never written.
 */
export function adoptOwnWrites({job, current, site, view}: {job: ValidJob; current: CurrentAsset | undefined; site: string | undefined; view: LedgerView | undefined}): ValidJob {
	const {base} = job;
	if (base === undefined || current === undefined || view === undefined) {
		return job;
	}

	let adopted: Record<string, string> | undefined;
	for (const field of EDIT_FIELDS) {
		const file = job[field];
		const was = base[field];
		if (file === undefined || was === undefined || file === was) {
			continue;
		}

		const now = field === 'displayName' ? current.displayName ?? '' : current.altText.get(job.localeId ?? '') ?? '';
		if (now !== was && now === view.lastWritten(job.siteId ?? site, job.assetId, job.localeId, field)) {
			adopted ??= {...base};
			adopted[field] = now;
		}
	}

	return adopted === undefined ? job : {...job, base: adopted as Base};
}

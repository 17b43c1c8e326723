import type {CurrentAsset, SiteSnapshot} from '../rows/snapshot.js';
import type {RunLedger, Settlement} from './ledger.js';
import type {StoredWrite} from './read.js';
import type {LedgerView} from './view.js';

/** Whether a write landed, from what the site holds now: its value (true), the value before (false), or neither (null). */
export function landed(write: StoredWrite, found: string | null): boolean | null {
	if ((found ?? '') === write.sent) {
		return true;
	}

	return write.before !== undefined && (found ?? '') === (write.before ?? '') ? false : null;
}

/**
 * Settles the pending writes of earlier runs on these sites (undefined: runs that named none): each asset (and locale) read once —
 * from the prefetch when it has it, else one GET on the token's budget — and what it holds now
 * recorded in this run's ledger. Returns how many were settled and how many reads it took.
 */
export async function settlePending({ledger, view, sites, snapshot, read}: {
	ledger: RunLedger;
	view: LedgerView;
	sites: ReadonlySet<string | undefined>;
	snapshot: SiteSnapshot | undefined;
	read: (asset: {assetId: string; localeId: string | undefined}) => Promise<CurrentAsset | undefined>;
}): Promise<{settled: number; reads: number}> {
	const pending = view.pendingOn(sites);
	const groups = new Map<string, StoredWrite[]>();
	for (const write of pending) {
		if (write.target.kind === 'asset') {
			const key = `${write.target.assetId}\u0000${write.target.localeId ?? ''}`;
			groups.set(key, [...groups.get(key) ?? [], write]);
		}
	}

	let reads = 0;
	const settlements: Settlement[] = [];
	for (const writes of groups.values()) {
		const first = writes[0];
		if (first?.target.kind !== 'asset') {
			continue;
		}

		const {assetId, localeId} = first.target;
		const known = snapshot?.siteId === first.target.site ? snapshot?.assets.get(assetId) : undefined;
		const locale = localeId ?? '';
		let current = known && (known.altText.has(locale) || writes.every(write => write.field === 'displayName')) ? known : undefined;
		if (current === undefined) {
			reads++;
			current = await read({assetId, localeId});
		}

		if (current === undefined) {
			continue; // Not readable now (gone, or the run stopped): still pending.
		}

		for (const write of writes) {
			const found = write.field === 'displayName' ? current.displayName ?? null : current.altText.get(locale) ?? null;
			settlements.push({run: write.run, n: write.n, landed: landed(write, found), found});
			// Settled here: a later lane of this run does not read it again.
			write.settled = {landed: landed(write, found), found, by: ledger.id};
		}
	}

	if (settlements.length > 0) {
		ledger.settled(settlements);
	}

	return {settled: settlements.length, reads};
}

import {writeOutcome} from '../../ledger/hook.js';
import type {RunLedger, WriteRecord} from '../../ledger/ledger.js';
import type {ImageWrite} from './merge.js';
import type {ItemWrite, WriteHooks} from './write.js';

/**
 * CMS writes on record (product.md, "Every write on record"): a bulk write of up to 100 items is
 * one pending record per image it changes — site, collection, item, CMS locale, field, image
 * (`fileId` and place), staged or live, the alt before as read (the live item's own for a live
 * write) and the alt sent — synced to disk before the request leaves, then the request's outcome
 * for each of them. A batch that a 400 refuses is `not_written` as a whole (the items not named
 * go again in a request of their own, on record again); a timeout or a truncated answer leaves its
 * records pending, for the next run or undo on the site to settle by reading the items.
 */

/** The records of one item variant's images, staged and live. */
export function imageRecords({site, collectionId, itemId, cmsLocaleId, images}: {
	site: string | undefined;
	collectionId: string;
	itemId: string;
	cmsLocaleId: string | undefined;
	images: readonly ImageWrite[];
}): WriteRecord[] {
	return images.map(image => ({
		target: {kind: 'cms', site, collectionId, itemId, cmsLocaleId, field: image.field, fileId: image.fileId, index: image.index, live: image.live},
		field: 'alt',
		before: image.before,
		sent: image.sent,
		row: image.row,
	}));
}

/**
 * Hooks that put each bulk request on record first: `recordsOf` gives an item's records by its key
 * (staged or live). A ledger that cannot be written sends nothing: `onUnwritable` stops the run.
 */
export function ledgerHooks({ledger, recordsOf, onUnwritable}: {
	ledger: RunLedger;
	recordsOf: (key: string) => readonly WriteRecord[];
	onUnwritable: (error: unknown) => void;
}): WriteHooks {
	return {
		async beforeSend(batch: readonly ItemWrite[], live: boolean) {
			const records = batch.flatMap(item => recordsOf(item.key).filter(record => record.target.kind === 'cms' && record.target.live === live));
			let pending;
			try {
				pending = await ledger.pending(records);
			} catch (error) {
				onUnwritable(error);
				throw error;
			}

			return (attempted, uncertain) => {
				pending.end(attempted === undefined ? {result: 'not_written', code: 'not_sent'} : writeOutcome(attempted, uncertain));
			};
		},
	};
}

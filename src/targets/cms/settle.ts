import type {RunLedger, Settlement, WriteTarget} from '../../ledger/ledger.js';
import type {StoredWrite} from '../../ledger/read.js';
import {landed} from '../../ledger/settle.js';
import type {LedgerView} from '../../ledger/view.js';
import type {WebflowClient} from '../../webflow/client.js';
import {findImage, imagesOf} from './merge.js';
import {readItemLists, variantKey, type Request} from './read.js';

type CmsTarget = Extract<WriteTarget, {kind: 'cms'}>;

/**
 * Settles the pending CMS writes of earlier runs on these sites (product.md, "Pending writes are
 * settled"): per collection, the lists the writes went to (staged or live, per CMS locale) read
 * again, 100 items a request, and each image found by its `fileId` (its place where the id appears
 * twice): what it holds now recorded in this run's ledger — landed (the alt sent), not (the alt
 * before), or neither (`null`; also an item or image gone). A collection that cannot be read now
 * leaves its writes pending. Returns how many were settled and the requests it took.
 */
export async function settleCmsPending({ledger, view, sites, client, request}: {
	ledger: RunLedger;
	view: LedgerView;
	sites: ReadonlySet<string | undefined>;
	client: WebflowClient;
	request: Request;
}): Promise<{settled: number; reads: number}> {
	const byCollection = new Map<string, Array<StoredWrite & {target: CmsTarget}>>();
	for (const write of view.pendingOn(sites, 'cms')) {
		if (write.target.kind === 'cms') {
			const {collectionId} = write.target;
			byCollection.set(collectionId, [...byCollection.get(collectionId) ?? [], write as StoredWrite & {target: CmsTarget}]);
		}
	}

	let reads = 0;
	const counted: Request = async (send, kind) => {
		reads++;
		return request(send, kind);
	};

	const settlements: Settlement[] = [];
	for (const [collectionId, writes] of byCollection) {
		const lists = new Map(writes.map(({target}) => [`${target.live}/${target.cmsLocaleId ?? ''}`, {cmsLocaleId: target.cmsLocaleId, live: target.live}]));
		const items = await readItemLists({client, request: counted, collectionId, lists: [...lists.values()]});
		if ('failure' in items) {
			continue; // Not readable now: still pending.
		}

		for (const write of writes) {
			const {target} = write;
			const item = items.get(`${target.live ? 'live' : 'staged'}/${variantKey(target.itemId, target.cmsLocaleId)}`);
			const value = item?.fieldData[target.field];
			const images = imagesOf(Array.isArray(value) ? 'MultiImage' : 'Image', value);
			const at = findImage(images, {collectionId, itemId: target.itemId, field: target.field, fileId: target.fileId, index: target.index, cmsLocaleId: target.cmsLocaleId}, write.before ?? undefined);
			const image = at === undefined ? undefined : images[at];
			const found = image === undefined ? null : image.alt;
			const settled = image === undefined ? null : landed(write, found);
			settlements.push({run: write.run, n: write.n, landed: settled, found});
			// Settled here: a later lane of this run does not read it again.
			write.settled = {landed: settled, found, by: ledger.id};
		}
	}

	if (settlements.length > 0) {
		ledger.settled(settlements);
	}

	return {settled: settlements.length, reads};
}

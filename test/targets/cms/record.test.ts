import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {RunLedger} from '../../../src/ledger/ledger.js';
import {readRunFile} from '../../../src/ledger/read.js';
import {addGalleryCollection} from '../../../src/sandbox/cms-demo.js';
import type {ImageValue} from '../../../src/sandbox/cms.js';
import {newSite, objectId} from '../../../src/sandbox/state.js';
import type {Request} from '../../../src/targets/cms/read.js';
import {imageRecords, ledgerHooks} from '../../../src/targets/cms/record.js';
import {writeItems, type ItemWrite} from '../../../src/targets/cms/write.js';
import {WebflowClient} from '../../../src/webflow/client.js';
import {patchesSent, startSandbox, tempDir} from '../../helpers.js';

/** One try per request, no pacing: what the hooks do is under test, not the session. */
const once: Request = async send => {
	const reply = await send(undefined);
	return reply.kind === 'ok' ? {kind: 'ok', reply, attempts: 1} : {kind: 'failed', reply, attempts: 1};
};

describe('CMS writes on record (record.ts)', () => {
	it('sends a batch only once its records are on disk, and nothing when the ledger cannot be written', async () => {
		const site = newSite(objectId('cms-record/site'), 0);
		const collection = addGalleryCollection({site, label: 'Gallery', items: 3, images: 1});
		const sandbox = await startSandbox({sites: [site]});
		const client = new WebflowClient({apiBase: sandbox.url, token: 'sandbox-token', timeoutMs: 5000, concurrency: 4});
		const writes: ItemWrite[] = [...collection.items.keys()].map((id, i) => {
			const [image] = collection.items.get(id)!.variants.values().next().value!.fieldData.gallery as ImageValue[];
			return {key: id, id, cmsLocaleId: undefined, fieldData: {gallery: [{...image!, alt: `Alt ${i}`}]}};
		});
		const recordsOf = (key: string) => imageRecords({site: site.id, collectionId: collection.id, itemId: key, cmsLocaleId: undefined, images: [{row: 2, field: 'gallery', fileId: key, index: 1, live: false, before: null, sent: 'x'}]});
		const dir = await tempDir();
		const header = {command: ['run', 'x.csv'], apiBase: sandbox.url, jobs: undefined, results: undefined, sites: [site.id], undo: false};

		const ledger = RunLedger.open({dir: join(dir, 'a'), run: header});
		const onRecordBeforeSent: number[] = [];
		const hooks = ledgerHooks({ledger, recordsOf, onUnwritable: () => undefined});
		const ends = await writeItems({client, request: async (send, kind) => {
			onRecordBeforeSent.push(readRunFile(ledger.path)!.writes.length);
			return once(send, kind);
		}, collectionId: collection.id, live: false, writes, concurrency: 1, hooks});
		expect(onRecordBeforeSent).toEqual([3]);
		expect([...ends.values()].map(end => end.kind)).toEqual(['ok', 'ok', 'ok']);
		await ledger.close({statuses: {}});
		expect(readRunFile(ledger.path)!.writes.map(write => write.result)).toEqual(['written', 'written', 'written']);

		// A ledger that cannot be written (closed here; a full disk the same): nothing leaves, the run is told to stop.
		const broken = RunLedger.open({dir: join(dir, 'b'), run: header});
		await broken.close({statuses: {}});
		const stops: unknown[] = [];
		const refused = await writeItems({client, request: once, collectionId: collection.id, live: false, writes, concurrency: 1, hooks: ledgerHooks({ledger: broken, recordsOf, onUnwritable: error => stops.push(error)})});
		expect([...refused.values()].map(end => end.kind)).toEqual(['stopped', 'stopped', 'stopped']);
		expect(stops).toHaveLength(1);
		expect(String(stops[0])).toMatch(/cannot be written/);
		expect(patchesSent(sandbox)).toHaveLength(1);
	});
});

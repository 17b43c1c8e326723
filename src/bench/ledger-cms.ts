/**
 * Bench cases on CMS writes on the ledger: what a bulk CMS run writes to the ledger (bytes per
 * image written, requests with and without it), what `--only-missing`'s second read of the items
 * costs, and what settling pending CMS writes costs (requests per pending write).
 */
import {statSync} from 'node:fs';
import {readdir, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {RunLedger, type WriteRecord} from '../ledger/ledger.js';
import {silentLogger} from '../logger.js';
import {run} from '../commands/run.js';
import {addGalleryCollection} from '../sandbox/cms-demo.js';
import type {ImageValue, SandboxCollection} from '../sandbox/cms.js';
import {Sandbox} from '../sandbox/server.js';
import {newSite, objectId, type SandboxSite} from '../sandbox/state.js';
import {benchDir, CaseFailed, config, table} from './support.js';

const ITEMS = 1000;
const HEADER = 'siteId,collectionId,itemId,field,fileId,index,cmsLocaleId,altText';

function fixture(label: string): {site: SandboxSite; collection: SandboxCollection} {
	const site = newSite(objectId(`${label}/site`), 0);
	return {site, collection: addGalleryCollection({site, label: 'Products', items: ITEMS, images: 3})};
}

function firstImage(collection: SandboxCollection, itemId: string): ImageValue {
	const image = (collection.items.get(itemId)?.variants.values().next().value?.fieldData.gallery as ImageValue[] | undefined)?.[0];
	if (!image) {
		throw new CaseFailed(`item ${itemId} has no image`);
	}

	return image;
}

async function ledgerBytes(ledger: string): Promise<number> {
	return (await readdir(join(ledger, 'runs'))).reduce((sum, name) => sum + statSync(join(ledger, 'runs', name)).size, 0);
}

/**
 * 1,000 published items, the first image of each given a 50-character alt: without the ledger, with
 * it, and with it and `--only-missing` — requests, ledger bytes per image written (each row writes
 * the staged and the live item), time.
 */
export async function cmsLedgerCost(): Promise<void> {
	for (const mode of ['no ledger', 'ledger', 'ledger, --only-missing'] as const) {
		const dir = await benchDir();
		const {site, collection} = fixture('bench-ledger-cms');
		const sandbox = new Sandbox({sites: [site], rate: {count: 1e9, windowMs: 1000}, tokens: [{token: 'bench'}]});
		const url = await sandbox.listen();
		const input = join(dir, 'cms.csv');
		const lines = [...collection.items.keys()].map((itemId, i) => `${site.id},${collection.id},${itemId},gallery,${firstImage(collection, itemId).fileId},1,,Alt text of product photo ${String(i).padStart(4, '0')} shown on the page`);
		await writeFile(input, `${HEADER}\n${lines.join('\n')}\n`);
		const ledger = mode === 'no ledger' ? undefined : join(dir, 'ledger');
		const started = performance.now();
		const summary = await run(config({input, apiBase: url, site: site.id, rate: {count: 1e6, windowMs: 1000}, ledger, onlyMissing: mode.endsWith('only-missing')}), {logger: silentLogger()});
		const seconds = (performance.now() - started) / 1000;
		await sandbox.close();
		const bytes = ledger === undefined ? 0 : await ledgerBytes(ledger);
		await rm(dir, {recursive: true, force: true});
		table.push({
			case: `CMS run, 1,000 published items, one image each (${mode})`,
			updated: summary.statuses.updated,
			requests: summary.requests,
			'list pages': summary.listRequests,
			'ledger bytes per image written': ledger === undefined ? '-' : (bytes / (2 * ITEMS)).toFixed(1),
			s: seconds.toFixed(2),
		});
	}
}

/**
 * 1,000 pending CMS writes of a killed run (staged, one per item of a 1,000-item collection; half of
 * them landed), then a one-row asset run on the site: the list pages it reads to settle them.
 */
export async function settleCmsCost(): Promise<void> {
	const dir = await benchDir();
	const {site, collection} = fixture('bench-settle-cms');
	const sandbox = new Sandbox({sites: [site], rate: {count: 2000, windowMs: 1000}, tokens: [{token: 'bench'}]});
	const url = await sandbox.listen();
	const ledger = join(dir, 'ledger');
	const killed = RunLedger.open({dir: ledger, run: {command: ['run', 'cms.csv'], apiBase: url, jobs: undefined, results: undefined, sites: [site.id], undo: false}});
	const records: WriteRecord[] = [...collection.items.keys()].map((itemId, i) => ({target: {kind: 'cms', site: site.id, collectionId: collection.id, itemId, cmsLocaleId: undefined, field: 'gallery', fileId: firstImage(collection, itemId).fileId, index: 1, live: false}, field: 'alt', before: null, sent: `Sent ${i}`, row: i + 2}));
	await killed.pending(records);
	for (const [i, itemId] of [...collection.items.keys()].slice(0, ITEMS / 2).entries()) {
		firstImage(collection, itemId).alt = `Sent ${i}`;
	}

	const input = join(dir, 'jobs.csv');
	await writeFile(input, `assetId,altText\n${[...site.assets.keys()][0] ?? ''},One asset\n`);
	const started = performance.now();
	const summary = await run(config({input, apiBase: url, ledger}), {logger: silentLogger()});
	const seconds = (performance.now() - started) / 1000;
	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	if (summary.settled?.writes !== ITEMS) {
		throw new CaseFailed(`settled ${summary.settled?.writes ?? 0} of ${ITEMS} pending CMS writes`);
	}

	table.push({
		case: 'settle 1,000 pending CMS writes (1,000-item collection, staged)',
		settled: summary.settled?.writes ?? 0,
		'reads for them': summary.settled?.reads ?? 0,
		'extra requests per pending write': ((summary.settled?.reads ?? 0) / ITEMS).toFixed(3),
		s: seconds.toFixed(2),
	});
}

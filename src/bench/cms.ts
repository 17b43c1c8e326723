import {rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {silentLogger} from '../logger.js';
import {run} from '../commands/run.js';
import {addGalleryCollection} from '../sandbox/cms-demo.js';
import type {ImageValue} from '../sandbox/cms.js';
import {mulberry32} from '../sandbox/faults.js';
import {Sandbox} from '../sandbox/server.js';
import {newSite, objectId} from '../sandbox/state.js';
import {benchDir, CaseFailed, config, spanMs, table, windowsNeedMs} from './support.js';

const ITEMS = 2000;
const IMAGES = 5;
const CHANGED = 0.05;
/** Webflow's 60/min (Starter) scaled 1:100 in time: 60 requests per 600 ms window. */
const LIMIT = {count: 60, windowMs: 600};

type Pick = {itemId: string; fileId: string; index: number};

/** 2,000 published items with a five-image MultiImage field; 5% of the images picked (the same every time). */
function fixture() {
	const site = newSite(objectId('bench-cms/site'), 0);
	const collection = addGalleryCollection({site, label: 'Products', items: ITEMS, images: IMAGES});
	const random = mulberry32(7);
	const picks = new Map<string, Pick>();
	const items = [...collection.items.values()];
	while (picks.size < ITEMS * IMAGES * CHANGED) {
		const item = items[Math.floor(random() * items.length)];
		const index = Math.floor(random() * IMAGES);
		const image = (item?.variants.get(site.primaryLocale)?.fieldData.gallery as ImageValue[] | undefined)?.[index];
		if (item && image) {
			picks.set(`${item.id}/${index}`, {itemId: item.id, fileId: image.fileId, index});
		}
	}

	return {site, collection, picks: [...picks.values()]};
}

/**
 * The loop a user would otherwise write: list the items (to keep the other images of the field),
 * then per changed item one PATCH of the staged item and one of the live item, one after another,
 * waiting out each 429's Retry-After.
 */
async function perItemLoop({url, collectionId, picks}: {url: string; collectionId: string; picks: readonly Pick[]}): Promise<number> {
	const headers = {authorization: 'Bearer bench', 'content-type': 'application/json'};
	let requests = 0;
	const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
		for (;;) {
			requests++;
			const response = await fetch(`${url}${path}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
			if (response.status !== 429) {
				return response.json();
			}

			await response.body?.cancel();
			await new Promise(resolve => setTimeout(resolve, Number(response.headers.get('retry-after') ?? '1') * 1000));
		}
	};

	const galleries = new Map<string, ImageValue[]>();
	for (let offset = 0; offset < ITEMS; offset += 100) {
		const page = await call('GET', `/v2/collections/${collectionId}/items?offset=${offset}&limit=100`) as {items: Array<{id: string; fieldData: {gallery: ImageValue[]}}>};
		for (const item of page.items) {
			galleries.set(item.id, item.fieldData.gallery);
		}
	}

	const byItem = new Map<string, Pick[]>();
	for (const pick of picks) {
		byItem.set(pick.itemId, [...byItem.get(pick.itemId) ?? [], pick]);
	}

	for (const [itemId, itemPicks] of byItem) {
		const gallery = (galleries.get(itemId) ?? []).map((image, i) => itemPicks.some(pick => pick.index === i) ? {...image, alt: `Alt for ${image.fileId}`} : image);
		for (const live of [false, true]) {
			await call('PATCH', `/v2/collections/${collectionId}/items${live ? '/live' : ''}`, {items: [{id: itemId, fieldData: {gallery}}]});
		}
	}

	return requests;
}

/** `npm run bench cms`: 10,000 CMS images, 5% changed, through altbatch (100 items a request) and through a per-item loop. */
export async function cmsBulk(): Promise<void> {
	const dir = await benchDir();
	const rows: Array<Record<string, string | number>> = [];
	for (const way of ['altbatch', 'per-item loop'] as const) {
		const {site, collection, picks} = fixture();
		const sandbox = new Sandbox({sites: [site], rate: LIMIT, tokens: [{token: 'bench'}], requestLog: 1_000_000});
		const url = await sandbox.listen();
		const changedItems = new Set(picks.map(pick => pick.itemId)).size;
		const started = performance.now();
		let requests: number;
		if (way === 'altbatch') {
			const input = join(dir, 'cms.csv');
			const lines = picks.map(pick => `${collection.id},${pick.itemId},gallery,${pick.fileId},${pick.index + 1},Alt for ${pick.fileId}`);
			await writeFile(input, ['collectionId,itemId,field,fileId,index,altText', ...lines].join('\n'));
			const summary = await run(config({input, apiBase: url, site: site.id}), {logger: silentLogger()});
			if (summary.statuses.updated !== picks.length) {
				throw new CaseFailed(`altbatch updated ${summary.statuses.updated} of ${picks.length} CMS rows`);
			}

			requests = summary.requests;
		} else {
			requests = await perItemLoop({url, collectionId: collection.id, picks});
		}

		const ms = performance.now() - started;
		const accepted = sandbox.requests.filter(r => r.status !== 429);
		const written = [...collection.items.values()].flatMap(item => (item.variants.get(site.primaryLocale)?.live?.gallery as ImageValue[] | undefined) ?? []).filter(image => image.alt !== null).length;
		await sandbox.close();
		if (written !== picks.length) {
			throw new CaseFailed(`${way}: ${written} of ${picks.length} live images hold the new alt`);
		}

		const goal = 1 + 1 + 2 * Math.ceil(ITEMS / 100) + 2 * Math.ceil(changedItems / 100);
		rows.push({
			case: `CMS: ${ITEMS} items × ${IMAGES}-image MultiImage, ${picks.length} images (${changedItems} items) changed, limit ${LIMIT.count}/${LIMIT.windowMs} ms (60/min scaled 1:100)`,
			way,
			requests,
			'answered 429': sandbox.requests.filter(r => r.status === 429).length,
			'requests per changed image': (requests / picks.length).toFixed(3),
			'time (s)': (ms / 1000).toFixed(2),
			'windows need (s)': (windowsNeedMs(accepted.length, LIMIT) / 1000).toFixed(2),
			'at 60/min (min)': (Math.max(0, Math.ceil(requests / 60) - 1)).toFixed(0),
			'goal: introspect + collection + lists ×2 + ⌈items/100⌉ ×2': way === 'altbatch' ? goal : '',
			span: (spanMs(accepted) / 1000).toFixed(2),
		});
	}

	await rm(dir, {recursive: true, force: true});
	table.push(...rows);
	const [ours] = rows;
	if (ours && Number(ours.requests) > 1 + 1 + 2 * Math.ceil(ITEMS / 100) + 2 * Math.ceil(ITEMS / 100)) {
		throw new CaseFailed(`altbatch sent ${ours.requests} requests`);
	}
}

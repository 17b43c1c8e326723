import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../../../src/cli/config.js';
import {exportSite} from '../../../src/commands/export.js';
import {readCsvFile} from '../../../src/files/csv/input.js';
import {silentLogger} from '../../../src/logger.js';
import {addGalleryCollection} from '../../../src/sandbox/cms-demo.js';
import type {ImageValue, SandboxCollection} from '../../../src/sandbox/cms.js';
import {newSite, objectId, type SandboxSite} from '../../../src/sandbox/state.js';
import {results, runJob, startSandbox, tempDir, writeCsv} from '../../helpers.js';

/**
 * CMS rows against what Webflow really sends and takes (its OpenAPI description), where our own
 * sandbox used to agree with our client instead: raw MultiImage entries, `skipInvalidFiles`, error
 * details as `{param, description}`, scopes written `CMS:write`.
 */

const FAST = {count: 100_000, windowMs: 1000};
const HEADER = ['siteId', 'collectionId', 'itemId', 'field', 'fileId', 'index', 'cmsLocaleId', 'altText', 'exportedAltText'];

function gallerySite(label: string, {items = 1, images = 2} = {}): {site: SandboxSite; collection: SandboxCollection; ids: string[]} {
	const site = newSite(objectId(`${label}/site`), 0);
	const collection = addGalleryCollection({site, label: 'Gallery', items, images});
	return {site, collection, ids: [...collection.items.keys()]};
}

const variant = (collection: SandboxCollection, itemId: string) => collection.items.get(itemId)!.variants.values().next().value!;

async function readSheet(path: string): Promise<Array<Record<string, string>>> {
	const records: string[][] = [];
	await readCsvFile({path, onRecord: ({fields}) => void records.push(fields)});
	const [header, ...rows] = records;
	return rows.map(row => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ''])));
}

describe('CMS rows against Webflow\'s real shapes', () => {
	it('changes only the target entry\'s alt in a MultiImage: nulls, images without a fileId, unknown keys and the fileId\'s case pass byte for byte; index is the raw place', async () => {
		const {site, collection, ids} = gallerySite('shapes-raw', {images: 2});
		const [a, b] = variant(collection, ids[0]!).fieldData.gallery as [ImageValue, ImageValue];
		const raw = [null, {url: 'https://example.com/external.jpg', alt: 'ext'}, {fileId: a.fileId, url: a.url, note: {kept: true}}, {fileId: b.fileId.toUpperCase(), url: b.url, alt: 'b'}];
		for (const held of [variant(collection, ids[0]!)]) {
			held.fieldData.gallery = structuredClone(raw);
			held.live = structuredClone(held.fieldData);
		}

		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const out = join(dir, 'export.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, include: new Set(['cms']), out, apiBase: sandbox.url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const exported = (await readSheet(out)).filter(row => row.itemId === ids[0]);
		// The images a row can name, at their places in the field as Webflow holds it.
		expect(exported.map(row => [row.fileId, row.index])).toEqual([[a.fileId, '3'], [b.fileId, '4']]);

		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, [site.id, collection.id, ids[0]!, 'gallery', a.fileId, '3', '', 'A new alt', '']]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST});
		expect(summary.statuses.updated).toBe(1);
		const expected = [raw[0], raw[1], {...raw[2], alt: 'A new alt'}, raw[3]];
		expect(variant(collection, ids[0]!).fieldData.gallery).toEqual(expected);
		expect(variant(collection, ids[0]!).live!.gallery).toEqual(expected);
		// Byte for byte: the neighbours' keys in their order, the upper-case fileId as it was.
		expect(JSON.stringify(variant(collection, ids[0]!).fieldData.gallery)).toBe(JSON.stringify(expected));
	});

	it('sends skipInvalidFiles=false: a write Webflow would answer 200 while dropping an invalid neighbour fails the row instead, the neighbour kept', async () => {
		const {site, collection, ids} = gallerySite('shapes-skip', {images: 2});
		const held = variant(collection, ids[0]!);
		const [a, b] = held.fieldData.gallery as [ImageValue, ImageValue];
		const broken = {fileId: 'not-a-webflow-id', url: 'https://example.com/broken.jpg', alt: 'broken'};
		held.fieldData.gallery = [a, broken, b];
		held.live = structuredClone(held.fieldData);
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, [site.id, collection.id, ids[0]!, 'gallery', a.fileId, '1', '', 'Alt of a', '']]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST, stagedOnly: true});
		expect(summary.statuses).toMatchObject({failed: 1});
		const [row] = await results(`${input}.results.csv`);
		expect(row).toMatchObject({status: 'failed', error_code: 'validation_error'});
		expect(row!.error_message).toMatch(/items\[0]\.fieldData\.gallery/);
		expect(held.fieldData.gallery).toEqual([a, broken, b]);
	});

	it('reads Webflow\'s {param, description} details: the refused item named in the message and taken out, the rest written', async () => {
		const {site, collection, ids} = gallerySite('shapes-details', {items: 8, images: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		sandbox.refuseItems(ids[5]!);
		const dir = await tempDir();
		const rows = ids.map((itemId, i) => [site.id, collection.id, itemId, 'gallery', (variant(collection, itemId).fieldData.gallery as ImageValue[])[0]!.fileId, '1', '', `Alt ${i}`, '']);
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, ...rows]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST, stagedOnly: true});
		expect(summary.statuses).toMatchObject({updated: 7, failed: 1});
		const out = await results(`${input}.results.csv`);
		expect(out[5]!.error_message).toBe('Validation Error (items[5].fieldData: the item cannot be updated)');
		// The first request names item 5; the second carries the other seven.
		expect(sandbox.requests.filter(r => r.method === 'PATCH')).toHaveLength(2);
	});

	it('stops halving a batch once both halves are refused with the whole batch\'s error', async () => {
		const {site, collection, ids} = gallerySite('shapes-batch', {items: 8, images: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST, cmsErrorDetails: false});
		sandbox.refuseItems(...ids);
		const dir = await tempDir();
		const rows = ids.map((itemId, i) => [site.id, collection.id, itemId, 'gallery', (variant(collection, itemId).fieldData.gallery as ImageValue[])[0]!.fileId, '1', '', `Alt ${i}`, '']);
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, ...rows]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST, stagedOnly: true});
		expect(summary.statuses).toMatchObject({failed: 8});
		// The batch, then its two halves: not 1 + 2 + 4 + 8.
		expect(sandbox.requests.filter(r => r.method === 'PATCH')).toHaveLength(3);
	});

	it('takes scopes as Webflow\'s description writes them (CMS:write)', async () => {
		const {site, collection, ids} = gallerySite('shapes-scopes', {images: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'upper', scopes: ['Assets:Read', 'Assets:Write', 'CMS:read', 'CMS:write', 'Sites:read']}]});
		const dir = await tempDir();
		const fileId = (variant(collection, ids[0]!).fieldData.gallery as ImageValue[])[0]!.fileId;
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, [site.id, collection.id, ids[0]!, 'gallery', fileId, '1', '', 'Upper-case scopes', '']]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST, token: 'upper'});
		expect(summary.statuses).toMatchObject({updated: 1});
		expect((variant(collection, ids[0]!).fieldData.gallery as ImageValue[])[0]!.alt).toBe('Upper-case scopes');
	});
});

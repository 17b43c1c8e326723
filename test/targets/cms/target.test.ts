import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {addGalleryCollection} from '../../../src/sandbox/cms-demo.js';
import type {ImageValue, SandboxCollection} from '../../../src/sandbox/cms.js';
import {newSite, objectId, type SandboxSite} from '../../../src/sandbox/state.js';
import {results, runJob, startSandbox, tempDir, until, writeCsv} from '../../helpers.js';

const FAST = {count: 100_000, windowMs: 1000};
const HEADER = ['siteId', 'collectionId', 'itemId', 'field', 'fileId', 'index', 'cmsLocaleId', 'altText', 'exportedAltText'];

function gallerySite(label: string, {items = 3, images = 3, draftEvery = 0, locales = 0} = {}): {site: SandboxSite; collection: SandboxCollection} {
	const site = newSite(objectId(`${label}/site`), locales);
	const collection = addGalleryCollection({site, label: 'Gallery', items, images, draftEvery});
	return {site, collection};
}

const staged = (collection: SandboxCollection, itemId: string, locale?: string) => {
	const variants = collection.items.get(itemId)!.variants;
	return (locale === undefined ? variants.values().next().value! : variants.get(locale)!);
};

const gallery = (fieldData: Record<string, unknown> | undefined) => fieldData?.gallery as ImageValue[];

/** A row editing image `j` of item `i`'s gallery (as exported: base empty). */
function row(site: SandboxSite, collection: SandboxCollection, i: number, j: number, altText: string, {base = '', locale = ''} = {}): string[] {
	const itemId = [...collection.items.keys()][i]!;
	const image = gallery(staged(collection, itemId).fieldData)[j]!;
	return [site.id, collection.id, itemId, 'gallery', image.fileId, String(j + 1), locale, altText, base];
}

describe('CMS rows in a run', () => {
	it('merges edits into MultiImage fields, writes staged and live items 100 a request, and keeps every other image whole', async () => {
		const {site, collection} = gallerySite('cms-run-basic', {items: 150, images: 3, draftEvery: 50});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ids = [...collection.items.keys()];
		const rows = ids.flatMap((_, i) => [row(site, collection, i, 1, `Second ${i}`)]);
		rows.push(row(site, collection, 0, 2, 'Third 0'));
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, ...rows]);
		const before = structuredClone(gallery(staged(collection, ids[0]!).fieldData));
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST});
		expect(summary.statuses.updated).toBe(151);
		const first = staged(collection, ids[0]!);
		expect(gallery(first.fieldData)).toEqual([before[0], {...before[1], alt: 'Second 0'}, {...before[2], alt: 'Third 0'}]);
		expect(gallery(first.live)).toEqual(gallery(first.fieldData));
		const draft = staged(collection, ids[49]!);
		expect(draft.live).toBeUndefined();
		expect(gallery(draft.fieldData)[1]!.alt).toBe('Second 49');
		const patches = sandbox.requests.filter(r => r.method === 'PATCH');
		// 150 items staged (2 requests), 147 published live (2 requests).
		expect(patches.map(r => r.path.endsWith('/live'))).toEqual([false, false, true, true]);
		const out = await results(`${input}.results.csv`);
		expect(out[0]).toMatchObject({status: 'updated', live: 'yes', previous_alt_text: ''});
		expect(out[49]).toMatchObject({status: 'updated', live: 'staged'});
		// introspect, collection details, 2 staged + 2 live list pages, 4 writes
		expect(summary.requests).toBe(1 + 1 + 4 + 4);
	});

	it('finds an image by fileId after an editor reordered the field, and fails a removed one with image_not_in_field', async () => {
		const {site, collection} = gallerySite('cms-run-reorder', {items: 1, images: 3});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const itemId = [...collection.items.keys()][0]!;
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, row(site, collection, 0, 0, 'First'), row(site, collection, 0, 2, 'Third')]);
		const [a, b, c] = gallery(staged(collection, itemId).fieldData) as [ImageValue, ImageValue, ImageValue];
		sandbox.editItem({id: itemId, fieldData: {gallery: [b, {...a, alt: null}]}});
		const summary = await runJob({input, apiBase: sandbox.url, rate: FAST});
		expect(summary.statuses).toMatchObject({updated: 1, failed: 1});
		expect(gallery(staged(collection, itemId).fieldData)).toEqual([b, {...a, alt: 'First'}]);
		const out = await results(`${input}.results.csv`);
		expect(out[1]).toMatchObject({status: 'failed', error_code: 'image_not_in_field'});
		void c;
	});

	it('decides three-way per image: an editor\'s later alt is kept, a conflict is reported, a dry run is exact', async () => {
		const {site, collection} = gallerySite('cms-run-3way', {items: 2, images: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ids = [...collection.items.keys()];
		const input = await writeCsv(join(dir, 'cms.csv'), [
			HEADER,
			row(site, collection, 0, 0, ''), // untouched: base stays
			row(site, collection, 0, 1, 'Sheet'), // conflict: editor wrote too
			row(site, collection, 1, 0, 'Written'),
		]);
		const image = gallery(staged(collection, ids[0]!).fieldData);
		sandbox.editItem({id: ids[0]!, fieldData: {gallery: [{...image[0], alt: 'Editor A'}, {...image[1], alt: 'Editor B'}]}});
		const dry = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST, dryRun: true, out: join(dir, 'dry.csv')});
		expect(dry.statuses).toMatchObject({would_update: 1, conflict: 1, unchanged: 1});
		const real = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST});
		expect(real.statuses).toMatchObject({updated: 1, conflict: 1, unchanged: 1});
		expect(dry.estimatedRequests).toBe(real.requests);
		expect(gallery(staged(collection, ids[0]!).fieldData).map(i => i.alt)).toEqual(['Editor A', 'Editor B']);
	});

	it('fails only the refused item of a batch, whether the error names it or not', async () => {
		for (const cmsErrorDetails of [true, false]) {
			const {site, collection} = gallerySite(`cms-run-refused-${cmsErrorDetails}`, {items: 8, images: 1});
			const sandbox = await startSandbox({sites: [site], rate: FAST, cmsErrorDetails});
			const ids = [...collection.items.keys()];
			sandbox.refuseItems(ids[5]!);
			const dir = await tempDir();
			const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, ...ids.map((_, i) => row(site, collection, i, 0, `Alt ${i}`))]);
			const summary = await runJob({input, apiBase: sandbox.url, rate: FAST, stagedOnly: true});
			expect(summary.statuses).toMatchObject({updated: 7, failed: 1});
			const out = await results(`${input}.results.csv`);
			expect(out[5]).toMatchObject({status: 'failed', error_code: 'validation_error', live: 'staged'});
			expect(gallery(staged(collection, ids[4]!).fieldData)[0]!.alt).toBe('Alt 4');
			expect(sandbox.requests.filter(r => r.method === 'PATCH').length).toBe(cmsErrorDetails ? 2 : 7);
		}
	});

	it('--only-missing fills only images without alt, and --resume sends nothing for rows already done', async () => {
		const {site, collection} = gallerySite('cms-run-missing', {items: 2, images: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ids = [...collection.items.keys()];
		const image = gallery(staged(collection, ids[0]!).fieldData);
		sandbox.editItem({id: ids[0]!, fieldData: {gallery: [{...image[0], alt: 'Editor alt'}, image[1]]}});
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER.slice(0, -1), ...[[0, 0], [0, 1], [1, 0]].map(([i, j]) => row(site, collection, i!, j!, `Alt ${i} ${j}`).slice(0, -1))]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST, onlyMissing: true});
		expect(summary.statuses).toMatchObject({updated: 2, skipped: 1});
		expect(gallery(staged(collection, ids[0]!).fieldData).map(i => i.alt)).toEqual(['Editor alt', 'Alt 0 1']);
		const patches = sandbox.requests.filter(r => r.method === 'PATCH').length;
		const again = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST, onlyMissing: true, resume: true});
		expect(again.statuses).toMatchObject({updated: 2, skipped: 1});
		expect(sandbox.requests.filter(r => r.method === 'PATCH').length).toBe(patches);
	});

	it('--only-missing reads the items again just before writing: alt an editor filled after the first read is kept, and the dry run counts that read', async () => {
		const {site, collection} = gallerySite('cms-run-missing-late', {items: 1, images: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const itemId = [...collection.items.keys()][0]!;
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER.slice(0, -1), row(site, collection, 0, 0, 'Sheet 0').slice(0, -1), row(site, collection, 0, 1, 'Sheet 1').slice(0, -1)]);
		// Requests spaced 400 ms apart: the editor acts between the run's read of the items and its write.
		const options = {input, apiBase: sandbox.url, site: site.id, onlyMissing: true, rate: {count: 5, windowMs: 2000}};
		const dry = await runJob({...options, dryRun: true, out: join(dir, 'dry.csv')});
		expect(dry.statuses).toMatchObject({would_update: 2});
		const reads = () => sandbox.requests.filter(r => r.method === 'GET' && r.path.includes('/items')).length;
		const readBefore = reads();
		const running = runJob(options);
		await until(() => reads() >= readBefore + 2);
		const [first, second] = gallery(staged(collection, itemId).fieldData) as [ImageValue, ImageValue];
		sandbox.editItem({id: itemId, fieldData: {gallery: [{...first, alt: 'Editor'}, second]}});
		sandbox.publishItem(itemId);
		const summary = await running;
		expect(summary.statuses).toMatchObject({updated: 1, skipped: 1});
		expect(gallery(staged(collection, itemId).fieldData).map(i => i.alt)).toEqual(['Editor', 'Sheet 1']);
		expect(gallery(staged(collection, itemId).live).map(i => i.alt)).toEqual(['Editor', 'Sheet 1']);
		const out = await results(`${input}.results.csv`);
		expect(out[0]).toMatchObject({status: 'skipped', error_code: 'has_alt_text'});
		expect(dry.estimatedRequests).toBe(summary.requests);
	});

	it('stops the CMS rows of a site whose token lacks cms:write, naming the scope, and writes its asset rows', async () => {
		const {site, collection} = gallerySite('cms-run-scope', {items: 1, images: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'assets-only', scopes: ['assets:read', 'assets:write', 'cms:read']}]});
		const dir = await tempDir();
		const asset = [...site.assets.keys()][0]!;
		const input = await writeCsv(join(dir, 'mixed.csv'), [[...HEADER, 'assetId'], [...row(site, collection, 0, 0, 'CMS alt'), ''], [site.id, '', '', '', '', '', '', 'Asset alt', '', asset]]);
		const summary = await runJob({input, apiBase: sandbox.url, rate: FAST, token: 'assets-only'});
		expect(summary.statuses).toMatchObject({updated: 1, not_attempted: 1});
		const out = await results(`${input}.results.csv`);
		expect(out[0]).toMatchObject({status: 'not_attempted', error_code: 'aborted'});
		expect(out[0]!.error_message).toMatch(/cms:write/);
		expect(out[1]).toMatchObject({status: 'updated'});
	});
});

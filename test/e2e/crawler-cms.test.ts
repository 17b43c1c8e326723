import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {addGalleryCollection} from '../../src/sandbox/cms-demo.js';
import type {ImageValue, SandboxCollection} from '../../src/sandbox/cms.js';
import {newAsset, newSite, objectId} from '../../src/sandbox/state.js';
import {patchesSent, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

const FAST = {count: 2000, windowMs: 1000};

/** Screaming Frog's "Images Missing Alt Text" inlinks export: one line per page an image is on. */
const HEADER = ['Type', 'Source', 'Destination', 'Alt Text', 'Status Code'];
const crawled = (page: string, image: string, alt: string) => ['Image', `https://example.com${page}`, image, alt, '200'];

const stagedOf = (collection: SandboxCollection, itemId: string) => collection.items.get(itemId)!.variants.values().next().value!;

/**
 * A gallery site: two published items whose galleries hold two images each (assets of the site);
 * item 1's cover is a CMS image that is no asset of the site, on the CMS's own CDN path (its first
 * id is not the site's), as Webflow serves CMS uploads.
 */
function site(label: string) {
	const one = newSite(objectId(`${label}/site`), 0);
	const collection = addGalleryCollection({site: one, label: 'Posts', items: 2, images: 2});
	const [first, second] = [...collection.items.keys()] as [string, string];
	const cover: ImageValue = {fileId: objectId(`${label}/cover`), url: `https://cdn.prod.website-files.com/${objectId(`${label}/cms-host`)}/${objectId(`${label}/cover`)}_cover%20photo.jpg`, alt: null};
	for (const variant of collection.items.get(second)!.variants.values()) {
		variant.fieldData.cover = {...cover};
		variant.live = {...variant.live, cover: {...cover}};
	}

	const plain = newAsset({site: one, id: objectId(`${label}/plain`), fileName: 'plain.png'});
	const gallery = (itemId: string) => stagedOf(collection, itemId).fieldData.gallery as ImageValue[];
	return {site: one, collection, first, second, cover, plain, gallery};
}

describe('crawler rows whose image URL is a CMS image', () => {
	it('write the CMS field that renders it (staged and live), the asset too where the URL is one; a URL that is neither is not_in_site; the dry run says the same and undo --run takes it back', async () => {
		const {site: one, collection, first, second, cover, plain, gallery} = site('crawler-cms');
		const inGallery = gallery(first)[1]!;
		const sandbox = await startSandbox({sites: [one], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const env = {WEBFLOW_TOKEN: 'sandbox-token', ALTBATCH_LEDGER: ledger};
		const file = await writeCsv(join(dir, 'missing_alt.csv'), [
			HEADER,
			crawled('/posts/posts-0', inGallery.url!.replace(/\.jpg$/, '-p-500.jpg'), 'A gallery photo'),
			crawled('/posts/posts-1', cover.url!, 'The cover photo'),
			crawled('/nowhere', `https://cdn.prod.website-files.com/${objectId('elsewhere')}/${objectId('elsewhere/file')}_x.jpg`, 'Nothing'),
			crawled('/about', plain.hostedUrl, 'A plain asset'),
		]);

		const dry = await runCli(['run', file, '--site', one.id, '--dry-run', '--json', '--api-base', sandbox.url], {env});
		expect(dry.code).toBe(1);
		expect((await results(join(dir, 'missing_alt.dry-run.csv'))).map(r => [r.status, r.error_code])).toEqual([
			['would_update', ''],
			['would_update', ''],
			['failed', 'not_in_site'],
			['would_update', ''],
		]);
		expect(patchesSent(sandbox)).toHaveLength(0);

		const run = await runCli(['run', file, '--site', one.id, '--json', '--api-base', sandbox.url], {env});
		// The dry run predicted the real run's requests: introspect, the assets' list page, the CMS read (collections, fields, items staged and live), 2 PATCHes, 2 bulk writes.
		const estimated = (JSON.parse(dry.stdout) as {estimatedRequests: number}).estimatedRequests;
		expect((JSON.parse(run.stdout) as {requests: number}).requests).toBe(estimated);
		expect(run.stderr).not.toContain('sandbox-token');
		expect(run.code).toBe(1);
		const rows = await results(join(dir, 'missing_alt.results.csv'));
		expect(rows.map(r => [r.status, r.error_code])).toEqual([
			['updated', ''],
			['updated', ''],
			['failed', 'not_in_site'],
			['updated', ''],
		]);
		expect(rows[2]!.error_message).toContain('no asset or CMS image');
		expect(rows[1]).toMatchObject({Source: 'https://example.com/posts/posts-1', 'Status Code': '200'});

		// The gallery image: its asset and its place in the field, staged and live; the other images kept whole.
		expect(one.assets.get(inGallery.fileId)!.altText.get(one.primaryLocale)).toBe('A gallery photo');
		const firstItem = stagedOf(collection, first);
		expect((firstItem.fieldData.gallery as ImageValue[]).map(image => image.alt)).toEqual([null, 'A gallery photo']);
		expect((firstItem.live!.gallery as ImageValue[]).map(image => image.alt)).toEqual([null, 'A gallery photo']);
		// The cover: no asset, the CMS field alone, staged and live.
		const secondItem = stagedOf(collection, second);
		expect(secondItem.fieldData.cover).toEqual({...cover, alt: 'The cover photo'});
		expect(secondItem.live!.cover).toEqual({...cover, alt: 'The cover photo'});
		expect(one.assets.get(plain.id)!.altText.get(one.primaryLocale)).toBe('A plain asset');
		// Two asset PATCHes, one staged and one live bulk write (both items in each).
		expect(patchesSent(sandbox).map(p => p.path).sort()).toEqual([
			`/v2/assets/${inGallery.fileId}`,
			`/v2/assets/${plain.id}`,
			`/v2/collections/${collection.id}/items`,
			`/v2/collections/${collection.id}/items/live`,
		].sort());

		const listed = await runCli(['history', '--json'], {env: {ALTBATCH_LEDGER: ledger}});
		const [ran] = JSON.parse(listed.stdout) as Array<{id: string; writes: number}>;
		expect(ran!.writes).toBe(6); // two assets, the gallery image and the cover, staged and live
		// The assets had no alt text before: putting that back takes --allow-clear.
		const undone = await runCli(['undo', '--run', ran!.id, '--allow-clear', '--api-base', sandbox.url], {env});
		expect(undone.code).toBe(0);
		// An alt that was none (null) is put back empty, as undo does for any CMS image.
		expect(stagedOf(collection, second).fieldData.cover).toEqual({...cover, alt: ''});
		expect(stagedOf(collection, second).live!.cover).toEqual({...cover, alt: ''});
		expect((stagedOf(collection, first).fieldData.gallery as ImageValue[]).map(image => image.alt)).toEqual([null, '']);
		expect(one.assets.get(plain.id)!.altText.get(one.primaryLocale) ?? '').toBe('');
	});

	it('undo of the results: a row written to one asset (found by hostedUrl too) is put back; a row written in several places or to a CMS image only is invalid, naming undo --run', async () => {
		const {site: one, collection, second, cover, plain, gallery, first} = site('crawler-cms-undo');
		const inGallery = gallery(first)[0]!;
		one.assets.get(plain.id)!.hostedUrl = 'https://images.example.com/plain.png';
		const sandbox = await startSandbox({sites: [one], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const env = {WEBFLOW_TOKEN: 'sandbox-token', ALTBATCH_LEDGER: ledger};
		const file = await writeCsv(join(dir, 'missing_alt.csv'), [
			HEADER,
			crawled('/a', inGallery.url!, 'Gallery'),
			crawled('/b', cover.url!, 'Cover'),
			crawled('/c', 'https://images.example.com/plain-p-500.png', 'Plain'),
		]);
		expect((await runCli(['run', file, '--site', one.id, '--api-base', sandbox.url], {env})).code).toBe(0);
		const undone = await runCli(['undo', join(dir, 'missing_alt.results.csv'), '--allow-clear', '--site', one.id, '--api-base', sandbox.url], {env});
		expect(undone.code).toBe(1);
		const rows = await results(join(dir, 'missing_alt.results.undo.csv'));
		expect(rows.map(r => [r.row, r.status, r.error_code])).toEqual([
			['2', 'invalid', 'written_in_places'],
			['3', 'invalid', 'written_in_places'],
			['4', 'updated', 'alt_text_cleared'],
		]);
		expect(rows[0]!.error_message).toContain(`asset ${inGallery.fileId}`);
		expect(rows[0]!.error_message).toMatch(/altbatch undo --run \S+ takes back that run/);
		expect(one.assets.get(plain.id)!.altText.get(one.primaryLocale) ?? '').toBe('');
		expect(stagedOf(collection, second).fieldData.cover).toEqual({...cover, alt: 'Cover'});
	});

	it('a CMS row and a URL row of the same image: the last row in the file wins, whichever kind it is', async () => {
		for (const urlLast of [true, false]) {
			const {site: one, collection, second, cover} = site(`crawler-cms-order-${urlLast}`);
			const sandbox = await startSandbox({sites: [one], rate: FAST});
			const dir = await tempDir();
			const byItem = [collection.id, second, 'cover', cover.fileId, '', 'By item'];
			const byUrl = ['', '', '', '', cover.url!, 'By URL'];
			const file = await writeCsv(join(dir, 'mixed.csv'), [['collectionId', 'itemId', 'field', 'fileId', 'Image URL', 'altText'], ...urlLast ? [byItem, byUrl] : [byUrl, byItem]]);
			const run = await runCli(['run', file, '--site', one.id, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: 'sandbox-token', ALTBATCH_LEDGER: join(dir, 'ledger')}});
			expect(run.code).toBe(0);
			expect((stagedOf(collection, second).fieldData.cover as ImageValue).alt).toBe(urlLast ? 'By URL' : 'By item');
		}
	});

	it('with --only-missing the items are read again before the write, and the dry run counts that read too', async () => {
		const {site: one, collection, second, cover} = site('crawler-cms-missing');
		const sandbox = await startSandbox({sites: [one], rate: FAST});
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: 'sandbox-token', ALTBATCH_LEDGER: join(dir, 'ledger')};
		const file = await writeCsv(join(dir, 'missing_alt.csv'), [HEADER, crawled('/a', cover.url!, 'Cover')]);
		const args = ['run', file, '--site', one.id, '--only-missing', '--json', '--api-base', sandbox.url];
		const dry = await runCli([...args, '--dry-run'], {env});
		const run = await runCli(args, {env});
		expect(run.code).toBe(0);
		expect((JSON.parse(run.stdout) as {requests: number}).requests).toBe((JSON.parse(dry.stdout) as {estimatedRequests: number}).estimatedRequests);
		expect(stagedOf(collection, second).fieldData.cover).toEqual({...cover, alt: 'Cover'});
	});

	it('a site token the CMS refuses (403; introspect said nothing of its scopes): the asset is written, the CMS-only URL is not_in_site saying the CMS was not looked in', async () => {
		const {site: one, cover, plain} = site('crawler-cms-403');
		const sandbox = await startSandbox({sites: [one], rate: FAST, tokens: [{token: 'site-token', scopes: ['assets:read', 'assets:write'], siteIds: [one.id], introspect: false}]});
		const dir = await tempDir();
		const file = await writeCsv(join(dir, 'missing_alt.csv'), [HEADER, crawled('/a', cover.url!, 'Cover'), crawled('/b', plain.hostedUrl, 'Plain')]);
		const run = await runCli(['run', file, '--site', one.id, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: 'site-token', ALTBATCH_LEDGER: join(dir, 'ledger')}});
		expect(run.code).toBe(1);
		const rows = await results(join(dir, 'missing_alt.results.csv'));
		expect(rows.map(r => [r.status, r.error_code])).toEqual([['failed', 'not_in_site'], ['updated', '']]);
		expect(rows[0]!.error_message).toContain('its CMS images were not looked in: the token cannot read the site\'s CMS (403');
		expect(run.stderr).toContain('the token cannot read the CMS (cms:read)');
	});

	it('a token without the CMS scopes keeps to the assets: the CMS image URL is not_in_site, the asset is written', async () => {
		const {site: one, cover, plain} = site('crawler-cms-scopes');
		const sandbox = await startSandbox({sites: [one], rate: FAST, tokens: [{token: 'assets-only', scopes: ['assets:read', 'assets:write', 'sites:read']}]});
		const dir = await tempDir();
		const file = await writeCsv(join(dir, 'missing_alt.csv'), [HEADER, crawled('/a', cover.url!, 'Cover'), crawled('/b', plain.hostedUrl, 'Plain')]);
		const run = await runCli(['run', file, '--site', one.id, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: 'assets-only', ALTBATCH_LEDGER: join(dir, 'ledger')}});
		expect(run.code).toBe(1);
		expect((await results(join(dir, 'missing_alt.results.csv'))).map(r => [r.status, r.error_code])).toEqual([['failed', 'not_in_site'], ['updated', '']]);
		expect(sandbox.requests.filter(r => r.path.includes('/collections'))).toHaveLength(0);
		expect(run.stderr).toContain('no CMS scopes');
	});
});

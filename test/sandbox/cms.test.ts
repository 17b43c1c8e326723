import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {addGalleryCollection} from '../../src/sandbox/cms-demo.js';
import type {ImageValue} from '../../src/sandbox/cms.js';
import {loadSeed} from '../../src/sandbox/seed.js';
import {cmsLocaleIdOf, newSite, objectId} from '../../src/sandbox/state.js';
import {startSandbox, tempDir, writeCsv} from '../helpers.js';
import {call, check} from './openapi.js';

const FAST = {count: 10_000, windowMs: 1000};

type Item = {id: string; cmsLocaleId: string; isDraft: boolean; lastPublished: string | null; lastUpdated: string; fieldData: Record<string, unknown>};
type ItemList = {items: Item[]; pagination: {limit: number; offset: number; total: number}};

async function gallerySandbox({items = 5, images = 3, draftEvery = 0, locales = 0, ...options}: {items?: number; images?: number; draftEvery?: number; locales?: number; cmsErrorDetails?: boolean} = {}) {
	const site = newSite(objectId(`cms-test/site/${items}/${images}`), locales);
	const collection = addGalleryCollection({site, label: 'Gallery', items, images, draftEvery});
	const sandbox = await startSandbox({sites: [site], rate: FAST, ...options});
	const api = async (method: string, path: string, body?: unknown, token = 'sandbox-token') => call({url: sandbox.url, token, method, path, body});
	return {sandbox, site, collection, api, ids: [...collection.items.keys()]};
}

describe('the sandbox serves CMS collections and items as Webflow describes them', () => {
	it('has a checker that holds CMS answers to the description', () => {
		expect(() => {
			check({path: '/collections/{collection_id}/items', method: 'get', status: 200, body: {items: [{id: 'x', fieldData: {name: 'n', slug: 's'}}], pagination: {}}});
		}).toThrow(/lastUpdated/);
		expect(() => {
			check({path: '/collections/{collection_id}/items', method: 'patch', status: 200, body: {items: [{id: 'x'}]}});
		}).toThrow(/fieldData/);
	});

	it('lists collections and their fields, and items staged and live, page by page, bodies matching the OpenAPI description', async () => {
		const {site, collection, api, ids} = await gallerySandbox({items: 7, draftEvery: 3, locales: 1});
		const collections = await api('GET', `/v2/sites/${site.id}/collections`);
		expect((collections.body as {collections: Array<{id: string}>}).collections.map(c => c.id)).toEqual([collection.id]);
		const details = (await api('GET', `/v2/collections/${collection.id}`)).body as {fields: Array<{slug: string; type: string}>};
		expect(details.fields.map(f => [f.slug, f.type])).toEqual([['name', 'PlainText'], ['slug', 'PlainText'], ['gallery', 'MultiImage'], ['cover', 'Image']]);

		const staged = (await api('GET', `/v2/collections/${collection.id}/items?offset=5&limit=100`)).body as ItemList;
		expect(staged.pagination).toEqual({limit: 100, offset: 5, total: 7});
		expect(staged.items.map(i => i.id)).toEqual(ids.slice(5));
		const live = (await api('GET', `/v2/collections/${collection.id}/items/live?limit=2`)).body as ItemList;
		// Items 2 and 5 are drafts, never published: not live.
		expect(live.pagination.total).toBe(5);
		expect(live.items.map(i => i.id)).toEqual([ids[0], ids[1]]);
		const draft = staged.items.find(i => i.id === ids[5])!;
		expect([draft.isDraft, draft.lastPublished]).toEqual([true, null]);
		expect((await api('GET', `/v2/collections/${collection.id}/items?limit=500`)).body).toMatchObject({pagination: {limit: 100}});

		// A CMS locale is named by its own id (get-site lists it as cmsLocaleId), never the site locale's.
		const cmsLocale = cmsLocaleIdOf(site, site.secondaryLocales[0]!);
		expect(cmsLocale).not.toBe(site.secondaryLocales[0]);
		const secondary = (await api('GET', `/v2/collections/${collection.id}/items?cmsLocaleId=${cmsLocale}`)).body as ItemList;
		expect(secondary.items.length).toBeGreaterThan(0);
		expect(secondary.items.every(i => i.cmsLocaleId === cmsLocale)).toBe(true);
		expect((await api('GET', `/v2/collections/${collection.id}/items?cmsLocaleId=${site.secondaryLocales[0]}`)).status).toBe(400);
		expect((await api('GET', `/v2/collections/${collection.id}/items?cmsLocaleId=${'e'.repeat(24)}`)).status).toBe(400);
		expect((await api('GET', `/v2/collections/${'f'.repeat(24)}/items`)).status).toBe(404);
		expect((await api('GET', '/v2/collections/nope')).status).toBe(400);
	});

	it('writes up to 100 items a request, staged only, and refuses 101 without writing any', async () => {
		const {sandbox, collection, api, ids} = await gallerySandbox({items: 101, images: 1});
		const item = (id: string) => ({id, fieldData: {gallery: [{...(collection.items.get(id)!.variants.values().next().value!.fieldData.gallery as ImageValue[])[0], alt: `alt ${id}`}]}});
		const tooMany = await api('PATCH', `/v2/collections/${collection.id}/items`, {items: ids.map(item)});
		expect(tooMany.status).toBe(400);
		expect([...collection.items.values()].every(i => (i.variants.values().next().value!.fieldData.gallery as ImageValue[])[0]!.alt === null)).toBe(true);

		const written = await api('PATCH', `/v2/collections/${collection.id}/items`, {items: ids.slice(0, 100).map(item)});
		expect(written.status).toBe(200);
		expect((written.body as {items: Item[]}).items).toHaveLength(100);
		const first = (await api('GET', `/v2/collections/${collection.id}/items?limit=1`)).body as ItemList;
		expect((first.items[0]!.fieldData.gallery as ImageValue[])[0]!.alt).toBe(`alt ${ids[0]}`);
		const live = (await api('GET', `/v2/collections/${collection.id}/items/live?limit=1`)).body as ItemList;
		expect((live.items[0]!.fieldData.gallery as ImageValue[])[0]!.alt).toBeNull();
		expect(sandbox.requests.filter(r => r.method === 'PATCH').map(r => r.status)).toEqual([400, 200]);
	});

	it('writes the live item only with update-items-live, and publish copies staged to live', async () => {
		const {sandbox, collection, api, ids} = await gallerySandbox({items: 3, images: 2, draftEvery: 3});
		const [id, , draftId] = ids as [string, string, string];
		const gallery = () => structuredClone(collection.items.get(id)!.variants.values().next().value!.live!.gallery as ImageValue[]);
		const liveGallery = gallery().map((image, i) => ({...image, alt: i === 1 ? 'Live alt' : image.alt}));
		const answer = await api('PATCH', `/v2/collections/${collection.id}/items/live`, {items: [{id, fieldData: {gallery: liveGallery}}]});
		expect(answer.status).toBe(200);
		expect(gallery()[1]!.alt).toBe('Live alt');
		const staged = collection.items.get(id)!.variants.values().next().value!;
		expect((staged.fieldData.gallery as ImageValue[])[1]!.alt).toBeNull();

		const notLive = await api('PATCH', `/v2/collections/${collection.id}/items/live`, {items: [{id: draftId, fieldData: {cover: null}}]});
		expect(notLive.status).toBe(409);
		expect(JSON.stringify(notLive.body)).toContain('items[0]');

		sandbox.editItem({id, fieldData: {cover: {fileId: 'a'.repeat(24), url: 'https://example.com/a.jpg', alt: 'Editor'}}});
		const published = await api('POST', `/v2/collections/${collection.id}/items/publish`, {itemIds: [id, draftId]});
		expect(published.status).toBe(202);
		expect((published.body as {publishedItemIds: string[]}).publishedItemIds).toEqual([id, draftId]);
		expect(gallery()[1]!.alt).toBeNull();
		const live = (await api('GET', `/v2/collections/${collection.id}/items/live`)).body as ItemList;
		expect(live.items.find(i => i.id === id)!.fieldData.cover).toMatchObject({alt: 'Editor'});
		expect(live.items.find(i => i.id === draftId)!.isDraft).toBe(false);
	});

	it('refuses a whole batch for one bad item, naming it in the details (or not, when told to hide them)', async () => {
		for (const cmsErrorDetails of [true, false]) {
			const {sandbox, collection, api, ids} = await gallerySandbox({items: 4, images: 1, cmsErrorDetails});
			sandbox.refuseItems(ids[2]!);
			const items = ids.map(id => ({id, fieldData: {cover: {fileId: 'b'.repeat(24), url: 'https://example.com/b.jpg', alt: 'x'}}}));
			const answer = await api('PATCH', `/v2/collections/${collection.id}/items`, {items});
			expect(answer.status).toBe(400);
			// Webflow's shape: `{param, description}`.
			const details = (answer.body as {details: Array<{param: string; description: string}>}).details;
			expect(details).toEqual(cmsErrorDetails ? [{param: 'items[2].fieldData', description: 'the item cannot be updated'}] : []);
			expect([...collection.items.values()].every(i => i.variants.values().next().value!.fieldData.cover === null)).toBe(true);
			const broken = await api('PATCH', `/v2/collections/${collection.id}/items?skipInvalidFiles=false`, {items: [{id: ids[0], fieldData: {gallery: [{fileId: 'not-an-id', alt: 'x'}]}}]});
			expect(broken.status).toBe(400);
			const unknownField = await api('PATCH', `/v2/collections/${collection.id}/items`, {items: [{id: ids[0], fieldData: {nope: 1}}]});
			expect(unknownField.status).toBe(400);
		}
	});

	it('skips an invalid file and answers 200 by default (skipInvalidFiles), refuses the batch with skipInvalidFiles=false; keeps every other entry as sent', async () => {
		const {sandbox, collection, api, ids} = await gallerySandbox({items: 2, images: 2});
		const [a, b] = (sandbox.item(ids[0]!)!.item.variants.values().next().value!.fieldData.gallery as ImageValue[]);
		// A null slot, an image by URL only, an unknown key and an upper-case fileId: kept as sent.
		const odd = [null, {url: 'https://example.com/ext.jpg', alt: 'ext'}, {...a, fileId: a!.fileId.toUpperCase(), note: 'kept'}, b];
		const bad = {fileId: 'not-an-id', url: 'https://example.com/bad.jpg', alt: 'bad'};
		const strict = await api('PATCH', `/v2/collections/${collection.id}/items?skipInvalidFiles=false`, {items: [{id: ids[1], fieldData: {gallery: odd}}, {id: ids[0], fieldData: {gallery: [...odd, bad]}}]});
		expect(strict.status).toBe(400);
		expect((strict.body as {details: Array<{param: string}>}).details.map(d => d.param)).toEqual(['items[1].fieldData.gallery']);
		const skipped = await api('PATCH', `/v2/collections/${collection.id}/items`, {items: [{id: ids[0], fieldData: {gallery: [...odd, bad]}}]});
		expect(skipped.status).toBe(200);
		expect(sandbox.item(ids[0]!)!.item.variants.values().next().value!.fieldData.gallery).toEqual(odd);
		const written = await api('PATCH', `/v2/collections/${collection.id}/items?skipInvalidFiles=true`, {items: [{id: ids[1], fieldData: {cover: bad}}]});
		expect(written.status).toBe(200);
		expect(sandbox.item(ids[1]!)!.item.variants.values().next().value!.fieldData.cover).toBeNull();
	});

	it('answers 409 for a live write to an item never published', async () => {
		const {collection, api, ids} = await gallerySandbox({items: 3, images: 1, draftEvery: 3});
		const answer = await api('PATCH', `/v2/collections/${collection.id}/items/live`, {items: [{id: ids[2], fieldData: {cover: null}}]});
		expect(answer.status).toBe(409);
		expect(answer.body).toMatchObject({code: 'conflict', details: [{param: 'items[0].id'}]});
	});

	it('asks for cms:read and cms:write, and keeps a token to its own sites', async () => {
		const {sandbox, site, collection, api, ids} = await gallerySandbox({items: 1, images: 1});
		sandbox.addToken({token: 'assets-only', scopes: ['assets:read', 'assets:write']});
		sandbox.addToken({token: 'cms-read', scopes: ['cms:read']});
		sandbox.addToken({token: 'elsewhere', siteIds: ['c'.repeat(24)]});
		const refused = await api('GET', `/v2/sites/${site.id}/collections`, undefined, 'assets-only');
		expect(refused.status).toBe(403);
		expect((refused.body as {message: string}).message).toMatch(/cms:read/);
		expect((await api('GET', `/v2/collections/${collection.id}/items`, undefined, 'cms-read')).status).toBe(200);
		const write = await api('PATCH', `/v2/collections/${collection.id}/items`, {items: [{id: ids[0], fieldData: {cover: null}}]}, 'cms-read');
		expect([write.status, (write.body as {code: string}).code]).toEqual([403, 'missing_scopes']);
		expect((write.body as {message: string}).message).toMatch(/cms:write/);
		expect((await api('GET', `/v2/collections/${collection.id}`, undefined, 'elsewhere')).status).toBe(404);
		const introspect = (await api('GET', '/v2/token/introspect')).body as {authorization: {scope: string}};
		expect(introspect.authorization.scope).toBe('assets:read,assets:write,cms:read,cms:write,pages:read,components:read,sites:read');
	});

	it('gives the built-in demo site collections with Image and MultiImage fields, published and draft items', async () => {
		const sandbox = await startSandbox({rate: FAST});
		const site = [...sandbox.sites.values()][0]!;
		const types = [...site.collections.values()].flatMap(c => c.fields.map(f => f.type));
		expect(types).toEqual(expect.arrayContaining(['Image', 'MultiImage']));
		const items = [...site.collections.values()].flatMap(c => [...c.items.values()]);
		expect(items.some(i => i.variants.get(site.primaryLocale)!.live === undefined)).toBe(true);
		expect(items.some(i => i.variants.get(site.primaryLocale)!.live !== undefined)).toBe(true);
	});

	it('loads collections from a seed file in the export format (index: MultiImage, blank: Image; live yes: published)', async () => {
		const dir = await tempDir();
		const siteId = objectId('seed-cms/site');
		const [collectionId, itemA, itemB, file1, file2, file3] = ['c', 'a', 'b', 'f1', 'f2', 'f3'].map(label => objectId(`seed-cms/${label}`));
		const seed = await writeCsv(join(dir, 'seed.csv'), [
			['siteId', 'collectionId', 'collection', 'itemId', 'item', 'field', 'fileId', 'index', 'cmsLocaleId', 'url', 'altText', 'isDraft', 'live'],
			[siteId, collectionId!, 'Products', itemA!, 'Chair', 'photos', file2!, '2', '', 'https://example.com/2.jpg', 'Back', 'false', 'yes'],
			[siteId, collectionId!, 'Products', itemA!, 'Chair', 'photos', file1!, '1', '', 'https://example.com/1.jpg', '', 'false', 'yes'],
			[siteId, collectionId!, 'Products', itemA!, 'Chair', 'hero', file3!, '', '', 'https://example.com/3.jpg', 'Hero', 'false', 'yes'],
			[siteId, collectionId!, 'Products', itemB!, 'Table', 'hero', file1!, '', '', 'https://example.com/1.jpg', '', 'true', 'staged'],
		]);
		const [site] = await loadSeed(seed);
		const collection = site!.collections.get(collectionId!)!;
		expect(collection.displayName).toBe('Products');
		expect(collection.fields.map(f => [f.slug, f.type])).toEqual([['name', 'PlainText'], ['slug', 'PlainText'], ['photos', 'MultiImage'], ['hero', 'Image']]);
		const a = collection.items.get(itemA!)!.variants.get(site!.primaryLocale)!;
		expect(a.fieldData.photos).toEqual([{fileId: file1, url: 'https://example.com/1.jpg', alt: null}, {fileId: file2, url: 'https://example.com/2.jpg', alt: 'Back'}]);
		expect(a.live).toEqual(a.fieldData);
		const b = collection.items.get(itemB!)!.variants.get(site!.primaryLocale)!;
		expect([b.isDraft, b.live, b.lastPublished]).toEqual([true, undefined, null]);

		const bad = await writeCsv(join(dir, 'bad.csv'), [['collectionId', 'itemId', 'field', 'fileId'], [collectionId!, itemA!, 'photos', 'nope']]);
		await expect(loadSeed(bad)).rejects.toThrow(/bad\.csv.*2|fileId/);
	});
});

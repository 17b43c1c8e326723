import {describe, expect, it} from 'vitest';
import {addGalleryCollection} from '../../src/sandbox/cms-demo.js';
import {newSite, objectId} from '../../src/sandbox/state.js';
import {startSandbox} from '../helpers.js';
import {call, check, spec} from './openapi.js';
import {requestsDuringRetryAfter} from './retry-after.js';

describe('the sandbox answers as Webflow describes its API', () => {
	it('has a checker that rejects bodies the description does not allow', () => {
		expect(() => {
			check({path: '/assets/{asset_id}', method: 'patch', status: 200, body: {id: 'x'}});
		}).toThrow(/contentType/);
		expect(() => {
			check({path: '/assets/{asset_id}', method: 'patch', status: 404, body: {code: 'made_up', message: 'x', externalReference: null, details: []}});
		}).toThrow(/enum|allowed/);
	});

	it('serves asset, list and introspect bodies that match the OpenAPI description', async () => {
		const sandbox = await startSandbox({rate: {count: 100, windowMs: 1000}});
		const site = [...sandbox.sites.values()][0]!;
		const asset = [...site.assets.values()][0]!;
		const headers = {authorization: 'Bearer sandbox-token', 'content-type': 'application/json'};
		const call = async (method: string, path: string, body?: unknown) => {
			const response = await fetch(`${sandbox.url}${path}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
			return {status: response.status, body: await response.json() as unknown, headers: response.headers};
		};

		const cases: Array<[string, string, string, number, unknown?]> = [
			['patch', '/assets/{asset_id}', `/v2/assets/${asset.id}?localeId=${site.secondaryLocales[0]}`, 200, {altText: 'A dog', displayName: 'dog.png'}],
			['patch', '/assets/{asset_id}', `/beta/assets/${asset.id}`, 200, {altText: 'A dog'}],
			['get', '/assets/{asset_id}', `/v2/assets/${asset.id}`, 200],
			['get', '/sites/{site_id}/assets', `/v2/sites/${site.id}/assets?offset=0&limit=5`, 200],
			['get', '/token/introspect', '/v2/token/introspect', 200],
			['patch', '/assets/{asset_id}', `/v2/assets/${'f'.repeat(24)}`, 404, {altText: 'x'}],
			['patch', '/assets/{asset_id}', '/v2/assets/not-an-id', 400, {altText: 'x'}],
			['patch', '/assets/{asset_id}', `/v2/assets/${asset.id}`, 400, {altText: 7}],
		];
		for (const [method, path, url, status, body] of cases) {
			const answer = await call(method.toUpperCase(), url, body);
			expect(answer.status, url).toBe(status);
			expect(answer.headers.get('x-ratelimit-limit')).toBe('100');
			expect(Number(answer.headers.get('x-ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
			check({path, method, status, body: answer.body});
		}

		const unauthorized = await fetch(`${sandbox.url}/v2/assets/${asset.id}`, {method: 'PATCH', body: '{}'});
		expect(unauthorized.status).toBe(401);
		expect(unauthorized.headers.get('x-ratelimit-limit')).toBe('100');
		check({path: '/assets/{asset_id}', method: 'patch', status: 401, body: await unauthorized.json()});
	});

	it('serves get-site with each locale\'s own cmsLocaleId, and CMS answers (lists, writes, refusals) that match the description', async () => {
		const site = newSite(objectId('openapi-cms/site'), 2);
		const collection = addGalleryCollection({site, label: 'Gallery', items: 3, images: 2, draftEvery: 3});
		const sandbox = await startSandbox({sites: [site], rate: {count: 1000, windowMs: 1000}});
		const ask = async (method: string, path: string, body?: unknown) => call({url: sandbox.url, token: 'sandbox-token', method, path, body});
		const got = (await ask('GET', `/v2/sites/${site.id}`)).body as {locales: {primary: {id: string; cmsLocaleId: string}; secondary: Array<{id: string; cmsLocaleId: string}>}};
		const locales = [got.locales.primary, ...got.locales.secondary];
		expect(locales.map(locale => locale.id)).toEqual([site.primaryLocale, ...site.secondaryLocales]);
		for (const locale of locales) {
			expect(locale.cmsLocaleId).toMatch(/^[\da-f]{24}$/);
			expect(locale.cmsLocaleId).not.toBe(locale.id);
		}

		expect((await ask('GET', `/v2/sites/${'f'.repeat(24)}`)).status).toBe(404);
		const cms = got.locales.secondary[1]!.cmsLocaleId;
		const ids = [...collection.items.keys()];
		const cases: Array<[string, string, number, unknown?]> = [
			['GET', `/v2/sites/${site.id}/collections`, 200],
			['GET', `/v2/collections/${collection.id}`, 200],
			['GET', `/v2/collections/${collection.id}/items?offset=0&limit=2`, 200],
			['GET', `/v2/collections/${collection.id}/items?cmsLocaleId=${cms}`, 200],
			['GET', `/v2/collections/${collection.id}/items/live?cmsLocaleId=${cms}`, 200],
			['GET', `/v2/collections/${collection.id}/items?cmsLocaleId=${site.secondaryLocales[1]}`, 400],
			['PATCH', `/v2/collections/${collection.id}/items?skipInvalidFiles=false`, 200, {items: [{id: ids[0], cmsLocaleId: cms, fieldData: {cover: null}}]}],
			['PATCH', `/v2/collections/${collection.id}/items/live?skipInvalidFiles=false`, 200, {items: [{id: ids[0], fieldData: {cover: null}}]}],
			['PATCH', `/v2/collections/${collection.id}/items?skipInvalidFiles=false`, 400, {items: [{id: ids[0], fieldData: {cover: {fileId: 'nope'}}}]}],
			['PATCH', `/v2/collections/${collection.id}/items/live`, 409, {items: [{id: ids[2], fieldData: {cover: null}}]}],
			['GET', `/v2/collections/${'f'.repeat(24)}/items`, 404],
		];
		for (const [method, path, status, body] of cases) {
			const answer = await ask(method, path, body);
			expect(answer.status, `${method} ${path}`).toBe(status);
		}

		const listed = (await ask('GET', `/v2/collections/${collection.id}/items?cmsLocaleId=${cms}`)).body as {items: Array<{cmsLocaleId: string}>};
		expect(listed.items.every(item => item.cmsLocaleId === cms)).toBe(true);
		const refused = (await ask('PATCH', `/v2/collections/${collection.id}/items?skipInvalidFiles=false`, {items: [{id: ids[1], fieldData: {}}, {id: ids[0], fieldData: {cover: {fileId: 'nope'}}}]})).body as {details: unknown[]};
		expect(refused.details).toEqual([{param: 'items[1].fieldData.cover', description: expect.any(String)}]);
	});

	it('answers 429 with Retry-After and the rate headers once the budget is spent', async () => {
		const sandbox = await startSandbox({rate: {count: 2, windowMs: 60_000}});
		const asset = [...[...sandbox.sites.values()][0]!.assets.values()][0]!;
		const get = () => fetch(`${sandbox.url}/v2/assets/${asset.id}`, {headers: {authorization: 'Bearer sandbox-token'}});
		expect((await get()).headers.get('x-ratelimit-remaining')).toBe('1');
		expect((await get()).headers.get('x-ratelimit-remaining')).toBe('0');
		const limited = await get();
		expect(limited.status).toBe(429);
		expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
		expect(limited.headers.get('x-ratelimit-limit')).toBe('2');
		check({path: '/assets/{asset_id}', method: 'get', status: 429, body: await limited.json()});
		expect(requestsDuringRetryAfter(sandbox)).toEqual([]);
		// A client that ignores the Retry-After is caught.
		await new Promise(resolve => setTimeout(resolve, 300));
		expect((await get()).status).toBe(429);
		expect(requestsDuringRetryAfter(sandbox)).toHaveLength(1);
		expect(Object.keys(spec.paths['/assets/{asset_id}']!.get!.responses['429']!.headers!)).toEqual(['X-RateLimit-Remaining', 'X-RateLimit-Limit']);
	});

	it('keeps alt text per locale and the display name across locales', async () => {
		const sandbox = await startSandbox({rate: {count: 100, windowMs: 1000}});
		const site = [...sandbox.sites.values()][0]!;
		const asset = [...site.assets.values()][0]!;
		const headers = {authorization: 'Bearer sandbox-token', 'content-type': 'application/json'};
		await fetch(`${sandbox.url}/v2/assets/${asset.id}?localeId=${site.secondaryLocales[0]}`, {method: 'PATCH', headers, body: JSON.stringify({altText: 'Un chien', displayName: 'chien.png'})});
		const primary = await (await fetch(`${sandbox.url}/v2/assets/${asset.id}`, {headers})).json() as {altText: string | null; displayName: string};
		const secondary = await (await fetch(`${sandbox.url}/v2/assets/${asset.id}?localeId=${site.secondaryLocales[0]}`, {headers})).json() as {altText: string};
		expect(primary.altText).not.toBe('Un chien');
		expect(primary.displayName).toBe('chien.png');
		expect(secondary.altText).toBe('Un chien');
	});
});

import {describe, expect, it} from 'vitest';
import {addComponent, addPage, imageNode, nodeId, pagesOf, textNode} from '../../src/sandbox/pages.js';
import {objectId} from '../../src/sandbox/state.js';
import {makeSite, startSandbox} from '../helpers.js';
import {check, pagesSpec} from './openapi.js';

const FAST = {count: 1000, windowMs: 1000};

async function get(url: string, token = 'sandbox-token'): Promise<{status: number; body: Record<string, unknown>}> {
	const response = await fetch(url, {headers: {authorization: `Bearer ${token}`}});
	return {status: response.status, body: await response.json() as Record<string, unknown>};
}

describe('the sandbox serves pages, page DOM and components as Webflow describes them', () => {
	it('has a checker that rejects a DOM the description does not allow', () => {
		expect(() => {
			check({from: pagesSpec, path: '/pages/{page_id}/dom', method: 'get', status: 200, body: {pageId: 'p', nodes: [{id: 'n', type: 'image'}], pagination: {limit: 100, offset: 0, total: 1}}});
		}).toThrow();
	});

	it('answers every read with a body that matches the OpenAPI description', async () => {
		const sandbox = await startSandbox({rate: FAST});
		const site = [...sandbox.sites.values()][0]!;
		const {pages, components} = pagesOf(site);
		const [component] = components;
		expect(pages.length).toBeGreaterThan(1);
		const cases: Array<[string, string, number]> = [
			['/sites/{site_id}/pages', `/v2/sites/${site.id}/pages?offset=0&limit=100`, 200],
			['/pages/{page_id}/dom', `/v2/pages/${pages[0]!.id}/dom`, 200],
			['/pages/{page_id}/dom', `/v2/pages/${pages[2]!.id}/dom?localeId=${site.secondaryLocales[0]}`, 200],
			['/sites/{site_id}/components', `/v2/sites/${site.id}/components`, 200],
			['/sites/{site_id}/components/{component_id}/dom', `/v2/sites/${site.id}/components/${component!.id}/dom`, 200],
			['/sites/{site_id}/components/{component_id}/properties', `/v2/sites/${site.id}/components/${component!.id}/properties`, 200],
			['/pages/{page_id}/dom', `/v2/pages/${'f'.repeat(24)}/dom`, 404],
			['/pages/{page_id}/dom', '/v2/pages/nope/dom', 400],
		];
		for (const [path, url, status] of cases) {
			const answer = await get(`${sandbox.url}${url}`);
			expect(answer.status, url).toBe(status);
			check({from: pagesSpec, path, method: 'get', status, body: answer.body});
		}

		const dom = await get(`${sandbox.url}/v2/pages/${pages[0]!.id}/dom`);
		const images = (dom.body.nodes as Array<{type: string; image?: {alt?: string; assetId?: string}}>).filter(node => node.type === 'image');
		expect(images.some(node => node.image?.assetId !== undefined && node.image.alt === undefined)).toBe(true);
		expect(images.some(node => typeof node.image?.alt === 'string' && node.image.alt !== '')).toBe(true);
	});

	it('pages a DOM past 100 nodes, shows a secondary locale its own alt (else the primary\'s), and refuses a token without the scope', async () => {
		const site = makeSite({label: 'sandbox-pages', count: 1, locales: 1});
		const [assetId] = site.assets.keys();
		const secondary = site.secondaryLocales[0]!;
		const nodes = Array.from({length: 150}, (_, i) => i === 120
			? imageNode(`big/${i}`, {assetId, alt: new Map([['', 'Primary'], [secondary, 'Secondaire']])})
			: i % 2 === 0 ? imageNode(`big/${i}`, {assetId}) : textNode(`big/${i}`, `Text ${i}`));
		const page = addPage(site, {slug: 'big', nodes});
		addPage(site, {slug: 'post-template', nodes: [imageNode('tpl', {assetId})], collectionId: objectId('collection')});
		addComponent(site, {name: 'Card', nodes: [], properties: [{propertyId: nodeId('p'), type: 'Alt Text', label: 'Alt', text: new Map([['', 'Card alt']])}]});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'sandbox-token'}, {token: 'assets-only', scopes: ['assets:read']}]});
		const first = await get(`${sandbox.url}/v2/pages/${page.id}/dom`);
		const second = await get(`${sandbox.url}/v2/pages/${page.id}/dom?offset=100&localeId=${secondary}`);
		expect(first.body.pagination).toEqual({limit: 100, offset: 0, total: 150});
		expect((first.body.nodes as unknown[]).length).toBe(100);
		expect((second.body.nodes as unknown[]).length).toBe(50);
		const alt = (body: Record<string, unknown>) => (body.nodes as Array<{id: string; image?: {alt?: string}}>).find(node => node.id === nodeId('big/120'))?.image?.alt;
		expect(alt(second.body)).toBe('Secondaire');
		expect(alt((await get(`${sandbox.url}/v2/pages/${page.id}/dom?offset=100`)).body)).toBe('Primary');
		const template = pagesOf(site).pages[1]!;
		expect(((await get(`${sandbox.url}/v2/pages/${template.id}/dom`)).body.nodes as unknown[]).length).toBe(0);

		const refused = await get(`${sandbox.url}/v2/sites/${site.id}/pages`, 'assets-only');
		expect(refused.status).toBe(403);
		expect(refused.body.message).toMatch(/pages:read/);
		expect((await get(`${sandbox.url}/v2/sites/${site.id}/components`, 'assets-only')).body.message).toMatch(/components:read/);
		check({from: pagesSpec, path: '/sites/{site_id}/pages', method: 'get', status: 403, body: refused.body});
	});
});

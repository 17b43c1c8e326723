import {createServer, type IncomingHttpHeaders} from 'node:http';
import {type AddressInfo} from 'node:net';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {addDemoCollections, addGalleryCollection} from '../../src/sandbox/cms-demo.js';
import type {ImageValue} from '../../src/sandbox/cms.js';
import {withDemoPages} from '../../src/sandbox/pages.js';
import {demoSite} from '../../src/sandbox/state.js';
import {assetIds, makeSite, runCli, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';
import {ajv, spec} from '../sandbox/openapi.js';

/**
 * Webflow's OpenAPI description as a second judge of the requests our client sends (the sandbox
 * judges them too, but it was written from the same reading of the docs as the client).
 */

type Parameter = {name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Record<string, unknown>};
type RequestOperation = {parameters?: Parameter[]; requestBody?: {required?: boolean; content: Record<string, {schema: Record<string, unknown>}>}};
const operations = spec.paths as unknown as Record<string, Record<string, RequestOperation>>;
const basePath = new URL((spec as unknown as {servers: Array<{url: string}>}).servers[0]!.url).pathname;

type Recorded = {method: string; url: URL; headers: IncomingHttpHeaders; body: string};

function valueProblem(name: string, text: string, schema: Record<string, unknown>): string | undefined {
	// `default: null` on a required path parameter is the description's, not a constraint.
	const rest = Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'default'));
	const value = rest.type === 'integer' && /^-?\d+$/.test(text) ? Number(text) : rest.type === 'boolean' && /^(?:true|false)$/.test(text) ? text === 'true' : text;
	const validate = ajv.compile(rest);
	return validate(value) ? undefined : `${name}=${JSON.stringify(text)}: ${ajv.errorsText(validate.errors)}`;
}

/** What is wrong with a request by the description: its operation, path, query, body and auth. Empty when nothing. */
function problemsOf(request: Recorded): string[] {
	const path = request.url.pathname.startsWith(`${basePath}/`) ? request.url.pathname.slice(basePath.length) : undefined;
	const found = Object.entries(operations).map(([template, byMethod]) => {
		const names = [...template.matchAll(/{(\w+)}/g)].map(match => match[1]!);
		const match = new RegExp(`^${template.replaceAll(/{\w+}/g, '([^/]+)')}$`).exec(path ?? '');
		return match ? {template, byMethod, values: Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]))} : undefined;
	}).find(Boolean);
	const operation = found?.byMethod[request.method.toLowerCase()];
	if (!found || !operation) {
		return [`${request.method} ${request.url.pathname}: no such operation`];
	}

	const problems: string[] = [];
	const parameters = operation.parameters ?? [];
	for (const parameter of parameters) {
		const text = parameter.in === 'path' ? found.values[parameter.name] : parameter.in === 'query' ? request.url.searchParams.get(parameter.name) ?? undefined : undefined;
		if (text === undefined) {
			if (parameter.required) {
				problems.push(`${parameter.name} missing`);
			}

			continue;
		}

		const problem = valueProblem(parameter.name, text, parameter.schema);
		if (problem) {
			problems.push(problem);
		}
	}

	for (const key of request.url.searchParams.keys()) {
		if (!parameters.some(parameter => parameter.in === 'query' && parameter.name === key)) {
			problems.push(`query ${key} is not in the description`);
		}
	}

	const json = operation.requestBody?.content['application/json'];
	if (json) {
		if (!request.headers['content-type']?.startsWith('application/json')) {
			problems.push(`content-type ${request.headers['content-type']} is not application/json`);
		}

		// Closed: a property the description does not name would be ignored at best.
		const validate = ajv.compile({...json.schema, additionalProperties: false});
		let body: unknown;
		try {
			body = JSON.parse(request.body);
		} catch {
			problems.push('body is not JSON');
		}

		if (body !== undefined && !validate(body)) {
			problems.push(`body ${request.body}: ${ajv.errorsText(validate.errors)}`);
		}
	} else if (request.body !== '') {
		problems.push(`${request.method} takes no body, got ${request.body}`);
	}

	if (!/^Bearer \S+$/.test(request.headers.authorization ?? '')) {
		problems.push('no bearer token');
	}

	return problems;
}

/** A loopback proxy in front of the sandbox that keeps every request as it arrived. */
async function recordingProxy(target: string): Promise<{url: string; requests: Recorded[]; close: () => Promise<void>}> {
	const requests: Recorded[] = [];
	const server = createServer(async (incoming, outgoing) => {
		const chunks: Buffer[] = [];
		for await (const chunk of incoming) {
			chunks.push(chunk as Buffer);
		}

		const body = Buffer.concat(chunks).toString('utf8');
		requests.push({method: incoming.method ?? '', url: new URL(incoming.url ?? '/', 'http://proxy'), headers: incoming.headers, body});
		const headers = Object.fromEntries(Object.entries(incoming.headers).filter(([name]) => ['authorization', 'content-type', 'accept'].includes(name))) as Record<string, string>;
		const answer = await fetch(`${target}${incoming.url ?? '/'}`, {method: incoming.method, headers, body: body === '' ? undefined : body});
		const passed = [...answer.headers].filter(([name]) => !['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(name));
		outgoing.writeHead(answer.status, Object.fromEntries(passed));
		outgoing.end(Buffer.from(await answer.arrayBuffer()));
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		requests,
		close: async () => new Promise<void>(resolve => {
			server.closeAllConnections();
			server.close(() => {
				resolve();
			});
		}),
	};
}

const request = (method: string, url: string, body = '', headers: IncomingHttpHeaders = {authorization: 'Bearer t', 'content-type': 'application/json'}): Recorded => ({method, url: new URL(url, 'http://x'), headers, body});

describe('our requests, judged by Webflow\'s OpenAPI description', () => {
	it('has a judge that rejects requests the description does not allow', () => {
		const id = 'a'.repeat(24);
		expect(problemsOf(request('PATCH', `/v2/assets/${id}?localeId=${'b'.repeat(24)}`, '{"altText":"x"}'))).toEqual([]);
		expect(problemsOf(request('PATCH', `/v2/assets/${id}`, '{"alt":"x"}')).join()).toMatch(/additional/);
		expect(problemsOf(request('PATCH', `/v2/assets/${id}`, '{"altText":7}')).join()).toMatch(/string/);
		expect(problemsOf(request('PATCH', `/v2/assets/${id}?locale=fr`, '{"altText":"x"}')).join()).toMatch(/query locale/);
		expect(problemsOf(request('PATCH', '/v2/assets/not-an-id', '{"altText":"x"}')).join()).toMatch(/asset_id/);
		expect(problemsOf(request('PATCH', `/v2/assets/${id}`, '{"altText":"x"}', {'content-type': 'application/json'})).join()).toMatch(/bearer/);
		expect(problemsOf(request('GET', `/v2/sites/${id}/assets?offset=zero`)).join()).toMatch(/offset/);
		expect(problemsOf(request('GET', `/v2/assets/${id}`, '{}')).join()).toMatch(/takes no body/);
		expect(problemsOf(request('DELETE', `/v2/assets/${id}`)).join()).toMatch(/no such operation/);
		expect(problemsOf(request('GET', '/v1/token/introspect')).join()).toMatch(/no such operation/);
		const collection = 'c'.repeat(24);
		expect(problemsOf(request('PATCH', `/v2/collections/${collection}/items?skipInvalidFiles=false`, '{"items":[{"id":"x","fieldData":{}}]}'))).toEqual([]);
		expect(problemsOf(request('PATCH', `/v2/collections/${collection}/items?skipInvalidFiles=no`, '{"items":[]}')).join()).toMatch(/skipInvalidFiles/);
		expect(problemsOf(request('GET', `/v2/collections/${collection}/items?localeId=${id}`)).join()).toMatch(/query localeId/);
		expect(problemsOf(request('GET', `/v2/sites/${id}/collections?offset=0`)).join()).toMatch(/query offset/);
	});

	it('finds every request of a run (introspect, list pages, GET asset, PATCH with and without localeId) as the description says', async () => {
		const site = makeSite({label: 'openapi-requests', count: 3, locales: 2});
		const sandbox = await startSandbox({sites: [site], rate: {count: 100, windowMs: 1000}});
		const proxy = await recordingProxy(sandbox.url);
		try {
			const [first, second, third] = assetIds(site);
			const secondary = site.secondaryLocales[0]!;
			const dir = await tempDir();
			const input = await writeCsv(join(dir, 'jobs.csv'), [
				['assetId', 'localeId', 'altText', 'displayName'],
				[first!, '', 'A red bicycle', ''],
				[second!, secondary, 'Un vélo rouge', ''],
				[third!, '', '', 'bike.jpg'],
			]);
			const summary = await runJob({input, apiBase: proxy.url, site: site.id, onlyMissing: true});
			expect(summary.statuses.updated).toBe(3);
			const kinds = new Set(proxy.requests.map(r => `${r.method} ${r.url.pathname.replaceAll(/[\da-f]{24}/g, '{id}')}${r.url.searchParams.has('localeId') ? ' localeId' : ''}`));
			expect([...kinds].sort()).toEqual([
				'GET /v2/assets/{id}',
				'GET /v2/assets/{id} localeId',
				'GET /v2/sites/{id}/assets',
				'GET /v2/sites/{id}/assets localeId',
				'GET /v2/token/introspect',
				'PATCH /v2/assets/{id}',
				'PATCH /v2/assets/{id} localeId',
			]);
			for (const recorded of proxy.requests) {
				expect(problemsOf(recorded), `${recorded.method} ${recorded.url.pathname}${recorded.url.search} ${recorded.body}`).toEqual([]);
			}
		} finally {
			await proxy.close();
		}
	});

	it('finds every CMS, pages, components and get-site request of an export, a run (staged and live, a secondary locale) and an audit as the description says', async () => {
		const site = withDemoPages(addDemoCollections(demoSite()));
		const gallery = addGalleryCollection({site, label: 'Requests', items: 3, images: 2, draftEvery: 3});
		const sandbox = await startSandbox({sites: [site], rate: {count: 100_000, windowMs: 1000}});
		const proxy = await recordingProxy(sandbox.url);
		try {
			const dir = await tempDir();
			const env = {WEBFLOW_TOKEN: 'sandbox-token'};
			const secondary = site.secondaryLocales[0]!;
			const exported = await runCli(['export', '--site', site.id, '--include', 'assets,cms', '--locale', secondary, '--api-base', proxy.url, '--out', join(dir, 'export.csv')], {env});
			expect(exported.code, exported.stderr).toBe(0);
			const ids = [...gallery.items.keys()];
			const fileOf = (i: number) => (gallery.items.get(ids[i]!)!.variants.get(secondary)!.fieldData.gallery as ImageValue[])[0]!.fileId;
			const input = await writeCsv(join(dir, 'cms.csv'), [
				['siteId', 'collectionId', 'itemId', 'field', 'fileId', 'cmsLocaleId', 'altText'],
				...ids.map((itemId, i) => [site.id, gallery.id, itemId, 'gallery', fileOf(i), i === 0 ? '' : secondary, `Alt ${i}`]),
			]);
			const run = await runCli(['run', input, '--api-base', proxy.url], {env});
			expect(run.code, run.stderr).toBe(0);
			const audit = await runCli(['audit', '--site', site.id, '--locale', secondary, '--api-base', proxy.url, '--out', join(dir, 'audit.csv')], {env});
			expect(audit.code, audit.stderr).toBeLessThan(2);
			const kinds = new Set(proxy.requests.map(r => `${r.method} ${r.url.pathname.replaceAll(/[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}|[\da-f]{24}/g, '{id}')}`));
			expect([...kinds].sort()).toEqual(expect.arrayContaining([
				'GET /v2/collections/{id}',
				'GET /v2/collections/{id}/items',
				'GET /v2/collections/{id}/items/live',
				'GET /v2/pages/{id}/dom',
				'GET /v2/sites/{id}',
				'GET /v2/sites/{id}/collections',
				'GET /v2/sites/{id}/components',
				'GET /v2/sites/{id}/components/{id}/dom',
				'GET /v2/sites/{id}/components/{id}/properties',
				'GET /v2/sites/{id}/pages',
				'PATCH /v2/collections/{id}/items',
				'PATCH /v2/collections/{id}/items/live',
			]));
			for (const recorded of proxy.requests) {
				expect(problemsOf(recorded), `${recorded.method} ${recorded.url.pathname}${recorded.url.search} ${recorded.body}`).toEqual([]);
			}

			// Bulk writes refuse an invalid file instead of dropping it; CMS calls name CMS locales only.
			const writes = proxy.requests.filter(r => r.method === 'PATCH' && r.url.pathname.includes('/collections/'));
			expect(writes.every(r => r.url.searchParams.get('skipInvalidFiles') === 'false')).toBe(true);
			const cmsLocales = proxy.requests.flatMap(r => [r.url.searchParams.get('cmsLocaleId'), ...r.body === '' ? [] : (JSON.parse(r.body) as {items?: Array<{cmsLocaleId?: string}>}).items?.map(item => item.cmsLocaleId) ?? []]).filter(Boolean);
			expect(cmsLocales.length).toBeGreaterThan(0);
			expect(cmsLocales).not.toContain(secondary);
		} finally {
			await proxy.close();
		}
	});
});

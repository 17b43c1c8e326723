import {request as httpRequest} from 'node:http';
import {describe, expect, it} from 'vitest';
import {makeSite, startSandbox} from '../helpers.js';
import {check} from './openapi.js';

/**
 * Starts a PATCH that announces `announced` bytes (or is chunked, when undefined) and sends only
 * `sent` of them, then waits: resolves with the answer, which can only come if the sandbox answers
 * without reading the whole body.
 */
async function partialPatch({url, path, token, announced, sent}: {url: string; path: string; token?: string; announced: number | undefined; sent: string}): Promise<{status: number; body: unknown; connection: string | undefined}> {
	return new Promise((resolve, reject) => {
		const headers: Record<string, string> = {'content-type': 'application/json'};
		if (token !== undefined) {
			headers.authorization = `Bearer ${token}`;
		}

		if (announced !== undefined) {
			headers['content-length'] = String(announced);
		}

		const request = httpRequest(`${url}${path}`, {method: 'PATCH', headers, agent: false}, response => {
			let text = '';
			response.on('data', (chunk: Buffer) => {
				text += chunk.toString();
			});
			response.on('end', () => {
				resolve({status: response.statusCode ?? 0, body: JSON.parse(text) as unknown, connection: response.headers.connection});
				request.destroy();
			});
		});
		request.on('error', reject);
		request.write(sent);
	});
}

describe('the sandbox and request bodies', () => {
	const site = () => makeSite({label: 'sandbox-bodies', count: 1});

	it('refuses a request without a valid token before reading its body', async () => {
		const sandbox = await startSandbox({sites: [site()]});
		const [id] = [...sandbox.sites.values()][0]!.assets.keys();
		for (const token of [undefined, 'wrong-token']) {
			const answer = await partialPatch({url: sandbox.url, path: `/v2/assets/${id}`, token, announced: 100 * 1024 * 1024, sent: '{"altText":"'});
			expect(answer.status).toBe(401);
			expect(answer.connection).toBe('close');
			check({path: '/assets/{asset_id}', method: 'patch', status: 401, body: answer.body});
		}
	}, 15_000);

	it('answers 413 to a body past the cap without reading it, whether its length is announced or not', async () => {
		const sandbox = await startSandbox({sites: [site()], maxBodyBytes: 64 * 1024});
		const [id] = [...sandbox.sites.values()][0]!.assets.keys();
		const path = `/v2/assets/${id}`;
		const announced = await partialPatch({url: sandbox.url, path, token: 'sandbox-token', announced: 2 * 1024 * 1024, sent: '{"altText":"'});
		const chunked = await partialPatch({url: sandbox.url, path, token: 'sandbox-token', announced: undefined, sent: `{"altText":"${'x'.repeat(100 * 1024)}`});
		for (const answer of [announced, chunked]) {
			expect(answer.status).toBe(413);
			expect(answer.body).toMatchObject({code: 'bad_request'});
			check({path: '/assets/{asset_id}', method: 'patch', status: 413, body: answer.body});
		}

		expect(sandbox.asset(id!)!.altText.get([...sandbox.sites.values()][0]!.primaryLocale)).toBeNull();
		expect(sandbox.requests.map(r => r.status)).toEqual([413, 413]);
		// A body within the cap is taken as before.
		const alt = 'y'.repeat(60 * 1024);
		const ok = await fetch(`${sandbox.url}${path}`, {method: 'PATCH', headers: {authorization: 'Bearer sandbox-token'}, body: JSON.stringify({altText: alt})});
		expect(ok.status).toBe(200);
		expect((await ok.json() as {altText: string}).altText).toBe(alt);
	}, 15_000);

	it('keeps only the latest requests in its log', async () => {
		const sandbox = await startSandbox({sites: [site()], requestLog: 3});
		for (let i = 0; i < 5; i++) {
			await fetch(`${sandbox.url}/v2/assets/${'f'.repeat(23)}${i}`, {headers: {authorization: 'Bearer sandbox-token'}});
		}

		expect(sandbox.requests.map(r => r.path.slice(-1))).toEqual(['2', '3', '4']);
	});
});

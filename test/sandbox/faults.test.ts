import {describe, expect, it} from 'vitest';
import {makeSite, startSandbox} from '../helpers.js';
import {check} from './openapi.js';

describe('the sandbox\'s faults, as a client sees them on the wire', () => {
	it('answers each scripted fault as described, changing the asset only when the request got through', async () => {
		const site = makeSite({label: 'sandbox-faults', count: 1});
		const [id] = site.assets.keys() as unknown as [string];
		const sandbox = await startSandbox({sites: [site], rate: {count: 100, windowMs: 60_000}, slowMs: 50});
		const patch = async (altText: string) => fetch(`${sandbox.url}/v2/assets/${id}`, {method: 'PATCH', headers: {authorization: 'Bearer sandbox-token'}, body: JSON.stringify({altText})});
		const alt = () => sandbox.asset(id)!.altText.get(site.primaryLocale);
		sandbox.failNextFor(id, 'error500', 'html503', 'limited', 'drop', 'truncate', 'slow');

		const error500 = await patch('after 500');
		expect(error500.status).toBe(500);
		check({path: '/assets/{asset_id}', method: 'patch', status: 500, body: await error500.json()});
		const html503 = await patch('after 503');
		expect([html503.status, html503.headers.get('content-type')]).toEqual([503, 'text/html']);
		expect(await html503.text()).toMatch(/^<html>/);
		const limited = await patch('after limited');
		expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '1']);
		// Not the budget: the rate headers still say what is left.
		expect(Number(limited.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(90);
		await expect(patch('after drop')).rejects.toThrow();
		expect(alt()).toBeNull();

		const truncated = await patch('truncated');
		expect(truncated.status).toBe(200);
		await expect(truncated.clone().json()).rejects.toThrow();
		expect(alt()).toBe('truncated');
		const slow = await patch('slow');
		expect((await slow.json() as {altText: string}).altText).toBe('slow');

		expect(sandbox.requests.map(r => [r.status, r.fault])).toEqual([[500, 'error500'], [503, 'html503'], [429, 'limited'], [0, 'drop'], [200, 'truncate'], [200, 'slow']]);
		expect(sandbox.requests[2]!.retryUntil).toBe(sandbox.requests[2]!.at + 1000);
	});

	it('draws random faults by share, repeatably for one seed, and only for PATCH', async () => {
		const draw = async () => {
			const site = makeSite({label: 'sandbox-fault-shares', count: 1});
			const [id] = site.assets.keys();
			const sandbox = await startSandbox({sites: [site], rate: {count: 1000, windowMs: 1000}, faults: {error500: 0.5}, seed: 7});
			for (let i = 0; i < 20; i++) {
				await fetch(`${sandbox.url}/v2/assets/${id}`, {method: i % 2 ? 'GET' : 'PATCH', headers: {authorization: 'Bearer sandbox-token'}, body: i % 2 ? undefined : '{}'});
			}

			return sandbox.requests.map(r => `${r.method} ${r.status}`);
		};

		const first = await draw();
		expect(first.filter(r => r === 'PATCH 500').length).toBeGreaterThan(0);
		expect(first.filter(r => r === 'PATCH 200').length).toBeGreaterThan(0);
		expect(first.filter(r => r.startsWith('GET')).every(r => r === 'GET 200')).toBe(true);
		expect(await draw()).toEqual(first);
	});
});

import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {assetIds, makeSite, results, runCli, runJob, startSandbox, tempDir, writeCsv} from './helpers.js';

describe('many sites in one file with --tokens', () => {
	it('routes rows by siteId to each site\'s token, side by side, each on its own budget', async () => {
		const sites = ['a', 'b', 'c'].map(label => makeSite({label: `agency-${label}`, count: 20}));
		const sandbox = await startSandbox({
			sites,
			rate: {count: 10, windowMs: 1000},
			tokens: sites.map((site, i) => ({token: `token-${i}`, siteIds: [site.id], rate: {count: 10, windowMs: 1000}})),
		});
		const dir = await tempDir();
		const rows = sites.flatMap(site => assetIds(site).map(id => [site.id, id, `alt for ${id}`]));
		// Sorted by site, as an agency's sheet often is: the reader must not wait on the first site.
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...rows]);
		const tokens = new Map(sites.map((site, i) => [site.id, `token-${i}`]));
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens});
		expect(summary.statuses.updated).toBe(60);
		expect(summary.tooManyRequests).toBe(0);
		// Side by side: every site has started before a quarter of all PATCHes were sent (no timing thresholds).
		const patches = sandbox.requests.filter(r => r.method === 'PATCH');
		for (const i of [0, 1, 2]) {
			expect(patches.findIndex(r => r.token === `token#${i}`)).toBeLessThan(patches.length / 4);
		}

		expect(Object.keys(summary.sites!)).toHaveLength(3);
		for (const site of sites) {
			expect(summary.sites![site.id]!.statuses.updated).toBe(20);
			for (const id of assetIds(site)) {
				expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toBe(`alt for ${id}`);
			}
		}
	});

	it('a refused token stops only its own site\'s rows; the others finish', async () => {
		const sites = ['good', 'bad'].map(label => makeSite({label: `agency-${label}`, count: 5}));
		const sandbox = await startSandbox({sites, rate: {count: 100, windowMs: 1000}, tokens: [{token: 'good-token', siteIds: [sites[0]!.id]}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...sites.flatMap(site => assetIds(site).map(id => [site.id, id, 'alt'])), ['f'.repeat(24), 'e'.repeat(24), 'no token']]);
		const tokensFile = join(dir, 'tokens.txt');
		await writeFile(tokensFile, `# agency tokens\n${sites[0]!.id}=good-token\n${sites[1]!.id}=revoked-token\n`);
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--tokens', tokensFile, '--json']);
		expect(result.code).toBe(1);
		expect(result.stdout + result.stderr).not.toContain('revoked-token');
		expect(result.stdout + result.stderr).not.toContain('good-token');
		const rows = await results(join(dir, 'jobs.results.csv'));
		expect(rows.slice(0, 5).every(r => r.status === 'updated')).toBe(true);
		expect(rows.slice(5, 10).map(r => r.status).sort()).toEqual(['failed', 'not_attempted', 'not_attempted', 'not_attempted', 'not_attempted']);
		expect(rows.slice(6, 10).every(r => r.error_code === 'aborted')).toBe(true);
		expect(rows[10]).toMatchObject({status: 'invalid', error_code: 'no_token_for_site'});
		const summary = JSON.parse(result.stdout) as {stopped: unknown; sites: Record<string, {stopped?: {reason: string}}>};
		expect(summary.stopped).toBeUndefined();
		expect(summary.sites[sites[1]!.id]!.stopped!.reason).toBe('auth');
	});

	it('sites that share one token (a workspace token) share its budget', async () => {
		const sites = ['x', 'y'].map(label => makeSite({label: `workspace-${label}`, count: 25}));
		const sandbox = await startSandbox({sites, rate: {count: 10, windowMs: 1000}, tokens: [{token: 'workspace-token', introspect: false}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...sites.flatMap(site => assetIds(site).map(id => [site.id, id, 'alt']))]);
		const tokens = new Map(sites.map(site => [site.id, 'workspace-token']));
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens, rate: {count: 10, windowMs: 1000}});
		expect(summary.statuses.updated).toBe(50);
		expect(summary.tooManyRequests).toBe(0);
		expect(summary.requests).toBe(sandbox.requests.length);
	});
});

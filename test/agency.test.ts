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
		// Interleaved, as an agency's sheet would be.
		rows.sort((x, y) => x[1]!.localeCompare(y[1]!));
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...rows]);
		const tokens = new Map(sites.map((site, i) => [site.id, `token-${i}`]));
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens});
		expect(summary.statuses.updated).toBe(60);
		expect(summary.tooManyRequests).toBe(0);
		// Side by side: every site's PATCHes start before any other site's end (no timing thresholds).
		const spans = [0, 1, 2].map(i => {
			const times = sandbox.requests.filter(r => r.method === 'PATCH' && r.token === `token#${i}`).map(r => r.at);
			return {first: Math.min(...times), last: Math.max(...times)};
		});
		for (const a of spans) {
			for (const b of spans) {
				expect(a.first).toBeLessThan(b.last);
			}
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
});

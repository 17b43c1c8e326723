import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {objectId} from '../../src/sandbox/state.js';
import type {Summary} from '../../src/report/summary.js';
import {assetIds, makeSite, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

describe('200 sites at a glance', () => {
	it('the summary names the sites with problems and counts the rest; --json and the report keep every site', {timeout: 300_000}, async () => {
		const sites = Array.from({length: 200}, (_, i) => makeSite({label: `glance-${i}`, count: 1}));
		const broken = sites[17]!; // its token is refused: stopped
		const failing = sites[120]!; // a row for an asset it does not have: failed not_in_site
		const tokens = sites.map((site, i) => ({token: `token-${i}`, siteIds: [site.id]}));
		const sandbox = await startSandbox({sites, tokens: tokens.filter(t => t.token !== 'token-17'), rate: {count: 5000, windowMs: 1000}});
		const dir = await tempDir();
		const tokensFile = join(dir, 'tokens.txt');
		await writeFile(tokensFile, `# 200 clients\n${tokens.map(t => `${t.siteIds[0]}=${t.token}`).join('\n')}\n`);
		const jobs = await writeCsv(join(dir, 'all.csv'), [
			['siteId', 'assetId', 'altText'],
			...sites.map(site => [site.id, site === failing ? objectId('glance/nowhere') : assetIds(site)[0]!, `Alt for ${site.id}`]),
		]);
		const report = join(dir, 'report.html');
		const run = await runCli(['run', jobs, '--tokens', tokensFile, '--prefetch', '--api-base', sandbox.url, '--json', '--report', report]);
		expect(run.code, run.stderr).toBe(1);
		const siteLines = run.stderr.split('\n').filter(line => line.startsWith('  site '));
		expect(siteLines).toHaveLength(2);
		expect(siteLines[0]).toContain(`site ${broken.id}: not_attempted 1`);
		expect(siteLines[0]).toContain('stopped (auth)');
		expect(siteLines[1]).toContain(`site ${failing.id}: failed 1`);
		expect(run.stderr).toContain('198 sites fine (of 200)');
		const summary = JSON.parse(run.stdout) as Summary;
		expect(Object.keys(summary.sites ?? {})).toHaveLength(200);
		expect(summary.statuses).toMatchObject({updated: 198, failed: 1, not_attempted: 1});
		const html = await readFile(report, 'utf8');
		for (const site of sites) {
			expect(html).toContain(site.id);
		}
	});
});

import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {assetIds, jobsFor, makeSite, patchesSent, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

const env = {WEBFLOW_TOKEN: 'sandbox-token'};

describe('the summaries say what happened, in words that are true', () => {
	it('export: an unknown --locale is a locale stop, not an auth one; rows are counted "of N assets read"', async () => {
		const site = makeSite({label: 'wording-export', count: 4});
		site.assets.get(assetIds(site)[0]!)!.altText.set(site.primaryLocale, 'Has alt text');
		const sandbox = await startSandbox({sites: [site]});
		const dir = await tempDir();
		const unknown = await runCli(['export', '--site', site.id, '--api-base', sandbox.url, '--locale', '1'.repeat(24), '--out', join(dir, 'x.csv'), '--json'], {env});
		expect(unknown.code).toBe(3);
		expect(unknown.stderr).toContain(`Export stopped (locale): the site has no locale(s) ${'1'.repeat(24)}`);
		expect(JSON.parse(unknown.stdout)).toMatchObject({stopped: {reason: 'locale'}});
		const missing = await runCli(['export', '--site', site.id, '--api-base', sandbox.url, '--missing-only', '--out', join(dir, 'missing.csv')], {env});
		expect(missing.code).toBe(0);
		expect(missing.stderr).toContain(`Exported 3 rows (of 4 assets read) of site ${site.id}`);
	});

	it('undo --dry-run --allow-clear says what a real undo would send, not that it sent it', async () => {
		const site = makeSite({label: 'wording-undo', count: 2});
		const sandbox = await startSandbox({sites: [site]});
		const dir = await tempDir();
		const jobs = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site));
		expect((await runCli(['run', jobs, '--site', site.id, '--api-base', sandbox.url], {env})).code).toBe(0);
		const before = patchesSent(sandbox).length;
		const dry = await runCli(['undo', join(dir, 'jobs.results.csv'), '--site', site.id, '--api-base', sandbox.url, '--allow-clear', '--dry-run'], {env});
		expect(dry.code).toBe(0);
		expect(patchesSent(sandbox)).toHaveLength(before);
		expect(dry.stderr).toContain('alt text would be cleared on 2 rows (--allow-clear): a real undo sends altText ""');
		expect(dry.stderr).not.toContain('sent altText');
		const rows = await results(join(dir, 'jobs.results.undo.dry-run.csv'));
		expect(rows.map(row => row.error_message)).toEqual([expect.stringContaining('would be cleared'), expect.stringContaining('would be cleared')]);
	});

	it('--resume says how many rows it carried over, and they keep their status', async () => {
		const site = makeSite({label: 'wording-resume', count: 3});
		const sandbox = await startSandbox({sites: [site]});
		const dir = await tempDir();
		const jobs = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site));
		expect((await runCli(['run', jobs, '--api-base', sandbox.url], {env})).code).toBe(0);
		const again = await runCli(['run', jobs, '--api-base', sandbox.url, '--resume', '--json'], {env});
		expect(again.code).toBe(0);
		expect(again.stderr).toContain('carried over by --resume: 3 rows');
		expect(JSON.parse(again.stdout)).toMatchObject({carriedOver: 3, statuses: {updated: 3, unchanged: 0}});
	});
});

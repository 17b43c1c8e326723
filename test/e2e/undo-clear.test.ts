import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {assetIds, makeSite, patchesSent, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

const env = {WEBFLOW_TOKEN: 'sandbox-token'};

describe('undo of alt text filled where it was empty', () => {
	for (const site of [true, false]) {
		it(`a row an editor changed since is a conflict, not needs_allow_clear (${site ? 'with --site' : 'one GET per asset'})`, async () => {
			const made = makeSite({label: `undo-clear-conflict-${String(site)}`, count: 3});
			const ids = assetIds(made);
			const sandbox = await startSandbox({sites: [made]});
			const dir = await tempDir();
			const jobs = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map((id, i) => [id, `Filled ${i}`])]);
			expect((await runCli(['run', jobs, '--site', made.id, '--api-base', sandbox.url], {env})).code).toBe(0);
			sandbox.editAsset({id: ids[1]!, altText: 'An editor\'s fix'});
			const where = site ? ['--site', made.id] : [];
			const refused = await runCli(['undo', join(dir, 'jobs.results.csv'), ...where, '--api-base', sandbox.url, '--json'], {env});
			expect(refused.code).toBe(1);
			const rows = await results(join(dir, 'jobs.results.undo.csv'));
			expect(rows.map(row => [row.status, row.error_code])).toEqual([['invalid', 'needs_allow_clear'], ['conflict', 'conflict'], ['invalid', 'needs_allow_clear']]);
			// Nothing sent by the refused undo: the 3 PATCHes are the run's.
			expect(patchesSent(sandbox)).toHaveLength(3);

			const cleared = await runCli(['undo', join(dir, 'jobs.results.csv'), ...where, '--api-base', sandbox.url, '--allow-clear', '--out', join(dir, 'cleared.csv')], {env});
			expect(cleared.code).toBe(1);
			expect((await results(join(dir, 'cleared.csv'))).map(row => row.status)).toEqual(['updated', 'conflict', 'updated']);
			expect(ids.map(id => sandbox.asset(id)!.altText.get(made.primaryLocale) ?? '')).toEqual(['', 'An editor\'s fix', '']);
		});
	}
});

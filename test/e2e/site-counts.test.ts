import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {siteTokens} from '../../src/sandbox/server.js';
import {assetIds, makeSite, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

type Counts = Record<string, number>;

function sum(parts: Counts[]): Counts {
	const total: Counts = {};
	for (const part of parts) {
		for (const [status, n] of Object.entries(part)) {
			total[status] = (total[status] ?? 0) + n;
		}
	}

	return total;
}

describe('per-site counts add up to the total', () => {
	for (const prefetch of [false, true]) {
		it(`invalid rows count under their site, rows without a site under "default"${prefetch ? ' (--prefetch)' : ''}`, async () => {
			const [a, b] = ['a', 'b'].map(label => makeSite({label: `counts-${label}-${String(prefetch)}`, count: 3}));
			const sandbox = await startSandbox({sites: [a!, b!], tokens: siteTokens([[a!.id, 'token-a'], [b!.id, 'token-b']])});
			const dir = await tempDir();
			const tokensFile = join(dir, 'tokens.txt');
			await writeFile(tokensFile, `${a!.id}=token-a\n${b!.id}=token-b\n`);
			const stranger = 'c'.repeat(24);
			const jobs = await writeCsv(join(dir, 'jobs.csv'), [
				['siteId', 'assetId', 'altText'],
				...assetIds(a!).map(id => [a!.id, id, 'Alt']),
				[a!.id, 'not-an-id', 'Alt'],
				[b!.id, assetIds(b!)[0]!, ''],
				[stranger, 'd'.repeat(24), 'A site with no token'],
				['', 'e'.repeat(24), 'No site'],
			]);
			const ran = await runCli(['run', jobs, '--tokens', tokensFile, '--api-base', sandbox.url, '--json', ...prefetch ? ['--prefetch'] : []]);
			expect(ran.code).toBe(1);
			const summary = JSON.parse(ran.stdout) as {rows: number; statuses: Counts; sites: Record<string, {statuses: Counts; requests: number}>};
			expect(summary.rows).toBe(7);
			expect(sum(Object.values(summary.sites).map(site => site.statuses))).toEqual(summary.statuses);
			expect(summary.sites[a!.id]!.statuses).toMatchObject({updated: 3, invalid: 1});
			expect(summary.sites[b!.id]!.statuses).toMatchObject({invalid: 1});
			expect(summary.sites[stranger]).toMatchObject({statuses: {invalid: 1}, requests: 0});
			expect(summary.sites.default!.statuses).toMatchObject({invalid: 1});
			expect(ran.stderr).toContain(`site ${stranger}: invalid 1; nothing sent`);
		});
	}
});

import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {EXAMPLE_JOBS} from '../../src/commands/demo.js';
import {siteTokens, type Sandbox} from '../../src/sandbox/server.js';
import {assetIds, makeSite, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

type Counted = {requests: number; estimatedRequests?: number; statuses: Record<string, number>; sites?: Record<string, {requests: number; estimatedRequests?: number}>};

/**
 * The dry run, then the real run of the same command on the same site (the dry run changed
 * nothing): what the dry run said a real run would send, and what the real run sent.
 */
async function dryThenReal({sandbox, args, env}: {sandbox: Sandbox; args: string[]; env: Record<string, string>}): Promise<{dry: Counted; real: Counted; received: number}> {
	const dir = await tempDir();
	const dryRun = await runCli(['run', ...args, '--api-base', sandbox.url, '--dry-run', '--json', '--out', join(dir, 'dry.csv')], {env});
	expect(dryRun.stdout, dryRun.stderr).not.toBe('');
	const dry = JSON.parse(dryRun.stdout) as Counted;
	sandbox.requests.length = 0;
	const realRun = await runCli(['run', ...args, '--api-base', sandbox.url, '--json', '--out', join(dir, 'real.csv')], {env});
	expect(realRun.stdout, realRun.stderr).not.toBe('');
	return {dry, real: JSON.parse(realRun.stdout) as Counted, received: sandbox.requests.length};
}

function expectExact({dry, real, received}: {dry: Counted; real: Counted; received: number}): void {
	expect(real.requests).toBe(received);
	expect(dry.estimatedRequests).toBe(real.requests);
	for (const [site, part] of Object.entries(real.sites ?? {})) {
		expect([site, dry.sites?.[site]?.estimatedRequests]).toEqual([site, part.requests]);
	}
}

describe('the dry run\'s cost is the real run\'s, counted the same way', () => {
	for (const onlyMissing of [false, true]) {
		it(`the example job with --site${onlyMissing ? ' --only-missing (a GET before each write)' : ''}`, async () => {
			const sandbox = await startSandbox({tokens: [{token: 'demo-token'}]});
			const [site] = sandbox.sites.keys();
			const counted = await dryThenReal({sandbox, args: [EXAMPLE_JOBS, '--site', site!, ...onlyMissing ? ['--only-missing'] : []], env: {WEBFLOW_TOKEN: 'demo-token'}});
			expect(counted.real.statuses.updated).toBeGreaterThan(0);
			expectExact(counted);
		}, 120_000);
	}

	for (const onlyMissing of [false, true]) {
		it(`three client sites with --tokens --prefetch${onlyMissing ? ' --only-missing' : ''}: one introspect per token, in all and per site`, async () => {
			const sites = ['one', 'two', 'three'].map(label => makeSite({label: `cost-${label}`, count: 8}));
			for (const site of sites) {
				for (const [i, asset] of [...site.assets.values()].entries()) {
					asset.altText.set(site.primaryLocale, i % 2 === 0 ? 'Has alt text' : null);
				}
			}

			const pairs = sites.map((site, i) => [site.id, `cost-token-${i}`] as const);
			const sandbox = await startSandbox({sites, tokens: siteTokens(pairs)});
			const dir = await tempDir();
			const tokensFile = join(dir, 'tokens.txt');
			await writeFile(tokensFile, pairs.map(([site, token]) => `${site}=${token}\n`).join(''));
			const jobs = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...sites.flatMap(site => assetIds(site).map(id => [site.id, id, `New alt for ${id}`]))]);
			const counted = await dryThenReal({sandbox, args: [jobs, '--tokens', tokensFile, '--prefetch', ...onlyMissing ? ['--only-missing'] : []], env: {}});
			expect(counted.real.statuses.updated).toBe(onlyMissing ? 12 : 24);
			expectExact(counted);
		}, 120_000);
	}

	it('a dry run that reads nothing (no --site) counts the introspect a real run sends first', async () => {
		const site = makeSite({label: 'cost-offline', count: 4});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: 'offline-token'}]});
		const dir = await tempDir();
		const jobs = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...assetIds(site).map(id => [id, 'Alt']), ['not-an-id', 'x']]);
		const counted = await dryThenReal({sandbox, args: [jobs], env: {WEBFLOW_TOKEN: 'offline-token'}});
		expect(counted.dry.requests).toBe(0);
		expectExact(counted);
	}, 120_000);
});

import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {makeSite, runCli, startSandbox, tempDir} from '../helpers.js';
import {freePort, HAS_REDIS, startRedis} from '../redis-server.js';

const TOKEN = 'redis-export-token-7d1e';

/** Export and audit spend the token's budget as a run does: with --redis (or REDIS_URL) they count in the shared budget too. */
describe('export and audit share the token\'s budget through Redis', () => {
	it.skipIf(!HAS_REDIS)('export and audit with --redis join the shared budget; REDIS_URL does too', async () => {
		const site = makeSite({label: 'redis-export', count: 3});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}]});
		const {url} = await startRedis();
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: join(dir, 'ledger')};
		const exported = await runCli(['export', '--site', site.id, '--out', join(dir, 'assets.csv'), '--redis', url, '--api-base', sandbox.url], {env});
		expect(exported.code).toBe(0);
		expect(exported.stderr).toContain('rate budget shared through Redis');
		const audited = await runCli(['audit', '--site', site.id, '--out', join(dir, 'audit.csv'), '--api-base', sandbox.url], {env: {...env, REDIS_URL: url}});
		expect(audited.stderr).toContain('rate budget shared through Redis');
		expect(existsSync(join(dir, 'audit.csv'))).toBe(true);
	}, 60_000);

	it('a Redis nobody listens on: export carries on with a local budget and says so', async () => {
		const site = makeSite({label: 'redis-export-down', count: 3});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}]});
		const dir = await tempDir();
		const exported = await runCli(['export', '--site', site.id, '--out', join(dir, 'assets.csv'), '--redis', `redis://127.0.0.1:${await freePort()}`, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(exported.code).toBe(0);
		expect(exported.stderr).toMatch(/Redis could not be reached: carrying on with a local budget/);
		expect(existsSync(join(dir, 'assets.csv'))).toBe(true);
	}, 60_000);
});

import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {makeSite, jobsFor, patchesSent, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';
import {freePort, HAS_REDIS, startRedis, startSilentServer} from '../redis-server.js';

const TOKEN = 'redis-start-token-41c2';

/**
 * A run with `--redis` whose Redis can't be used from the start: it carries on with a local budget
 * and says so (log and summary), every row gets its result, exit as without Redis, no lock left.
 */
async function runWithRedis(label: string, redis: string, {viaEnv = false}: {viaEnv?: boolean} = {}) {
	const site = makeSite({label, count: 5});
	const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}]});
	const dir = await tempDir();
	const jobs = await writeCsv(join(dir, 'one.csv'), jobsFor(site));
	const args = ['run', jobs, '--api-base', sandbox.url, '--json', ...viaEnv ? [] : ['--redis', redis]];
	const ran = await runCli(args, {env: {WEBFLOW_TOKEN: TOKEN, ...viaEnv ? {REDIS_URL: redis} : {}}});
	const out = join(dir, 'one.results.csv');
	return {ran, out, sandbox, rows: existsSync(out) ? await results(out) : []};
}

function expectLocalCarryOn({ran, out, sandbox, rows}: Awaited<ReturnType<typeof runWithRedis>>, reason: RegExp) {
	expect(ran.code).toBe(0);
	expect(ran.stderr).toMatch(/Redis could not be reached: carrying on with a local budget/);
	expect(ran.stderr).toMatch(/budget: local, Redis not reached \(100% of the rate\): Redis unreachable at start/);
	expect(ran.stderr).toMatch(reason);
	const summary = JSON.parse(ran.stdout) as {statuses: Record<string, number>; budget: {kind: string; share: number; reason: string}};
	expect(summary.budget).toMatchObject({kind: 'fallback', share: 1});
	expect(summary.budget.reason).toMatch(reason);
	expect(summary.statuses.updated).toBe(5);
	expect(rows).toHaveLength(5);
	expect(rows.every(row => row.status === 'updated')).toBe(true);
	expect(patchesSent(sandbox)).toHaveLength(5);
	expect(existsSync(`${out}.lock`)).toBe(false);
}

describe('Redis that cannot be used when the run starts', () => {
	it('a port nothing listens on (--redis and REDIS_URL): a local budget, said, every row done', async () => {
		const url = `redis://127.0.0.1:${await freePort()}`;
		expectLocalCarryOn(await runWithRedis('redis-start-refused', url), /ECONNREFUSED/);
		expectLocalCarryOn(await runWithRedis('redis-start-refused-env', url, {viaEnv: true}), /ECONNREFUSED/);
	}, 120_000);

	it('a server that accepts the connection and never answers: given up on, then a local budget', async () => {
		const silent = await startSilentServer();
		const ran = await runWithRedis('redis-start-silent', silent.url);
		expect(silent.connections()).toBeGreaterThan(0);
		expectLocalCarryOn(ran, /no answer from Redis/);
	}, 120_000);

	it.skipIf(!HAS_REDIS)('a Redis that refuses the connection\'s auth (no password, a wrong one): a local budget', async () => {
		const {port} = await startRedis({password: 'right-password-9'});
		expectLocalCarryOn(await runWithRedis('redis-start-noauth', `redis://127.0.0.1:${port}`), /NOAUTH/);
		expectLocalCarryOn(await runWithRedis('redis-start-wrongpass', `redis://:wrong-password@127.0.0.1:${port}`), /WRONGPASS/);
		// The right password joins the shared budget: the refusal above was the auth, nothing else.
		const joined = await runWithRedis('redis-start-auth', `redis://:right-password-9@127.0.0.1:${port}`);
		expect(joined.ran.code).toBe(0);
		expect(JSON.parse(joined.ran.stdout)).toMatchObject({budget: {kind: 'shared'}});
	}, 120_000);
});

import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {silentLogger} from '../../src/logger.js';
import {SharedBudget} from '../../src/schedule/shared-budget.js';
import {assetIds, makeSite, patchesSent, results, spawnCli, startSandbox, tempDir, until, writeCsv} from '../helpers.js';
import {HAS_REDIS, startRedis} from '../redis-server.js';

const TOKEN = 'shared-agency-token-7d1e';

async function twoJobs(label: string, count: number) {
	const site = makeSite({label, count: count * 2});
	const ids = assetIds(site);
	const dir = await tempDir();
	const first = await writeCsv(join(dir, 'first.csv'), [['assetId', 'altText'], ...ids.slice(0, count).map(id => [id, 'one'])]);
	const second = await writeCsv(join(dir, 'second.csv'), [['assetId', 'altText'], ...ids.slice(count).map(id => [id, 'two'])]);
	return {site, first, second};
}

describe.skipIf(!HAS_REDIS)('one budget across processes through Redis', () => {
	it('two CLI processes on one token stay within the limit together, with no 429', async () => {
		const {url} = await startRedis();
		const {site, first, second} = await twoJobs('redis-shared', 40);
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 10, windowMs: 1000}});
		const env = {WEBFLOW_TOKEN: TOKEN};
		const a = spawnCli(['run', first, '--api-base', sandbox.url, '--redis', url], {env});
		const b = spawnCli(['run', second, '--api-base', sandbox.url], {env: {...env, REDIS_URL: url}});
		const [ra, rb] = await Promise.all([a.done, b.done]);
		expect([ra.code, rb.code]).toEqual([0, 0]);
		expect(ra.stderr).toMatch(/budget: shared through Redis/);
		expect(sandbox.requests.filter(r => r.status === 429)).toHaveLength(0);
		expect((await results(`${first}`.replace('.csv', '.results.csv'))).every(r => r.status === 'updated')).toBe(true);
		expect((await results(`${second}`.replace('.csv', '.results.csv'))).every(r => r.status === 'updated')).toBe(true);
		// Both ran at once: their PATCHes overlap in time rather than one after the other.
		const patches = patchesSent(sandbox);
		const byValue = (alt: string) => patches.filter(r => ids(site, alt).has(r.path.split('/').at(-1)!)).map(r => r.at);
		const one = byValue('one');
		const two = byValue('two');
		expect(Math.min(...one)).toBeLessThan(Math.max(...two));
		expect(Math.min(...two)).toBeLessThan(Math.max(...one));
	});

	it('two CLI processes through one Redis spend each window\'s budget at once (a burst), not spaced evenly, with no 429', async () => {
		const {url} = await startRedis();
		const {site, first, second} = await twoJobs('redis-burst', 30);
		// 20 requests per 2 s: spaced evenly, no 500 ms ever held more than 5 of them.
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 20, windowMs: 2000}});
		const env = {WEBFLOW_TOKEN: TOKEN};
		const a = spawnCli(['run', first, '--api-base', sandbox.url, '--redis', url, '--json'], {env});
		const b = spawnCli(['run', second, '--api-base', sandbox.url, '--redis', url, '--json'], {env});
		const [ra, rb] = await Promise.all([a.done, b.done]);
		expect([ra.code, rb.code]).toEqual([0, 0]);
		for (const {stdout} of [ra, rb]) {
			expect((JSON.parse(stdout) as {budget: unknown}).budget).toEqual({kind: 'shared', peers: 1});
		}

		expect(sandbox.requests.filter(r => r.status === 429)).toHaveLength(0);
		for (const file of [first, second]) {
			expect((await results(file.replace('.csv', '.results.csv'))).filter(r => r.status === 'updated')).toHaveLength(30);
		}

		// Some 500 ms held at least three quarters of a window's budget: both processes burst into it together.
		const at = sandbox.requests.map(r => r.at);
		const busiest = Math.max(...at.map(from => at.filter(t => t >= from && t < from + 500).length));
		expect(busiest).toBeGreaterThanOrEqual(15);
	}, 60_000);

	it('when Redis dies mid-run both processes carry on, on a local budget, and say so; nothing is lost', async () => {
		const {url, server} = await startRedis();
		const {site, first, second} = await twoJobs('redis-killed', 40);
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 10, windowMs: 1000}});
		const env = {WEBFLOW_TOKEN: TOKEN};
		const a = spawnCli(['run', first, '--api-base', sandbox.url, '--redis', url, '--json'], {env});
		const b = spawnCli(['run', second, '--api-base', sandbox.url, '--redis', url, '--json'], {env});
		// Both processes have written (each has seen the other through Redis) before Redis dies: on a
		// loaded machine one process can start seconds after the other.
		const wrote = (alt: string) => patchesSent(sandbox).filter(r => ids(site, alt).has(r.path.split('/').at(-1)!)).length;
		await until(() => wrote('one') >= 5 && wrote('two') >= 5, 40_000);
		server.kill('SIGKILL');
		const [ra, rb] = await Promise.all([a.done, b.done]);
		expect([ra.code, rb.code]).toEqual([0, 0]);
		expect(ra.stderr + rb.stderr).toMatch(/local after Redis went away/);
		// Each carries on with its share of the budget: 1 / the processes it knew, here a half each.
		for (const {stdout} of [ra, rb]) {
			expect((JSON.parse(stdout) as {budget: unknown}).budget).toMatchObject({kind: 'fallback', share: 0.5});
		}

		for (const file of [first, second]) {
			const rows = await results(file.replace('.csv', '.results.csv'));
			expect(rows).toHaveLength(40);
			expect(rows.every(r => r.status === 'updated')).toBe(true);
		}

		for (const id of assetIds(site)) {
			expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toMatch(/^(one|two)$/);
		}
	});
});

describe.skipIf(!HAS_REDIS)('a results file that cannot be opened', () => {
	it('with --redis the run still ends (exit 2) and closes its Redis connection instead of hanging', async () => {
		const {url} = await startRedis();
		const {site, first} = await twoJobs('redis-journal', 3);
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}]});
		// A results file --resume cannot read: a record far past the longest a results file may hold.
		await writeFile(first.replace('.csv', '.results.csv'), `row,assetId,altText,status\r\n2,a,"${'x'.repeat(5 * 1024 * 1024)}",updated\r\n`);
		const {child, done} = spawnCli(['run', first, '--api-base', sandbox.url, '--redis', url, '--resume'], {env: {WEBFLOW_TOKEN: TOKEN}});
		const ended = await Promise.race([done, new Promise<undefined>(resolve => {
			setTimeout(resolve, 20_000);
		})]);
		if (ended === undefined) {
			child.kill('SIGKILL');
		}

		expect(ended?.code).toBe(2);
		expect(ended?.stderr).toContain('[results_unreadable]');
		expect(patchesSent(sandbox)).toHaveLength(0);
	}, 30_000);
});

describe.skipIf(!HAS_REDIS)('the shared budget in Redis', () => {
	it('grants a window\'s budget across processes at once, then only as the server\'s word or the window frees room', async () => {
		const {url} = await startRedis();
		const join = async () => SharedBudget.join({url, key: 'altbatch:test-grants', logger: silentLogger(), now: Date.now, events: {onPeers() {}, onPause() {}, onLost() {}}});
		const [a, b] = [await join(), await join()];
		const ask = {mode: 'burst', limit: 3, windowMs: 60_000, spacingMs: 0} as const;
		const grants = [await a.take(ask), await b.take(ask), await a.take(ask)];
		expect(grants).toEqual([{granted: true, grant: 1}, {granted: true, grant: 2}, {granted: true, grant: 3}]);
		// The window's 3 are in flight: the next waits for the window, at most a whole one.
		const refused = await b.take(ask);
		expect(refused).toMatchObject({granted: false});
		expect(refused.granted ? 0 : refused.waitMs).toBeLessThanOrEqual(60_000);
		// The server's word on grant 3: 5 remain (a new window). Grants 1 and 2 were in flight when 3
		// was granted, so the server may count them after it: 3 more may go, not 5.
		a.answer(3, {sent: true, limit: 3, remaining: 5, windowMs: 60_000});
		// Answers out of order (1 and 2 after 3) teach nothing more.
		a.answer(1, {sent: true, limit: 3, remaining: 4, windowMs: 60_000});
		a.answer(2, {sent: true, limit: 3, remaining: 3, windowMs: 60_000});
		const more = [await a.take(ask), await a.take(ask), await a.take(ask), await a.take(ask)];
		expect(more.map(take => take.granted)).toEqual([true, true, true, false]);
		await Promise.all([a.close(), b.close()]);
	});

	it('publishes a pause as a duration, so a peer on a machine with another clock waits as long', async () => {
		const {url} = await startRedis();
		const heard: Array<{forMs: number; reason: string}> = [];
		const join = async (now: () => number, onPause: (forMs: number, reason: string) => void) => SharedBudget.join({
			url,
			key: 'altbatch:test-durations',
			logger: silentLogger(),
			now,
			events: {onPeers() {}, onPause, onLost() {}},
		});
		const a = await join(() => Date.now(), () => undefined);
		// The peer's clock is an hour ahead: an absolute time would mean nothing to it.
		const b = await join(() => Date.now() + 3_600_000, (forMs, reason) => heard.push({forMs, reason}));
		a.publishPause(5000, '429');
		await until(() => heard.length > 0, 5000);
		expect(heard).toEqual([{forMs: 5000, reason: '429'}]);
		await Promise.all([a.close(), b.close()]);
	});
});

function ids(site: ReturnType<typeof makeSite>, alt: string): Set<string> {
	return new Set([...site.assets.values()].filter(a => a.altText.get(site.primaryLocale) === alt).map(a => a.id));
}

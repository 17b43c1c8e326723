import {execFileSync} from 'node:child_process';
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {assetIds, jobsFor, makeSite, patchesSent, results, runCli, spawnCli, startSandbox, tempDir, until, writeCsv} from './helpers.js';

const TOKEN = 'wf-secret-token-4f9a8b7c6d5e';

describe('the altbatch command', () => {
	it('exits 0 when every row is fine and prints the summary as JSON with --json', async () => {
		const site = makeSite({label: 'cli-ok', count: 3});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--json'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(result.code).toBe(0);
		const summary = JSON.parse(result.stdout) as {statuses: Record<string, number>; out: string};
		expect(summary.statuses.updated).toBe(3);
		expect(summary.out).toBe(join(dir, 'jobs.results.csv'));
		expect(result.stderr).toMatch(/3 rows in .*updated 3/);
	});

	it('exits 1 when some rows are invalid or failed', async () => {
		const site = makeSite({label: 'cli-partial', count: 1});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [assetIds(site)[0]!, 'alt'], ['bad', 'x'], ['c'.repeat(24), 'missing']]);
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--out', join(dir, 'out.csv')], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(result.code).toBe(1);
		expect((await results(join(dir, 'out.csv'))).map(r => r.status)).toEqual(['updated', 'invalid', 'failed']);
	});

	it('exits 2 on unusable input or options, naming the file and line, and sends nothing', async () => {
		const sandbox = await startSandbox({tokens: [{token: TOKEN}]});
		const dir = await tempDir();
		const broken = join(dir, 'broken.csv');
		await writeFile(broken, `assetId,altText\n${'a'.repeat(24)},"open\n`);
		const env = {WEBFLOW_TOKEN: TOKEN};
		const refused = await runCli(['run', broken, '--api-base', sandbox.url], {env});
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain(`${broken}:2:`);
		expect((await runCli(['run', join(dir, 'missing.csv')], {env})).code).toBe(2);
		expect((await runCli(['run', broken, '--rate', 'fast'], {env})).stderr).toMatch(/--rate/);
		expect((await runCli(['run', broken, '--api-base', 'http://api.example.com'], {env})).code).toBe(2);
		expect((await runCli(['run', broken, '--token', TOKEN], {env})).code).toBe(2);
		expect((await runCli(['run', broken, '--bogus'], {env})).code).toBe(2);
		expect(sandbox.requests).toHaveLength(0);
	});

	it('--out may name a folder for the results; a pipe or device is refused and left as it was', async () => {
		const site = makeSite({label: 'cli-out', count: 2});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const folder = join(dir, 'results');
		await mkdir(folder);
		const env = {WEBFLOW_TOKEN: TOKEN};
		expect((await runCli(['run', input, '--api-base', sandbox.url, '--out', folder], {env})).code).toBe(0);
		expect((await results(join(folder, 'jobs.results.csv'))).map(r => r.status)).toEqual(['updated', 'updated']);
		const fifo = join(dir, 'pipe');
		execFileSync('mkfifo', [fifo]);
		const refused = await runCli(['run', input, '--api-base', sandbox.url, '--out', fifo], {env});
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain('is not a regular file');
		expect((await stat(fifo)).isFIFO()).toBe(true);
	});

	it('exits 3 when the token is refused, with a message saying so', async () => {
		const site = makeSite({label: 'cli-refused', count: 2});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--rate', '50/s'], {env: {WEBFLOW_TOKEN: 'not-the-token'}});
		expect(result.code).toBe(3);
		expect(result.stderr).toMatch(/token was refused \(401/);
		expect((await results(join(dir, 'jobs.results.csv'))).map(r => r.status)).toEqual(['failed', 'not_attempted']);
	});

	it('never shows the token in output, logs or results, whatever happens', async () => {
		const site = makeSite({label: 'cli-secret', count: 6});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 100, windowMs: 1000}, slowMs: 2000});
		const ids = assetIds(site);
		sandbox.failNextFor(ids[0]!, 'drop', 'drop', 'drop');
		sandbox.failNextFor(ids[1]!, 'html503', 'error500', 'truncate');
		sandbox.failNextFor(ids[2]!, 'slow', 'slow', 'slow');
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map(id => [id, 'alt']), ['d'.repeat(24), 'nope']]);
		const tokenFile = join(dir, 'token.txt');
		await writeFile(tokenFile, `${TOKEN}\n`);
		const log = join(dir, 'log.ndjson');
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--token-file', tokenFile, '--log-level', 'trace', '--log-file', log, '--max-attempts', '3', '--timeout', '300', '--json']);
		expect(result.code).toBe(1);
		const everything = [result.stdout, result.stderr, await readFile(log, 'utf8'), await readFile(join(dir, 'jobs.results.csv'), 'utf8')].join('\n');
		expect(everything).toContain('network_error');
		expect(everything).toContain('timeout');
		expect(everything).not.toContain(TOKEN);
		expect(everything).not.toContain(TOKEN.slice(0, 12));
	});

	it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('on %s (Ctrl-C, kill, a closed terminal all alike) lets the requests in flight finish, writes every row and exits 130', async signal => {
		const site = makeSite({label: `cli-${signal}`, count: 40});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 10, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const {child, done} = spawnCli(['run', input, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: TOKEN}});
		await until(() => patchesSent(sandbox).length >= 5);
		child.kill(signal);
		const result = await done;
		expect(result.code).toBe(130);
		const rows = await results(join(dir, 'jobs.results.csv'));
		expect(rows.map(r => Number(r.row))).toEqual(Array.from({length: 40}, (_, i) => i + 2));
		const applied = sandbox.requests.filter(r => r.method === 'PATCH' && r.status === 200).length;
		expect(rows.filter(r => r.status === 'updated')).toHaveLength(applied);
		expect(rows.filter(r => r.status === 'not_attempted' && r.error_code === 'interrupted')).toHaveLength(40 - applied);
	});

	it('on Ctrl-C during the --site prefetch exits 130 without waiting out the queued list pages, and counts the pages sent', async () => {
		const site = makeSite({label: 'cli-prefetch-interrupt', count: 3000});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 60, windowMs: 60_000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...assetIds(site).slice(0, 5).map(id => [id, 'alt'])]);
		// Spaced 3 s apart (a told --rate below the budget): the 29 list pages left waiting for their
		// slots would hold the exit for minutes.
		const {child, done} = spawnCli(['run', input, '--api-base', sandbox.url, '--site', site.id, '--rate', '20/min', '--json'], {env: {WEBFLOW_TOKEN: TOKEN}});
		const listed = () => sandbox.requests.filter(r => r.method === 'GET' && r.path.endsWith('/assets')).length;
		await until(() => listed() >= 1);
		child.kill('SIGINT');
		const result = await done;
		expect(result.code).toBe(130);
		const summary = JSON.parse(result.stdout) as {listRequests: number};
		expect(summary.listRequests).toBe(listed());
		expect((await results(join(dir, 'jobs.results.csv'))).map(r => r.error_code)).toEqual(Array.from({length: 5}, () => 'interrupted'));
	});

	it('after kill -9, --resume redoes only what was not finished and completes the file', async () => {
		const site = makeSite({label: 'cli-kill', count: 60});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 20, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'note'], ...assetIds(site).map((id, i) => [id, `alt ${i}`, `line\nbreak ${i}`])]);
		const out = join(dir, 'jobs.results.csv');
		const env = {WEBFLOW_TOKEN: TOKEN};
		const first = spawnCli(['run', input, '--api-base', sandbox.url, '--concurrency', '4'], {env});
		await until(() => patchesSent(sandbox).length >= 20);
		first.child.kill('SIGKILL');
		await first.done;

		const journal = await results(out);
		const finished = journal.filter(r => r.status === 'updated').length;
		expect(finished).toBeGreaterThanOrEqual(15);
		const patchesBefore = patchesSent(sandbox).length;

		const second = await runCli(['run', input, '--api-base', sandbox.url, '--resume'], {env});
		expect(second.code).toBe(0);
		const rows = await results(out);
		expect(rows.map(r => Number(r.row))).toEqual(Array.from({length: 60}, (_, i) => i + 2));
		expect(rows.every(r => r.status === 'updated')).toBe(true);
		expect(rows[3]!.note).toBe('line\nbreak 3');
		const redone = patchesSent(sandbox).length - patchesBefore - (60 - finished);
		expect(redone).toBeLessThanOrEqual(4); // at most the requests in flight at the kill
		for (const [i, id] of assetIds(site).entries()) {
			expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toBe(`alt ${i}`);
		}
	});

	it('when results can no longer be written (a full disk) stops sending, says so, and --resume finishes the file', async () => {
		const site = makeSite({label: 'cli-full-disk', count: 60});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 200, windowMs: 1000}});
		const dir = await tempDir();
		// Rows with a long note: the results file, not the ledger (about 240 bytes a row), is the file that fills up first.
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'note'], ...assetIds(site).map((id, i) => [id, `alt ${i}`, 'n'.repeat(400)])]);
		const out = join(dir, 'jobs.results.csv');
		const env = {WEBFLOW_TOKEN: TOKEN};
		const full = await runCli(['run', input, '--api-base', sandbox.url, '--concurrency', '2'], {env, fileSizeLimitKb: 4});
		expect(full.code).toBe(1);
		expect(full.stderr).toContain('[results_not_written]');
		expect(full.stderr).toContain('--resume');
		const written = (await results(out)).length;
		expect(written).toBeGreaterThan(5);
		expect(written).toBeLessThan(60);
		// Only the requests already in flight when the write failed were sent after it.
		const sentBefore = patchesSent(sandbox).length;
		expect(sentBefore).toBeLessThanOrEqual(written + 1 + 2);

		const resumed = await runCli(['run', input, '--api-base', sandbox.url, '--resume'], {env});
		expect(resumed.code).toBe(0);
		const rows = await results(out);
		expect(rows.map(r => Number(r.row))).toEqual(Array.from({length: 60}, (_, i) => i + 2));
		expect(rows.every(r => r.status === 'updated')).toBe(true);
		for (const [i, id] of assetIds(site).entries()) {
			expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toBe(`alt ${i}`);
		}
	});

	it('--resume reads its own status even when the input has a column called status', async () => {
		const site = makeSite({label: 'cli-status-column', count: 3});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'status'], ...assetIds(site).map(id => [id, 'alt', 'todo'])]);
		const env = {WEBFLOW_TOKEN: TOKEN};
		expect((await runCli(['run', input, '--api-base', sandbox.url], {env})).code).toBe(0);
		const before = patchesSent(sandbox).length;
		expect((await runCli(['run', input, '--api-base', sandbox.url, '--resume'], {env})).code).toBe(0);
		expect(patchesSent(sandbox).length).toBe(before);
	});

	it('--resume redoes a row whose input was edited since', async () => {
		const site = makeSite({label: 'cli-edited', count: 3});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const ids = assetIds(site);
		const input = join(dir, 'jobs.csv');
		await writeCsv(input, [['assetId', 'altText'], ...ids.map(id => [id, 'old'])]);
		const env = {WEBFLOW_TOKEN: TOKEN};
		expect((await runCli(['run', input, '--api-base', sandbox.url], {env})).code).toBe(0);
		await writeCsv(input, [['assetId', 'altText'], [ids[0]!, 'old'], [ids[1]!, 'new'], [ids[2]!, 'old']]);
		const before = patchesSent(sandbox).length;
		expect((await runCli(['run', input, '--api-base', sandbox.url, '--resume'], {env})).code).toBe(0);
		expect(patchesSent(sandbox).length - before).toBe(1);
		expect(sandbox.asset(ids[1]!)!.altText.get(site.primaryLocale)).toBe('new');
		expect((await results(join(dir, 'jobs.results.csv'))).map(r => r.altText)).toEqual(['old', 'new', 'old']);
	});

	it('refuses a second run on the same results file, naming the holder, and takes over a killed run\'s lock', async () => {
		// 60 rows at 10/s: the first run is still going (about 6 s) while a loaded machine starts the second.
		const site = makeSite({label: 'cli-lock', count: 60});
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 10, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const env = {WEBFLOW_TOKEN: TOKEN};
		const first = spawnCli(['run', input, '--api-base', sandbox.url], {env});
		await until(() => patchesSent(sandbox).length >= 2);
		const second = await runCli(['run', input, '--api-base', sandbox.url], {env});
		expect(second.code).toBe(2);
		expect(second.stderr).toContain(`pid ${first.child.pid}`);
		first.child.kill('SIGKILL');
		await first.done;
		const third = await runCli(['run', input, '--api-base', sandbox.url, '--resume'], {env});
		expect(third.code).toBe(0);
		expect((await results(join(dir, 'jobs.results.csv'))).every(r => r.status === 'updated')).toBe(true);
	});
});

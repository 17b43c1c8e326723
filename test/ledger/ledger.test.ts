import {appendFile, readdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ledgerDir, RunLedger} from '../../src/ledger/ledger.js';
import {readRunFile} from '../../src/ledger/read.js';
import type {SandboxSite} from '../../src/sandbox/state.js';
import {parseCommandLine} from '../../src/cli/command-line.js';
import {history} from '../../src/commands/history.js';
import {silentLogger} from '../../src/logger.js';
import {undo} from '../../src/commands/undo.js';
import {makeSite, patchesSent, results, runCli, runConfig, runJob, spawnCli, startSandbox, tempDir, until, writeCsv} from '../helpers.js';

const TOKEN = 'wf-ledger-token-5e6f7a';
const FAST = {count: 2000, windowMs: 1000};

function liveSite(label: string, count: number): SandboxSite {
	const site = makeSite({label, count});
	for (const [i, asset] of [...site.assets.values()].entries()) {
		asset.altText.set(site.primaryLocale, `Original alt ${i}`);
	}

	return site;
}

type HistoryJson = Array<{id: string; command: string; finishedAt: string | null; pending: number; writes: number; landedUnanswered: number; results: string | null; sites: string[]; statuses: Record<string, number>; apiBase: string}>;

async function historyOf(ledger: string, args: string[] = []): Promise<HistoryJson> {
	// No token, no API: history reads the ledger only.
	const listed = await runCli(['history', '--json', ...args], {env: {ALTBATCH_LEDGER: ledger}});
	expect(listed.code, listed.stderr).toBe(0);
	return JSON.parse(listed.stdout) as HistoryJson;
}

async function runFiles(ledger: string): Promise<string[]> {
	return (await readdir(join(ledger, 'runs'))).map(name => join(ledger, 'runs', name));
}

/**
 * A run of three rows on a site whose first PATCH lands with a truncated answer and second answers
 * too late (both rows fail, both writes are on the site), the third updated.
 */
async function landedButFailed(label: string) {
	const site = liveSite(label, 3);
	const [a, b, c] = [...site.assets.keys()] as [string, string, string];
	const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST, slowMs: 3000});
	sandbox.failNextFor(a, 'truncate', 'truncate');
	sandbox.failNextFor(b, 'slow', 'slow');
	const dir = await tempDir();
	const ledger = join(dir, 'ledger');
	const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a, 'New A'], [b, 'New B'], [c, 'New C']]);
	const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: ledger};
	const ran = await runCli(['run', input, '--api-base', sandbox.url, '--site', site.id, '--max-attempts', '2', '--timeout', '300'], {env});
	return {site, a, b, c, sandbox, dir, ledger, input, env, ran};
}

const altOf = (site: SandboxSite, id: string) => site.assets.get(id)!.altText.get(site.primaryLocale);

describe('the ledger', () => {
	it('is in --ledger, else ALTBATCH_LEDGER, else $XDG_DATA_HOME/altbatch, else ~/.local/share/altbatch', () => {
		expect(ledgerDir({flag: '/a', env: {ALTBATCH_LEDGER: '/b', XDG_DATA_HOME: '/c'}, home: '/h'})).toBe('/a');
		expect(ledgerDir({flag: undefined, env: {ALTBATCH_LEDGER: '/b', XDG_DATA_HOME: '/c'}, home: '/h'})).toBe('/b');
		expect(ledgerDir({flag: undefined, env: {XDG_DATA_HOME: '/c'}, home: '/h'})).toBe('/c/altbatch');
		expect(ledgerDir({flag: undefined, env: {XDG_DATA_HOME: 'relative'}, home: '/h'})).toBe('/h/.local/share/altbatch');
		expect(ledgerDir({flag: undefined, env: {}, home: '/h'})).toBe('/h/.local/share/altbatch');
	});

	it('records each write, synced, before the request leaves: a kill -9 after the server applied it leaves it pending, and the next run settles it', async () => {
		const site = liveSite('ledger-kill', 3);
		const [a, b] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST, slowMs: 60_000});
		sandbox.failNextFor(a!, 'slow');
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a!, 'New alt A']]);
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: ledger, XDG_DATA_HOME: join(dir, 'xdg')};
		const {child, done} = spawnCli(['run', input, '--api-base', sandbox.url, '--site', site.id], {env});
		// The server has applied the PATCH (its answer is held back): the record was on disk before it left.
		await until(() => patchesSent(sandbox).length === 1);
		const [file] = await runFiles(ledger);
		const onDisk = await readFile(file!, 'utf8');
		expect(onDisk).toContain(`"assetId":"${a!}"`);
		expect(onDisk).toContain('"sent":"New alt A"');
		expect(onDisk).toContain('"before":"Original alt 0"');
		expect(onDisk).not.toContain(TOKEN);
		child.kill('SIGKILL');
		await done;
		expect(altOf(site, a!)).toBe('New alt A');

		const [killed] = await historyOf(ledger);
		expect(killed).toMatchObject({finishedAt: null, writes: 1, pending: 1, sites: [site.id], apiBase: sandbox.url});

		// The next run on the site reads the asset and records that the write landed.
		const next = await writeCsv(join(dir, 'next.csv'), [['assetId', 'altText'], [b!, 'New alt B']]);
		const ran = await runCli(['run', next, '--api-base', sandbox.url, '--site', site.id], {env});
		expect(ran.code, ran.stderr).toBe(0);
		const [second, first] = history({ledger, site: undefined});
		expect(second!.writes).toBe(1);
		expect(first).toMatchObject({id: killed!.id, pending: 0, landedUnanswered: 1});
		expect(await readdir(join(dir))).not.toContain('xdg');

		// undo --run takes back the write whose answer never came.
		const undone = await runCli(['undo', '--run', killed!.id], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect(altOf(site, a!)).toBe('Original alt 0');
		expect(altOf(site, b!)).toBe('New alt B');
	});

	it('a write that landed but whose answer was truncated or timed out is pending, and undo --last takes it back although its row failed', async () => {
		const {site, a, b, c, dir, ledger, env, ran} = await landedButFailed('ledger-truncated');
		expect(ran.code).toBe(1);
		const rows = await results(join(dir, 'jobs.results.csv'));
		expect(rows.map(row => [row.status, row.error_code])).toEqual([['failed', 'bad_response'], ['failed', 'timeout'], ['updated', '']]);
		expect([altOf(site, a!), altOf(site, b!)]).toEqual(['New A', 'New B']);
		const [entry] = history({ledger, site: undefined});
		expect(entry).toMatchObject({writes: 3, pending: 2, statuses: {failed: 2, updated: 1}});

		const undone = await runCli(['undo', '--last', '--json'], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect([altOf(site, a!), altOf(site, b!), altOf(site, c!)]).toEqual(['Original alt 0', 'Original alt 1', 'Original alt 2']);
		const [undo, run] = history({ledger, site: undefined});
		expect(undo!.command).toBe('altbatch undo --last --json');
		expect(undo!.results).toBe(join(dir, 'jobs.results.undo.csv'));
		expect(run).toMatchObject({pending: 0, landedUnanswered: 2});
	});

	it('history, undo --run and --last read a ledger whose last line a kill tore', async () => {
		const site = liveSite('ledger-torn', 2);
		const [a] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a!, 'New A']]);
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: ledger};
		expect((await runCli(['run', input, '--api-base', sandbox.url, '--site', site.id], {env})).code).toBe(0);
		const [file] = await runFiles(ledger);
		await appendFile(file!, '{"t":"w","n":1,"target":{"kind":"asset","si');
		expect(readRunFile(file!)).toMatchObject({torn: true});
		const [entry] = history({ledger, site: undefined});
		expect(entry).toMatchObject({writes: 1, pending: 0, statuses: {updated: 1}});
		const undone = await runCli(['undo', '--last'], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect(altOf(site, a!)).toBe('Original alt 0');
	});

	it('a dry run records nothing; history --site lists only that site\'s runs', async () => {
		const site = liveSite('ledger-dry', 2);
		const other = liveSite('ledger-other', 1);
		const sandbox = await startSandbox({sites: [site, other], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [[...site.assets.keys()][0]!, 'New']]);
		const otherInput = await writeCsv(join(dir, 'other.csv'), [['assetId', 'altText'], [[...other.assets.keys()][0]!, 'New']]);
		await runJob({input, apiBase: sandbox.url, site: site.id, dryRun: true, out: join(dir, 'dry.csv'), ledger});
		expect(history({ledger, site: undefined})).toEqual([]);
		await runJob({input, apiBase: sandbox.url, site: site.id, ledger});
		await runJob({input: otherInput, apiBase: sandbox.url, site: other.id, ledger});
		expect(history({ledger, site: undefined})).toHaveLength(2);
		expect(history({ledger, site: site.id}).map(run => run.sites)).toEqual([[site.id]]);
	});

	it('undo --run refuses a run that is not on record, and --api-base naming another API than the run\'s', async () => {
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: ledger};
		expect(() => parseCommandLine(['undo', '--run', '20200101-000000-abcdef'], env)).toThrow('no run "20200101-000000-abcdef" on record');
		expect(() => parseCommandLine(['undo', '--last'], env)).toThrow('no run on record');
		const recorded = RunLedger.open({dir: ledger, run: {command: ['run', 'x.csv'], apiBase: 'http://127.0.0.1:1', jobs: undefined, results: join(dir, 'x.results.csv'), sites: [], undo: false}});
		await recorded.close({statuses: {}});
		const invocation = parseCommandLine(['undo', '--last'], env);
		expect(invocation).toMatchObject({command: 'undo', config: {undoOf: recorded.id, apiBase: 'http://127.0.0.1:1', out: join(dir, 'x.results.undo.csv')}});
		expect(() => parseCommandLine(['undo', '--run', recorded.id, '--api-base', 'https://api.webflow.com'], env)).toThrow('it is undone where it was sent');
	});

	it('pending() resolves only once its records are on disk, and records asked for together share one fsync', async () => {
		const dir = await tempDir();
		const ledger = RunLedger.open({dir, run: {command: ['run', 'x.csv'], apiBase: 'http://127.0.0.1:1', jobs: undefined, results: undefined, sites: [], undo: false}});
		const all = await Promise.all(Array.from({length: 100}, async (_, i) => {
			const pending = await ledger.pending([{target: {kind: 'asset', site: undefined, assetId: `a${i}`, localeId: undefined}, field: 'altText', sent: `v${i}`}]);
			// On disk when it resolves.
			expect(readRunFile(ledger.path)!.writes.some(write => write.sent === `v${i}`)).toBe(true);
			return pending;
		}));
		expect(ledger.syncs).toBeLessThan(5);
		all[0]!.end({result: 'written', httpStatus: 200});
		await ledger.close({statuses: {updated: 1}});
		const read = readRunFile(ledger.path)!;
		expect(read.writes).toHaveLength(100);
		expect(read.writes[0]!.result).toBe('written');
		expect(read.finishedAt).toBeDefined();
	});

	it('keeps an earlier run\'s results when the same command runs again without --resume, and the summary says where; undo\'s own too', async () => {
		const site = liveSite('ledger-keep', 2);
		const [a] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a!, 'First']]);
		const out = join(dir, 'jobs.results.csv');
		const first = await runJob({input, out, apiBase: sandbox.url, site: site.id, ledger});
		expect(first.earlierResults).toBeUndefined();
		await writeCsv(input, [['assetId', 'altText'], [a!, 'Second']]);
		const second = await runJob({input, out, apiBase: sandbox.url, site: site.id, ledger});
		const kept = second.earlierResults!;
		expect(kept).toMatch(/jobs\.results\.\d{8}-\d{6}\.csv$/);
		expect((await results(kept)).map(row => [row.altText, row.previous_alt_text])).toEqual([['First', 'Original alt 0']]);
		expect((await results(out)).map(row => [row.altText, row.previous_alt_text])).toEqual([['Second', 'First']]);
		// The first run's results are found where they were kept.
		expect(history({ledger, site: undefined}).map(run => run.results)).toEqual([out, kept]);

		// A third run the same second: kept beside the other, never over it.
		const third = await runJob({input, out, apiBase: sandbox.url, site: site.id, ledger});
		expect(third.earlierResults).not.toBe(kept);
		expect((await readdir(dir)).filter(name => name.startsWith('jobs.results.'))).toHaveLength(3);

		const undoOut = join(dir, 'jobs.results.undo.csv');
		await undo(runConfig({input: out, out: undoOut, apiBase: sandbox.url, ledger}), {logger: silentLogger()});
		const again = await undo(runConfig({input: out, out: undoOut, apiBase: sandbox.url, ledger}), {logger: silentLogger()});
		expect(again.earlierResults).toMatch(/jobs\.results\.undo\.\d{8}-\d{6}\.csv$/);
	});

	it('our own writes are ours: an exported sheet edited again after its run is an update, not a conflict blaming that run', async () => {
		const site = liveSite('ledger-ours', 2);
		const [a, b] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const sheet = (altA: string) => [['assetId', 'altText', 'exportedAltText'], [a!, altA, 'Original alt 0'], [b!, 'Original alt 1', 'Original alt 1']];
		const input = await writeCsv(join(dir, 'export.csv'), sheet('Edited once'));
		for (const viaSite of [true, false]) {
			site.assets.get(a!)!.altText.set(site.primaryLocale, 'Original alt 0');
			await writeCsv(input, sheet('Edited once'));
			expect((await runJob({input, apiBase: sandbox.url, site: viaSite ? site.id : undefined, ledger})).statuses).toMatchObject({updated: 1, unchanged: 1});
			await writeCsv(input, sheet('Edited twice'));
			const again = await runJob({input, apiBase: sandbox.url, site: viaSite ? site.id : undefined, ledger});
			expect(again.statuses).toMatchObject({updated: 1, unchanged: 1, conflict: 0});
			expect(altOf(site, a!)).toBe('Edited twice');
		}

		// An editor's change is still a conflict.
		sandbox.editAsset({id: a!, altText: 'An editor wrote this'});
		await writeCsv(input, sheet('Edited thrice'));
		expect((await runJob({input, apiBase: sandbox.url, site: site.id, ledger})).statuses).toMatchObject({conflict: 1});
		// Without the ledger, the first run's write looks like an editor's.
		site.assets.get(a!)!.altText.set(site.primaryLocale, 'Edited twice');
		const noLedger = await runJob({input, apiBase: sandbox.url, site: site.id, out: join(dir, 'other.csv')});
		expect(noLedger.statuses).toMatchObject({conflict: 1});
	});

	it('undo <results.csv> takes back rows that said failed but whose write landed (truncated, timed out), where the ledger knows the run; without it, nothing new', async () => {
		const {site, a, b, c, sandbox, dir, env, ran} = await landedButFailed('ledger-results-landed');
		expect(ran.code).toBe(1);
		const out = join(dir, 'jobs.results.csv');
		expect((await results(out)).map(row => row.status)).toEqual(['failed', 'failed', 'updated']);

		// Without the run on record (another ledger), only the updated row goes back.
		const blind = await runCli(['undo', out, '--api-base', sandbox.url, '--out', join(dir, 'blind.csv')], {env: {...env, ALTBATCH_LEDGER: join(dir, 'other')}});
		expect(blind.code, blind.stderr).toBe(0);
		expect([altOf(site, a!), altOf(site, b!), altOf(site, c!)]).toEqual(['New A', 'New B', 'Original alt 2']);
		site.assets.get(c!)!.altText.set(site.primaryLocale, 'New C');

		const undone = await runCli(['undo', out, '--api-base', sandbox.url, '--site', site.id], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect([altOf(site, a!), altOf(site, b!), altOf(site, c!)]).toEqual(['Original alt 0', 'Original alt 1', 'Original alt 2']);
		expect((await results(join(dir, 'jobs.results.undo.csv'))).map(row => [row.row, row.status, row.altText])).toEqual([['2', 'updated', 'Original alt 0'], ['3', 'updated', 'Original alt 1'], ['4', 'updated', 'Original alt 2']]);
	});

	it('undo <results.csv> with the run on record still leaves alone the rows deleted from the results file', async () => {
		const site = liveSite('ledger-results-trimmed', 3);
		const [a, b] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST});
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: join(dir, 'ledger')};
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a!, 'New A'], [b!, 'New B']]);
		expect((await runCli(['run', input, '--api-base', sandbox.url, '--site', site.id], {env})).code).toBe(0);
		const out = join(dir, 'jobs.results.csv');
		const lines = (await readFile(out, 'utf8')).split('\n');
		await writeFile(out, lines.filter(line => !line.includes(b!)).join('\n'));
		const undone = await runCli(['undo', out, '--api-base', sandbox.url, '--site', site.id], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect([altOf(site, a!), altOf(site, b!)]).toEqual(['Original alt 0', 'New B']);
	});

	it('undo <results.csv> after a kill and --resume takes back the killed run\'s write too (the resumed row found it done: unchanged)', async () => {
		const site = liveSite('ledger-results-resume', 3);
		const [a, b] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST, slowMs: 60_000});
		sandbox.failNextFor(a!, 'slow');
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: join(dir, 'ledger')};
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a!, 'New A'], [b!, 'New B']]);
		const args = ['run', input, '--api-base', sandbox.url, '--site', site.id, '--concurrency', '1'];
		const {child, done} = spawnCli(args, {env});
		await until(() => patchesSent(sandbox).length === 1);
		child.kill('SIGKILL');
		await done;
		expect(altOf(site, a!)).toBe('New A');
		const resumed = await runCli([...args, '--resume'], {env});
		expect(resumed.code, resumed.stderr).toBe(0);
		const out = join(dir, 'jobs.results.csv');
		expect((await results(out)).map(row => row.status)).toEqual(['unchanged', 'updated']);
		const undone = await runCli(['undo', out, '--api-base', sandbox.url, '--site', site.id], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect([altOf(site, a!), altOf(site, b!)]).toEqual(['Original alt 0', 'Original alt 1']);
	});
});

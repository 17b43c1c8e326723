import {spawn} from 'node:child_process';
import {link, mkdir, open, readdir, readFile, stat, symlink, utimes, writeFile} from 'node:fs/promises';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../src/cli/config.js';
import {exportSite} from '../src/commands/export.js';
import {lockResults} from '../src/files/lock.js';
import {silentLogger} from '../src/logger.js';
import {newAsset, objectId} from '../src/sandbox/state.js';
import {assetIds, CLI, jobsFor, makeSite, patchesSent, runCli, runJob, spawnCli, startSandbox, tempDir, until, writeCsv} from './helpers.js';
import {parseStrict} from './files/csv/rfc4180.js';

const TOKEN = 'sandbox-token';
const FAST = {count: 2000, windowMs: 1000};

describe('results and exports are whole, quoted right, and safe to open', () => {
	it('quotes a cell holding a bare line break (Excel\'s Alt+Enter), so every reader sees one record per row', async () => {
		const dir = await tempDir();
		const id = objectId('files/alt-enter');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'note'], [id, 'Line one\nline two', 'a\rb'], [id, 'plain', 'x']]);
		const out = join(dir, 'out.csv');
		await runJob({input, out, dryRun: true, token: undefined});
		const records = parseStrict(await readFile(out, 'utf8'));
		expect(records).toHaveLength(3);
		expect(records[1]!.slice(0, 4)).toEqual(['2', id, 'Line one\nline two', 'a\rb']);
		expect(records[2]!.slice(0, 3)).toEqual(['3', id, 'plain']);
	});

	it('export writes every server cell that a spreadsheet would run as a formula with a leading quote, and running it back sends nothing', async () => {
		const site = makeSite({label: 'files-formula', count: 3});
		const hostile = [
			{displayName: '=HYPERLINK("http://evil.example","click")', altText: '@SUM(A1:A9)', fileName: '+cmd.png'},
			{displayName: '-2+3', altText: '\tTabbed', fileName: 'plain.png'},
		];
		for (const [i, fields] of hostile.entries()) {
			const asset = newAsset({site, id: objectId(`files-formula/hostile/${i}`), fileName: fields.fileName, altText: fields.altText, displayName: fields.displayName});
			asset.altText.set(site.primaryLocale, fields.altText);
		}

		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, out: file, apiBase: sandbox.url, token: TOKEN, rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const records = parseStrict((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
		for (const record of records.slice(1)) {
			for (const cell of record) {
				expect(cell).not.toMatch(/^[=+\-@\t\r]/);
			}
		}

		const first = records.find(r => r[0] === objectId('files-formula/hostile/0'))!;
		expect(first[2]).toBe('\'=HYPERLINK("http://evil.example","click")');
		expect(first[3]).toBe('\'@SUM(A1:A9)');
		expect(first[5]).toBe('\'+cmd.png');

		const before = sandbox.requests.length;
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(sandbox.requests.slice(before).filter(r => r.method === 'PATCH')).toHaveLength(0);
		expect(summary.statuses.unchanged).toBe(5);
		expect(sandbox.asset(objectId('files-formula/hostile/0'))!.displayName).toBe('=HYPERLINK("http://evil.example","click")');
	});

	it('a jobs cell that is a quote before a formula start sends the value without the quote', async () => {
		const site = makeSite({label: 'files-unquote', count: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const [id] = assetIds(site);
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'displayName', 'altText'], [id!, '\'=1+1', '\'plain quote']]);
		await runJob({input, apiBase: sandbox.url});
		expect(sandbox.asset(id!)!.displayName).toBe('=1+1');
		expect(sandbox.asset(id!)!.altText.get(site.primaryLocale)).toBe('\'plain quote');
	});

	it('an export cut short by a file-size limit fails with results_not_written naming the file, leaves no temporary file and keeps the earlier export', async () => {
		const site = makeSite({label: 'files-short-write', count: 80});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const out = join(dir, 'assets.csv');
		await writeFile(out, 'the earlier export\r\n');
		const cut = await runCli(['export', '--site', site.id, '--out', out, '--api-base', sandbox.url, '--log-level', 'silent'], {env: {WEBFLOW_TOKEN: TOKEN}, fileSizeLimitKb: 8});
		expect(cut.code).toBe(1);
		expect(cut.stderr).toContain('[results_not_written]');
		expect(cut.stderr).toContain(`${out} could not be written (EFBIG)`);
		expect(cut.stderr).not.toMatch(/\n\s+at /);
		expect(await readFile(out, 'utf8')).toBe('the earlier export\r\n');
		expect((await readdir(dir)).filter(name => name.endsWith('.tmp'))).toEqual([]);

		const whole = await runCli(['export', '--site', site.id, '--out', out, '--api-base', sandbox.url, '--log-level', 'silent'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(whole.code).toBe(0);
		expect(parseStrict((await readFile(out, 'utf8')).replace(/^\uFEFF/, ''))).toHaveLength(81);
	});
});

describe('results cut short', () => {
	it('a dry run whose results hit a file-size limit says so, leaves no temporary file and keeps the earlier results', async () => {
		const dir = await tempDir();
		const input = join(dir, 'jobs.csv');
		await writeCsv(input, [['assetId', 'altText'], [objectId('short-dry/0'), 'alt']]);
		expect((await runCli(['run', input, '--dry-run'])).code).toBe(0);
		const earlier = await readFile(join(dir, 'jobs.dry-run.csv'), 'utf8');
		await writeCsv(input, [['assetId', 'altText', 'note'], ...Array.from({length: 200}, (_, i) => [objectId(`short-dry/${i}`), `alt ${i}`, 'n'.repeat(100)])]);
		const cut = await runCli(['run', input, '--dry-run'], {fileSizeLimitKb: 8});
		expect(cut.code).toBe(1);
		expect(cut.stderr).toContain('[results_not_written]');
		expect(cut.stderr).not.toMatch(/\n\s+at /);
		expect(await readFile(join(dir, 'jobs.dry-run.csv'), 'utf8')).toBe(earlier);
		expect((await readdir(dir)).sort()).toEqual(['jobs.csv', 'jobs.dry-run.csv']);
	});
});

describe('no two of the run\'s files are one file on disk', () => {
	async function setup(label: string) {
		const site = makeSite({label, count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'An alt text'}));
		const original = await readFile(input, 'utf8');
		const env = {WEBFLOW_TOKEN: TOKEN};
		const refuse = async (args: string[], why: RegExp) => {
			const before = sandbox.requests.length;
			const result = await runCli(['run', input, '--api-base', sandbox.url, ...args], {env, cwd: dir});
			expect(result.code, result.stderr).toBe(2);
			expect(result.stderr).toMatch(why);
			expect(result.stderr).not.toMatch(/\n\s+at /);
			expect(sandbox.requests.length).toBe(before);
			expect(await readFile(input, 'utf8')).toBe(original);
		};

		return {dir, input, refuse};
	}

	it('refuses --out through a symlinked folder that lands on the input, in a real run and a dry run', async () => {
		const {dir, refuse} = await setup('paths-symlink');
		await symlink('.', join(dir, 'link'));
		await refuse(['--out', 'link/jobs.csv'], /the input and --out are the same file/);
		await refuse(['--out', 'link/jobs.csv', '--dry-run'], /the input and --out are the same file/);
		await refuse(['--out', 'link/../jobs.csv'], /the input and --out are the same file|the input file itself/);
	});

	it('refuses --out that is a hard link to the input', async () => {
		const {dir, input, refuse} = await setup('paths-hardlink');
		await link(input, join(dir, 'other.csv'));
		await refuse(['--out', 'other.csv'], /the input and --out are the same file/);
	});

	it('refuses --report or --log-file naming the input, and --report naming the results', async () => {
		const {dir, refuse} = await setup('paths-report');
		await refuse(['--report', 'jobs.csv'], /the input and --report are the same file/);
		await refuse(['--log-file', join(dir, 'link-free', '..', 'jobs.csv')], /the input and --log-file are the same file/);
		await refuse(['--report', 'jobs.results.csv'], /--out and --report are the same file/);
		await mkdir(join(dir, 'sub'));
		await symlink('..', join(dir, 'sub', 'up'));
		await refuse(['--out', 'r.csv', '--log-file', 'sub/up/r.csv'], /--out and --log-file are the same file/);
	});

	it('takes two new files whose names differ only in case for one (as a case-insensitive disk would)', async () => {
		const {refuse} = await setup('paths-case');
		await refuse(['--out', 'Results.csv', '--report', 'results.CSV'], /--out and --report are the same file/);
		await refuse(['--out', 'new-results.csv', '--log-file', 'NEW-RESULTS.csv'], /--out and --log-file are the same file/);
		await refuse(['--report', 'Run.html', '--log-file', 'run.HTML'], /--report and --log-file are the same file/);
	});

	it('refuses --out that is the tokens file, or whose lock would be the input', async () => {
		const {dir, refuse} = await setup('paths-tokens');
		await writeFile(join(dir, 'tokens.txt'), `${objectId('paths-tokens/site')}=${TOKEN}\n`);
		await refuse(['--tokens', 'tokens.txt', '--out', 'tokens.txt'], /--out and --tokens are the same file/);
		const lockNamed = await writeCsv(join(dir, 'x.csv.lock'), [['assetId', 'altText'], [objectId('paths-tokens/a'), 'alt']]);
		const before = await readFile(lockNamed, 'utf8');
		const result = await runCli(['run', lockNamed, '--out', join(dir, 'x.csv'), '--dry-run'], {cwd: dir});
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/the input and the lock are the same file/);
		expect(await readFile(lockNamed, 'utf8')).toBe(before);
	});

	it('export refuses an --out that is its --log-file, before sending anything', async () => {
		const site = makeSite({label: 'paths-export', count: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		await mkdir(join(dir, 'sub'));
		await symlink('..', join(dir, 'sub', 'up'));
		const result = await runCli(['export', '--site', site.id, '--api-base', sandbox.url, '--out', 'assets.csv', '--log-file', 'sub/up/assets.csv'], {env: {WEBFLOW_TOKEN: TOKEN}, cwd: dir});
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/--out and --log-file are the same file/);
		expect(sandbox.requests).toHaveLength(0);
		expect(await readdir(dir)).toEqual(['sub']);
	});

	it('one lock for the results file however it is named: through a symlink to it the second run is refused', async () => {
		const dir = await tempDir();
		await writeFile(join(dir, 'out.csv'), '');
		await symlink('out.csv', join(dir, 'alias.csv'));
		const release = lockResults({out: join(dir, 'out.csv'), pid: 4242, isAlive: () => true});
		expect(() => lockResults({out: join(dir, 'alias.csv'), pid: 4343, isAlive: () => true})).toThrow(/another run \(pid 4242/);
		release();
		lockResults({out: join(dir, 'alias.csv'), pid: 4343, isAlive: () => true})();
	});
});

describe('the lock and the files to write are checked first', () => {
	it('takes over a lock left with our own pid (a container restarted), not taken for another run', async () => {
		const dir = await tempDir();
		const out = join(dir, 'out.csv');
		await writeFile(`${out}.lock`, `${JSON.stringify({pid: 1, host: hostname(), startedAt: 'earlier'})}\n`);
		const release = lockResults({out, pid: 1, isAlive: () => true});
		expect(JSON.parse(await readFile(`${out}.lock`, 'utf8'))).toMatchObject({pid: 1, host: hostname()});
		release();
	});

	it('does not take an empty lock just created for stale (another run between creating and writing it), but does once it is old', async () => {
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [objectId('lock-empty/a'), 'alt']]);
		const lock = join(dir, 'jobs.dry-run.csv.lock');
		await writeFile(lock, '');
		const refused = await runCli(['run', input, '--dry-run']);
		expect(refused.code).toBe(2);
		expect(refused.stderr).toMatch(/\[results_locked\]/);
		expect(await stat(lock)).toBeTruthy();
		const old = new Date(Date.now() - 60_000);
		await utimes(lock, old, old);
		const taken = await runCli(['run', input, '--dry-run']);
		expect(taken.code, taken.stderr).toBe(0);
		await expect(stat(lock)).rejects.toThrow();
	});

	it('a --report that cannot be written is refused before any request, with exit 2', async () => {
		const site = makeSite({label: 'report-first', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'An alt text'}));
		for (const report of [join(dir, 'missing', 'report.html'), dir]) {
			const result = await runCli(['run', input, '--api-base', sandbox.url, '--report', report, '--json'], {env: {WEBFLOW_TOKEN: TOKEN}});
			expect(result.code).toBe(2);
			expect(result.stderr).toContain('--report');
			expect(sandbox.requests).toHaveLength(0);
		}
	});

	it('an --out name near the file system\'s limit works; one too long ends with a clean error; neither leaves a lock', async () => {
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [objectId('long-out/a'), 'alt']]);
		const fits = 'a'.repeat(250);
		const written = await runCli(['run', input, '--dry-run', '--out', join(dir, fits)]);
		expect(written.code, written.stderr).toBe(0);
		expect((await readdir(dir)).sort()).toEqual([fits, 'jobs.csv']);
		for (const length of [252, 300]) {
			const result = await runCli(['run', input, '--dry-run', '--out', join(dir, 'b'.repeat(length))]);
			expect(result.code).toBe(2);
			expect(result.stderr).toMatch(/too long|ENAMETOOLONG/);
			expect(result.stderr).not.toMatch(/\n\s+at /);
			expect((await readdir(dir)).sort()).toEqual([fits, 'jobs.csv']);
		}
	});
});

describe('a dry run never costs a real run\'s results', () => {
	it('writes <jobs>.dry-run.csv by default and leaves the real run\'s results as they were', async () => {
		const site = makeSite({label: 'dry-default', count: 3});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...assetIds(site).map((id, i) => [id, `alt ${i}`])]);
		const env = {WEBFLOW_TOKEN: TOKEN};
		expect((await runCli(['run', input, '--api-base', sandbox.url], {env})).code).toBe(0);
		const real = await readFile(join(dir, 'jobs.results.csv'), 'utf8');
		const dry = await runCli(['run', input, '--dry-run'], {env});
		expect(dry.code, dry.stderr).toBe(0);
		expect(await readFile(join(dir, 'jobs.results.csv'), 'utf8')).toBe(real);
		expect(parseStrict(await readFile(join(dir, 'jobs.dry-run.csv'), 'utf8')).map(r => r[3])).toEqual(['status', 'would_update', 'would_update', 'would_update']);
	});

	it('refuses to replace a file holding real outcomes or no results at all, and replaces its own', async () => {
		const site = makeSite({label: 'dry-refuse', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...assetIds(site).map((id, i) => [id, `alt ${i}`])]);
		const env = {WEBFLOW_TOKEN: TOKEN};
		expect((await runCli(['run', input, '--api-base', sandbox.url], {env})).code).toBe(0);
		const out = join(dir, 'jobs.results.csv');
		const real = await readFile(out, 'utf8');
		for (const args of [['--dry-run', '--out', out], ['--dry-run', '--resume', '--out', out], ['--dry-run', '--site', site.id, '--api-base', sandbox.url, '--out', out]]) {
			const refused = await runCli(['run', input, ...args], {env});
			expect(refused.code).toBe(2);
			expect(refused.stderr).toMatch(/holds a real run's results \(row 2 is updated\): a dry run never replaces it/);
			expect(await readFile(out, 'utf8')).toBe(real);
		}

		const notes = join(dir, 'notes.csv');
		await writeFile(notes, 'my,own\r\nnotes,here\r\n');
		expect((await runCli(['run', input, '--dry-run', '--out', notes])).stderr).toMatch(/is not a results file/);
		expect(await readFile(notes, 'utf8')).toBe('my,own\r\nnotes,here\r\n');

		expect((await runCli(['run', input, '--dry-run'])).code).toBe(0);
		expect((await runCli(['run', input, '--dry-run'])).code).toBe(0);
	});

	it('an input refused part-way leaves an earlier results file exactly as it was, and no temporary file', async () => {
		const dir = await tempDir();
		const id = objectId('dry-partway/a');
		const input = join(dir, 'jobs.csv');
		await writeFile(input, `assetId,altText\n${id},first\n`);
		expect((await runCli(['run', input, '--dry-run'])).code).toBe(0);
		const earlier = await readFile(join(dir, 'jobs.dry-run.csv'), 'utf8');
		await writeFile(input, Buffer.concat([Buffer.from(`assetId,altText\n${id},first\n${id},second\n${id},th`), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('rd\n')]));
		const refused = await runCli(['run', input, '--dry-run']);
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain('jobs.csv:4:');
		expect(await readFile(join(dir, 'jobs.dry-run.csv'), 'utf8')).toBe(earlier);
		expect((await readdir(dir)).sort()).toEqual(['jobs.csv', 'jobs.dry-run.csv']);
	});
});

describe('the input is read safely, and read again only as it was checked', () => {
	it('a quote that never closes is refused at its line once the record passes 4 MB, without reading on through the file', async () => {
		const dir = await tempDir();
		const input = join(dir, 'jobs.csv');
		const id = objectId('record-size/a');
		const filler = `${'x'.repeat(1023)}\n`.repeat(40 * 1024); // 40 MB after the stray quote
		await writeFile(input, `assetId,altText\n${id},fine\n${id},"never closed\n${filler}`);
		// GNU time reports the peak RSS (KB) of the CLI on the last line of stderr.
		const child = spawn('/usr/bin/time', ['-f', 'peak %M', process.execPath, CLI, 'run', input, '--dry-run'], {stdio: ['ignore', 'ignore', 'pipe']});
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		const code = await new Promise(resolve => child.on('close', resolve));
		expect(code).toBe(2);
		expect(stderr).toContain('jobs.csv:3:');
		expect(stderr).toContain('[input_record_too_long]');
		expect(Number(/peak (\d+)/.exec(stderr)?.[1])).toBeLessThan(150 * 1024);
	});

	it('stops, says so and exits 3 when the input is edited while the run is reading it, never sending the edited rows', async () => {
		const site = makeSite({label: 'input-changed', count: 2000});
		const sandbox = await startSandbox({sites: [site], rate: {count: 400, windowMs: 1000}});
		const dir = await tempDir();
		const ids = assetIds(site);
		const pad = 'p'.repeat(2000);
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'note'], ...ids.map((id, i) => [id, `alt ${String(i).padStart(4, '0')}`, pad])]);
		const {done} = spawnCli(['run', input, '--api-base', sandbox.url, '--concurrency', '2'], {env: {WEBFLOW_TOKEN: TOKEN}});
		await until(() => patchesSent(sandbox).length >= 10);
		// An editor saving in place: row 1,001's alt text changes, the file keeps its size.
		const text = await readFile(input, 'utf8');
		const at = text.indexOf(`alt 0999,`);
		const handle = await open(input, 'r+');
		await handle.write('ALT 0999', at);
		await handle.close();
		const result = await done;
		expect(result.code, result.stderr).toBe(3);
		expect(result.stderr).toMatch(/changed while the run was reading it \(line \d+ is not what was checked\)/);
		expect(result.stderr).toContain('[input_changed]');
		const patched = patchesSent(sandbox).length;
		expect(patched).toBeLessThan(1000);
		expect(sandbox.asset(ids[999]!)!.altText.get(site.primaryLocale)).toBeNull();
		const rows = parseStrict(await readFile(join(dir, 'jobs.results.csv'), 'utf8'));
		// Every input row has exactly one result row: the rows never reached say why.
		expect(rows.slice(1).map(r => Number(r[0]))).toEqual(ids.map((_, i) => i + 2));
		const header = rows[0]!;
		const unreached = rows.slice(1).filter(r => r[header.indexOf('error_code')] === 'input_changed');
		expect(unreached.length).toBeGreaterThan(1000);
		expect(unreached.every(r => r[header.indexOf('status')] === 'not_attempted')).toBe(true);
		expect(rows.length - 1 - unreached.length).toBeGreaterThanOrEqual(patched - 2);
	});
});

import {readdir, readFile, stat, utimes, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {temporaryBeside} from '../src/files/csv/write.js';
import {lockPath} from '../src/files/lock.js';
import {objectId} from '../src/sandbox/state.js';
import {jobsFor, makeSite, runCli, spawnCli, startSandbox, tempDir, until, writeCsv} from './helpers.js';

const TOKEN = 'sandbox-token';
const FAST = {count: 2000, windowMs: 1000};

/** A jobs file big enough that a dry run of it is still writing when it is killed. */
async function bigJobs(dir: string, name: string, rows = 100_000): Promise<string> {
	const lines = ['assetId,altText'];
	for (let i = 0; i < rows; i++) {
		lines.push(`${objectId(`leftover/${i % 1000}`)},Alt text number ${i}`);
	}

	const path = join(dir, name);
	await writeFile(path, `${lines.join('\n')}\n`);
	return path;
}

const temporaries = async (dir: string) => (await readdir(dir)).filter(name => name.endsWith('.tmp'));

/** The temporary files holding more than a lock's few bytes: a dry run's staged results. */
const stagedResults = async (dir: string) => {
	const sizes = await Promise.all((await temporaries(dir)).map(async name => stat(join(dir, name)).then(stats => stats.size, () => 0)));
	return sizes.filter(size => size > 4096).length;
};

/** Starts a dry run and kills it (-9) once its staged results are being written (not while it creates its lock). */
async function killMidway(dir: string, args: string[]): Promise<void> {
	const before = await stagedResults(dir);
	const {child, done} = spawnCli(['run', ...args, '--dry-run'], {cwd: dir});
	await until(async () => (await stagedResults(dir)) > before);
	child.kill('SIGKILL');
	await done;
}

describe('temporary files left by a killed run are swept', () => {
	it('the next run of the same results removes the temporary file a kill -9 left, and so does a run of other results in the folder', async () => {
		const dir = await tempDir();
		await bigJobs(dir, 'j.csv');
		await killMidway(dir, ['j.csv']);
		expect(await temporaries(dir)).toHaveLength(1);
		const again = await runCli(['run', 'j.csv', '--dry-run'], {cwd: dir});
		expect(again.code, again.stderr).toBe(0);
		expect(await temporaries(dir)).toEqual([]);

		await killMidway(dir, ['j.csv']);
		expect(await temporaries(dir)).toHaveLength(1);
		const small = await writeCsv(join(dir, 'small.csv'), [['assetId', 'altText'], [objectId('leftover/small'), 'An alt text']]);
		const other = await runCli(['run', small, '--dry-run'], {cwd: dir});
		expect(other.code, other.stderr).toBe(0);
		expect(await temporaries(dir)).toEqual([]);
	});

	it('removes the temporary file of a lock that a run killed while creating it left behind', async () => {
		const dir = await tempDir();
		await writeCsv(join(dir, 'j.csv'), [['assetId', 'altText'], [objectId('leftover/lock'), 'An alt text']]);
		const left = temporaryBeside(lockPath(join(dir, 'j.dry-run.csv')));
		await writeFile(left, '{"pid":1,"host":"x"}\n');
		const old = new Date(Date.now() - 60_000);
		await utimes(left, old, old);
		const result = await runCli(['run', 'j.csv', '--dry-run'], {cwd: dir});
		expect(result.code, result.stderr).toBe(0);
		expect(await temporaries(dir)).toEqual([]);
	});

	it('never removes the temporary file of a run still going in the same folder', async () => {
		const dir = await tempDir();
		await bigJobs(dir, 'j.csv', 300_000);
		const before = await temporaries(dir);
		const long = spawnCli(['run', 'j.csv', '--dry-run'], {cwd: dir});
		await until(async () => (await temporaries(dir)).length > before.length);
		const small = await writeCsv(join(dir, 'small.csv'), [['assetId', 'altText'], [objectId('leftover/small2'), 'An alt text']]);
		const other = await runCli(['run', small, '--dry-run'], {cwd: dir});
		expect(other.code, other.stderr).toBe(0);
		const finished = await long.done;
		expect(finished.code, finished.stderr).toBe(0);
		expect((await readFile(join(dir, 'j.dry-run.csv'), 'utf8')).split('\n')).toHaveLength(300_002);
		expect(await temporaries(dir)).toEqual([]);
	});
});

describe('--resume continues only a results file', () => {
	it('refuses --resume with an --out that is a CSV but not results, with exit 2, nothing sent and the file as it was', async () => {
		const site = makeSite({label: 'resume-not-results', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'j.csv'), jobsFor(site, {altText: () => 'An alt text'}));
		const notes = join(dir, 'notes.csv');
		await writeFile(notes, 'assetId,altText,comment\r\nabc,def,my own notes\r\n');
		for (const args of [[], ['--site', site.id]]) {
			const result = await runCli(['run', input, '--resume', '--out', notes, '--api-base', sandbox.url, ...args], {env: {WEBFLOW_TOKEN: TOKEN}});
			expect(result.code, result.stderr).toBe(2);
			expect(result.stderr).toMatch(/is not a results file/);
			expect(await readFile(notes, 'utf8')).toBe('assetId,altText,comment\r\nabc,def,my own notes\r\n');
		}

		expect(sandbox.requests).toHaveLength(0);
	});
});

describe('a report that cannot be written at the end', () => {
	it('still prints the summary (and --json), says the report was not written, keeps the results and exits 1', async () => {
		const site = makeSite({label: 'report-full', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'j.csv'), jobsFor(site, {altText: () => 'An alt text'}));
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--report', join(dir, 'r.html'), '--json'], {env: {WEBFLOW_TOKEN: TOKEN}, fileSizeLimitKb: 2});
		expect(result.code, result.stderr).toBe(1);
		const summary = JSON.parse(result.stdout) as {statuses: Record<string, number>; report?: {path: string; written: boolean; error?: string}};
		expect(summary.statuses.updated).toBe(2);
		expect(summary.report).toMatchObject({written: false, error: expect.stringMatching(/EFBIG|ENOSPC/) as unknown});
		expect(result.stderr).toMatch(/The report could not be written to .*r\.html \(EFBIG\); the results above stand/);
		expect(result.stderr).not.toMatch(/\n\s+at /);
		const results = await readFile(join(dir, 'j.results.csv'), 'utf8');
		expect(results.split('\r\n').filter(line => line.includes(',updated,'))).toHaveLength(2);
		expect((await readdir(dir)).filter(name => name.endsWith('.tmp'))).toEqual([]);
	});
});

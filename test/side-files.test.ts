import {mkdir, readdir, readFile, symlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {objectId} from '../src/sandbox/state.js';
import {assetIds, makeSite, runCli, startSandbox, tempDir, writeCsv} from './helpers.js';

const TOKEN = 'sandbox-token';
const FAST = {count: 2000, windowMs: 1000};

/** A site, a jobs file for it, and a real run's results beside it. */
async function realRun(label: string) {
	const site = makeSite({label, count: 2});
	const sandbox = await startSandbox({sites: [site], rate: FAST});
	const dir = await tempDir();
	const input = await writeCsv(join(dir, 'j.csv'), [['assetId', 'altText'], ...assetIds(site).map((id, i) => [id, `An alt text ${i}`])]);
	const env = {WEBFLOW_TOKEN: TOKEN};
	const first = await runCli(['run', input, '--api-base', sandbox.url, '--site', site.id], {env, cwd: dir});
	expect(first.code, first.stderr).toBe(0);
	const results = join(dir, 'j.results.csv');
	return {site, sandbox, dir, input, env, results, real: await readFile(results, 'utf8')};
}

describe('the report and the log never land on results, or on any file that is not theirs', () => {
	it('a dry run\'s --report or --log-file naming a real run\'s results, directly or through a symlink, is refused and the results stay as they were', async () => {
		const {dir, env, results, real, sandbox} = await realRun('side-dry');
		await symlink('j.results.csv', join(dir, 'link.csv'));
		const before = sandbox.requests.length;
		for (const args of [['--report', 'j.results.csv'], ['--log-file', 'j.results.csv'], ['--report', 'link.csv'], ['--log-file', 'link.csv'], ['--dry-run', '--report', 'j.results.csv'], ['--dry-run', '--log-file', 'link.csv']]) {
			const result = await runCli(['run', 'j.csv', '--dry-run', '--out', 'other.csv', ...args], {env, cwd: dir});
			expect(result.code, args.join(' ')).toBe(2);
			expect(result.stderr).toMatch(/already holds altbatch results/);
			expect(await readFile(results, 'utf8')).toBe(real);
		}

		expect(sandbox.requests.length).toBe(before);
	});

	it('an undo dry run\'s --report naming a real undo\'s results is refused', async () => {
		const {dir, env, site, sandbox} = await realRun('side-undo');
		const undone = await runCli(['undo', 'j.results.csv', '--api-base', sandbox.url, '--site', site.id, '--allow-clear'], {env, cwd: dir});
		expect(undone.code, undone.stderr).toBe(0);
		const undoResults = await readFile(join(dir, 'j.results.undo.csv'), 'utf8');
		const before = sandbox.requests.length;
		const result = await runCli(['undo', 'j.results.csv', '--api-base', sandbox.url, '--dry-run', '--report', 'j.results.undo.csv'], {env, cwd: dir});
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/--report "j\.results\.undo\.csv" already holds altbatch results/);
		expect(await readFile(join(dir, 'j.results.undo.csv'), 'utf8')).toBe(undoResults);
		expect(sandbox.requests.length).toBe(before);
	});

	it('the report replaces an earlier report and the log appends to an earlier log, but neither lands on a CSV that is not theirs', async () => {
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'j.csv'), [['assetId', 'altText'], [objectId('side-own/a'), 'An alt text']]);
		for (let i = 0; i < 2; i++) {
			const result = await runCli(['run', input, '--dry-run', '--report', 'r.html', '--log-file', 'l.ndjson'], {cwd: dir});
			expect(result.code, result.stderr).toBe(0);
		}

		expect((await readFile(join(dir, 'r.html'), 'utf8')).startsWith('<!doctype html>')).toBe(true);
		expect((await readFile(join(dir, 'l.ndjson'), 'utf8')).split('\n').filter(line => line.includes('run finished'))).toHaveLength(2);
		const other = await writeCsv(join(dir, 'other-jobs.csv'), [['assetId', 'altText'], [objectId('side-own/b'), 'Kept']]);
		const kept = await readFile(other, 'utf8');
		for (const option of ['--report', '--log-file']) {
			const result = await runCli(['run', input, '--dry-run', option, 'other-jobs.csv'], {cwd: dir});
			expect(result.code).toBe(2);
			expect(result.stderr).toMatch(/already holds something that is not/);
			expect(await readFile(other, 'utf8')).toBe(kept);
		}
	});
});

describe('the token file is one of the run\'s files', () => {
	it('refuses --out or --log-file naming the --token-file, in run and export, and leaves the token file as it was', async () => {
		const site = makeSite({label: 'side-token-file', count: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		await writeCsv(join(dir, 'j.csv'), [['assetId', 'altText'], [assetIds(site)[0]!, 'An alt text']]);
		await writeFile(join(dir, 'tk.txt'), `${TOKEN}\n`);
		const base = ['--api-base', sandbox.url, '--token-file', 'tk.txt'];
		for (const args of [['run', 'j.csv', ...base, '--out', 'tk.txt'], ['run', 'j.csv', ...base, '--log-file', 'tk.txt'], ['run', 'j.csv', ...base, '--dry-run', '--out', 'tk.txt'], ['export', '--site', site.id, ...base, '--out', 'tk.txt'], ['export', '--site', site.id, ...base, '--log-file', 'tk.txt']]) {
			const result = await runCli(args, {cwd: dir});
			expect(result.code, args.join(' ')).toBe(2);
			expect(result.stderr).toMatch(/(and --token-file|--token-file and --log-file) are the same file/);
			expect(await readFile(join(dir, 'tk.txt'), 'utf8')).toBe(`${TOKEN}\n`);
		}

		expect(sandbox.requests).toHaveLength(0);
	});
});

describe('a malformed token is a usage error', () => {
	it('a token with a line break, from WEBFLOW_TOKEN, --token-file or a --tokens file, exits 2 before any request and never shows the token', async () => {
		const site = makeSite({label: 'side-bad-token', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		await writeCsv(join(dir, 'j.csv'), [['assetId', 'altText', 'siteId'], ...assetIds(site).map(id => [id, 'An alt text', site.id])]);
		const secret = 'sandbox-token\nX: y';
		await writeFile(join(dir, 'tk.txt'), `${secret}\n`);
		await writeFile(join(dir, 'tokens.txt'), `# sites\n${site.id}=sandbox-\u0001token\n`);
		const cases: Array<{args: string[]; env?: Record<string, string>; where: RegExp}> = [
			{args: ['run', 'j.csv'], env: {WEBFLOW_TOKEN: secret}, where: /WEBFLOW_TOKEN: the token is malformed: it holds a line break/},
			{args: ['run', 'j.csv', '--token-file', 'tk.txt'], where: /--token-file "tk\.txt": the token is malformed/},
			{args: ['run', 'j.csv', '--tokens', 'tokens.txt'], where: /tokens\.txt:2: the token is malformed: it holds a control character/},
			{args: ['export', '--site', site.id], env: {WEBFLOW_TOKEN: secret}, where: /WEBFLOW_TOKEN: the token is malformed/},
		];
		for (const {args, env, where} of cases) {
			const result = await runCli([...args, '--api-base', sandbox.url], {env, cwd: dir});
			expect(result.code, result.stderr).toBe(2);
			expect(result.stderr).toMatch(where);
			expect(result.stderr).not.toContain('sandbox-');
			expect(result.stdout).not.toContain('sandbox-');
		}

		expect(sandbox.requests).toHaveLength(0);
		expect((await readdir(dir)).sort()).toEqual(['j.csv', 'tk.txt', 'tokens.txt']);
	});
});

describe('the log file is checked before anything is sent', () => {
	it('a folder, a full device or a missing folder as --log-file exits 2 naming the option; nothing is sent or created', async () => {
		const site = makeSite({label: 'side-log', count: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		await writeCsv(join(dir, 'j.csv'), [['assetId', 'altText'], [assetIds(site)[0]!, 'An alt text']]);
		await mkdir(join(dir, 'logs'));
		const env = {WEBFLOW_TOKEN: TOKEN};
		for (const [log, why] of [['logs', /--log-file "logs" is a folder/], ['/dev/full', /--log-file "\/dev\/full" cannot be written \(ENOSPC\)/], [join(dir, 'missing', 'deep', 'x.log'), /--log-file ".*x\.log" cannot be written: its folder does not exist/]] as const) {
			for (const args of [['run', 'j.csv'], ['run', 'j.csv', '--dry-run'], ['export', '--site', site.id]]) {
				const result = await runCli([...args, '--api-base', sandbox.url, '--log-file', log], {env, cwd: dir});
				expect(result.code, `${args.join(' ')} ${log}: ${result.stderr}`).toBe(2);
				expect(result.stderr).toMatch(why);
				expect(result.stderr).not.toMatch(/\n\s+at /);
			}
		}

		expect(sandbox.requests).toHaveLength(0);
		expect((await readdir(dir)).sort()).toEqual(['j.csv', 'logs']);
		expect(await readdir(join(dir, 'logs'))).toEqual([]);
	});

	it('export checks --out before listing the site: a missing folder exits 2 with nothing sent', async () => {
		const site = makeSite({label: 'side-export-out', count: 3});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const result = await runCli(['export', '--site', site.id, '--api-base', sandbox.url, '--out', join(dir, 'nonexistent', 'x.csv')], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/--out ".*x\.csv" cannot be written: its folder does not exist/);
		expect(sandbox.requests).toHaveLength(0);
	});
});

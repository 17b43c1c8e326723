import {execFile, spawn} from 'node:child_process';
import {once} from 'node:events';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {createInterface} from 'node:readline';
import {promisify} from 'node:util';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {tempDir} from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const exec = promisify(execFile);
const npm = async (args: string[], cwd = ROOT) => exec('npm', args, {cwd, env: {...process.env, npm_config_update_notifier: 'false'}});

describe('the npm package', () => {
	it('ships the tool only: the built modules, README, the licence, the example job; no bench, tests, fixtures, sources or maps', async () => {
		// --ignore-scripts: the tests run against this build; packing must not rebuild it under them.
		const {stdout} = await npm(['pack', '--dry-run', '--ignore-scripts', '--json']);
		const files = (JSON.parse(stdout) as Array<{files: Array<{path: string}>}>)[0]!.files.map(file => file.path);
		expect(files).toContain('dist/cli.js');
		expect(files).toContain('dist/sandbox/server.js');
		expect(files).toContain('README.md');
		expect(files).toContain('jobs.example.csv');
		expect(files).toContain('LICENSE');
		const unexpected = files.filter(path => !/^dist\/.+\.js$/.test(path) && !['README.md', 'jobs.example.csv', 'package.json', 'LICENSE'].includes(path));
		expect(unexpected).toEqual([]);
		expect(files.filter(path => /bench|test|fixtures|^src\/|\.map$/.test(path))).toEqual([]);
	});

	it('installs globally from the tarball, and altbatch --version, --help and sandbox work', async () => {
		const dir = await tempDir();
		const {stdout: packed} = await npm(['pack', '--ignore-scripts', '--pack-destination', dir, '--json']);
		const tarball = join(dir, (JSON.parse(packed) as Array<{filename: string}>)[0]!.filename);
		await npm(['install', '--global', '--prefix', join(dir, 'global'), tarball, '--prefer-offline', '--no-audit', '--no-fund'], dir);
		const altbatch = join(dir, 'global', 'bin', 'altbatch');
		const {version} = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {version: string};
		expect((await exec(altbatch, ['--version'], {cwd: dir})).stdout.trim()).toBe(version);
		expect((await exec(altbatch, ['--help'], {cwd: dir})).stdout).toContain('altbatch sandbox');

		const sandbox = spawn(altbatch, ['sandbox', '--port', '0'], {cwd: dir, stdio: ['ignore', 'pipe', 'inherit']});
		try {
			const lines = createInterface({input: sandbox.stdout});
			const [first] = await once(lines, 'line') as [string];
			const url = /^Sandbox: (\S+)$/.exec(first)?.[1];
			expect(url).toBeDefined();
			const answer = await fetch(`${url!}/v2/token/introspect`, {headers: {authorization: 'Bearer sandbox-token'}});
			expect(answer.status).toBe(200);
		} finally {
			sandbox.kill('SIGTERM');
		}

		const [code] = await once(sandbox, 'exit') as [number | null];
		expect(code).toBe(0);
	});
});

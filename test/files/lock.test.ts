import {mkdir, readFile, symlink, writeFile} from 'node:fs/promises';
import {existsSync} from 'node:fs';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {lockPath, lockResults} from '../../src/files/lock.js';
import {tempDir} from '../helpers.js';

const alive = () => true;
const gone = () => false;

describe('one run per results file', () => {
	it('writes the pid and host in <out>.lock, and the release removes it', async () => {
		const out = join(await tempDir(), 'results.csv');
		const release = lockResults({out, pid: 4242, isAlive: alive, now: () => Date.parse('2026-01-02T03:04:05Z')});
		expect(JSON.parse(await readFile(`${out}.lock`, 'utf8'))).toEqual({pid: 4242, host: hostname(), startedAt: '2026-01-02T03:04:05.000Z'});
		release();
		expect(existsSync(`${out}.lock`)).toBe(false);
	});

	it('refuses a second run while the first is alive, naming it', async () => {
		const out = join(await tempDir(), 'results.csv');
		lockResults({out, pid: 1, isAlive: alive});
		expect(() => lockResults({out, pid: 2, isAlive: alive})).toThrow(/is being written by another run \(pid 1 on /);
		expect(() => lockResults({out, pid: 2, isAlive: alive})).toThrow(expect.objectContaining({code: 'results_locked'}));
	});

	it('takes over a lock whose run is gone, or that holds our own pid (a restarted container)', async () => {
		const out = join(await tempDir(), 'results.csv');
		lockResults({out, pid: 1, isAlive: alive});
		expect(() => lockResults({out, pid: 2, isAlive: gone})).not.toThrow();
		expect(JSON.parse(await readFile(`${out}.lock`, 'utf8'))).toMatchObject({pid: 2});
		expect(() => lockResults({out, pid: 2, isAlive: alive})).not.toThrow();
	});

	it('never takes over a lock held on another host', async () => {
		const out = join(await tempDir(), 'results.csv');
		await writeFile(`${out}.lock`, JSON.stringify({pid: 1, host: 'elsewhere', startedAt: 'x'}));
		expect(() => lockResults({out, pid: 2, isAlive: gone})).toThrow(/pid 1 on elsewhere/);
	});

	it('takes a lock that cannot be read for another run being started, then for stale after 10 seconds', async () => {
		const out = join(await tempDir(), 'results.csv');
		await writeFile(`${out}.lock`, '');
		expect(() => lockResults({out, pid: 2, isAlive: alive})).toThrow(/is being locked by another run right now/);
		const later = Date.now() + 11_000;
		expect(() => lockResults({out, pid: 2, isAlive: alive, now: () => later})).not.toThrow();
	});

	it('puts the lock beside the real file, so a symlink to the results meets the same lock', async () => {
		const dir = await tempDir();
		await mkdir(join(dir, 'real'));
		const out = join(dir, 'real', 'results.csv');
		await writeFile(out, '');
		const link = join(dir, 'link.csv');
		await symlink(out, link);
		expect(lockPath(link)).toBe(`${out}.lock`);
		lockResults({out, pid: 1, isAlive: alive});
		expect(() => lockResults({out: link, pid: 2, isAlive: alive})).toThrow(/another run/);
	});

	it('says so when the folder of the results does not exist', async () => {
		const out = join(await tempDir(), 'missing', 'results.csv');
		expect(() => lockResults({out, pid: 1, isAlive: alive})).toThrow(expect.objectContaining({code: 'results_unwritable', message: expect.stringContaining('its folder does not exist')}));
	});
});

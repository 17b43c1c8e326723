import {closeSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs';
import {hostname} from 'node:os';
import {InputError} from './errors.js';

type Holder = {readonly pid: number; readonly host: string; readonly startedAt: string};

/**
 * One run per results file: `<out>.lock` holds the pid and host of the run writing it. A second
 * run refuses (exit 2) and names the holder; a lock left by a killed run on this host (its pid is
 * gone) is taken over.
 */
export function lockResults({out, pid, isAlive, now = Date.now}: {out: string; pid: number; isAlive: (pid: number) => boolean; now?: () => number}): () => void {
	const path = `${out}.lock`;
	const me: Holder = {pid, host: hostname(), startedAt: new Date(now()).toISOString()};
	for (let tries = 0; tries < 2; tries++) {
		try {
			const fd = openSync(path, 'wx');
			writeSync(fd, `${JSON.stringify(me)}\n`);
			closeSync(fd);
			return () => {
				rmSync(path, {force: true});
			};
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code !== 'EEXIST') {
				throw new InputError({file: out, code: 'results_unwritable', message: `cannot be written (${code ?? 'error'}${code === 'ENOENT' ? ': its folder does not exist' : ''})`});
			}
		}

		const holder = readHolder(path);
		const stale = holder === undefined || (holder.host === me.host && !isAlive(holder.pid));
		if (!stale) {
			throw new InputError({
				file: out,
				code: 'results_locked',
				message: `is being written by another run (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); wait for it, or delete ${path} if that run is gone`,
			});
		}

		rmSync(path, {force: true});
	}

	throw new InputError({file: out, code: 'results_locked', message: `could not take the lock ${path}`});
}

function readHolder(path: string): Holder | undefined {
	try {
		const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
		return typeof holder.pid === 'number' && typeof holder.host === 'string' ? {pid: holder.pid, host: holder.host, startedAt: String(holder.startedAt ?? '?')} : undefined;
	} catch {
		return undefined;
	}
}

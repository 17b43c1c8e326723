import {closeSync, linkSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {hostname} from 'node:os';
import {basename, dirname, join} from 'node:path';
import {resultsUnwritable} from './csv/journal.js';
import {sweepTemporaries, temporaryBeside, writeAll} from './csv/write.js';
import {InputError} from '../errors.js';
import {resolvedPath} from './paths.js';

type Holder = {readonly pid: number; readonly host: string; readonly startedAt: string};

/** A lock that cannot be read yet may be another run's, caught between creating and writing it (older versions). */
const UNREADABLE_GRACE_MS = 10_000;

/** The lock of a results file: beside the file itself, however it was named (symlinks, `..`). */
export function lockPath(out: string): string {
	return `${resolvedPath(out)}.lock`;
}

/**
 * One run per results file: `<out>.lock` holds the pid and host of the run writing it. A second
 * run refuses (exit 2) and names the holder; a lock left by a killed run on this host (its pid is
 * gone, or is our own pid — a container restarted) is taken over. The lock is created whole (written
 * beside it, then linked into place), so no run ever sees it empty.
 */
export function lockResults({out, pid, isAlive, now = Date.now}: {out: string; pid: number; isAlive: (pid: number) => boolean; now?: () => number}): () => void {
	const path = lockPath(out);
	const me: Holder = {pid, host: hostname(), startedAt: new Date(now()).toISOString()};
	for (let tries = 0; tries < 2; tries++) {
		try {
			createWhole(path, `${JSON.stringify(me)}\n`);
			sweepLeftovers({path, me, isAlive, now});
			return () => {
				rmSync(path, {force: true});
			};
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code !== 'EEXIST') {
				throw resultsUnwritable(out, code);
			}
		}

		const holder = readHolder(path);
		if (holder === undefined) {
			if (now() - modifiedAt(path) < UNREADABLE_GRACE_MS) {
				throw new InputError({file: out, code: 'results_locked', message: `is being locked by another run right now (${path} is not written yet); try again in a few seconds`});
			}
		} else if (holder.host !== me.host || (holder.pid !== pid && isAlive(holder.pid))) {
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

/**
 * Removes the temporary files a killed run left beside the results (a dry run's staged results, a
 * rewrite cut short): those of the file we now hold the lock of, and those of files in the same
 * folder whose lock was left by a run that is gone (same host, pid not alive). Only files older than
 * that look are removed: a run taking such a lock over right now writes newer ones.
 */
function sweepLeftovers({path, me, isAlive, now}: {path: string; me: Holder; isAlive: (pid: number) => boolean; now: () => number}): void {
	const folder = dirname(path);
	const lookedAt = now();
	// A run killed while creating its lock leaves the lock's own temporary file: swept with the rest.
	const names = [basename(path).slice(0, -'.lock'.length), basename(path)];
	let entries: string[] = [];
	try {
		entries = readdirSync(folder);
	} catch {
		return;
	}

	for (const entry of entries) {
		if (entry.endsWith('.lock') && entry !== basename(path)) {
			const holder = readHolder(join(folder, entry));
			if (holder !== undefined && holder.host === me.host && holder.pid !== me.pid && !isAlive(holder.pid)) {
				names.push(entry.slice(0, -'.lock'.length), entry);
			}
		}
	}

	sweepTemporaries({folder, names, olderThan: lookedAt});
}

/** Creates `path` with `text` in it, or fails with EEXIST; never leaves it there empty or half written. */
function createWhole(path: string, text: string): void {
	const temporary = temporaryBeside(path);
	writeFileSync(temporary, text, {flag: 'wx'});
	try {
		linkSync(temporary, path);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EEXIST' || code === 'ENOENT' || code === 'EACCES') {
			throw error;
		}

		// A file system without hard links: create and write (the grace period covers the gap).
		const fd = openSync(path, 'wx');
		try {
			writeAll(fd, text);
		} finally {
			closeSync(fd);
		}
	} finally {
		rmSync(temporary, {force: true});
	}
}

function modifiedAt(path: string): number {
	try {
		return statSync(path).mtimeMs;
	} catch {
		return 0;
	}
}

function readHolder(path: string): Holder | undefined {
	try {
		const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
		return typeof holder.pid === 'number' && typeof holder.host === 'string' ? {pid: holder.pid, host: holder.host, startedAt: String(holder.startedAt ?? '?')} : undefined;
	} catch {
		return undefined;
	}
}

import {accessSync, closeSync, constants, lstatSync, openSync, readlinkSync, readSync, realpathSync, statSync, writeSync} from 'node:fs';
import {basename, dirname, resolve} from 'node:path';
import {UsageError} from '../errors.js';

/** A file the run reads or writes, and how the user named it (for the message). */
type NamedFile = {readonly role: string; readonly path: string | undefined};

/**
 * A file a command touches and how: read, written whole (replaced), or one of the two side files
 * that land on whatever file they name — the HTML report (replaced) and the log (appended to).
 */
export type PlannedFile = NamedFile & {readonly use: 'read' | 'write' | 'report' | 'log'};

/** Names longer than this (in bytes) cannot be created on common file systems. */
const NAME_MAX = 255;

/**
 * What a path stands for on disk: an existing file by device and inode (after following every
 * symlink, so `link/jobs.csv`, `../x/jobs.csv` and a hard link all come out the same); a file not
 * there yet by its resolved folder and its name (lower-cased: on a case-insensitive file system
 * `Out.csv` and `out.csv` are one file, and refusing both on another costs nothing).
 */
function fileIdentity(path: string, depth = 0): string {
	const absolute = resolve(path);
	try {
		const stats = statSync(realpathSync(absolute), {bigint: true});
		return `${stats.dev}:${stats.ino}`;
	} catch {
		// Not there (or not reachable): below.
	}

	// A symlink whose target does not exist yet: writing through it creates the target.
	if (depth < 40) {
		try {
			if (lstatSync(absolute).isSymbolicLink()) {
				return fileIdentity(resolve(dirname(absolute), readlinkSync(absolute)), depth + 1);
			}
		} catch {
			// Not there at all.
		}
	}

	const parent = dirname(absolute);
	return parent === absolute ? absolute : `${fileIdentity(parent, depth + 1)}/${basename(absolute).toLowerCase()}`;
}

/**
 * Refuses (exit 2, before anything is read, written or sent) when two of the files name the same
 * file on disk: the results renamed over the input, the report written over the results, the log
 * appended to the jobs file — each would destroy one of them.
 */
function assertDistinctFiles(files: readonly NamedFile[]): void {
	const seen = new Map<string, {readonly role: string; readonly path: string}>();
	for (const file of files) {
		if (file.path === undefined || file.path === '') {
			continue;
		}

		const identity = fileIdentity(file.path);
		const earlier = seen.get(identity);
		if (earlier) {
			const same = resolve(earlier.path) === resolve(file.path) ? '' : ` (through a symlink, a hard link or \`..\`, ${JSON.stringify(file.path)} is ${JSON.stringify(earlier.path)})`;
			throw new UsageError(`${earlier.role} and ${file.role} are the same file${same}: writing one would destroy the other; give each a file of its own`, 'same_file');
		}

		seen.set(identity, {role: file.role, path: file.path});
	}
}

/**
 * Every file of a command, checked together before anything is read, written or sent (exit 2):
 * no two are one file on disk; the files to write can be written; and the report and the log —
 * side files that replace or append to whatever they name — only land on a new or empty file, a
 * device, or a file of their own kind (an HTML page, NDJSON lines). So they never overwrite or
 * append to results (a real run's or a dry run's, named directly or through a symlink), the input,
 * the tokens or the token file, whatever the other options say.
 */
export function assertFilesSafe(files: readonly PlannedFile[]): void {
	assertDistinctFiles(files);
	for (const file of files) {
		if (file.path === undefined || file.path === '' || file.use === 'read') {
			continue;
		}

		assertCanWrite({role: file.role, path: file.path, inPlace: file.use !== 'write'});
		if (file.use !== 'write') {
			assertSideFile({role: file.role, path: file.path, kind: file.use});
		}
	}
}

/** What a report or a log may land on: nothing yet, an empty file, a device or pipe, or its own kind. */
function assertSideFile({role, path, kind}: {role: string; path: string; kind: 'report' | 'log'}): void {
	let stats;
	try {
		stats = statSync(path);
	} catch {
		return; // Not there yet (its folder was checked).
	}

	if (stats.isCharacterDevice() && kind === 'log') {
		probeDevice({role, path});
		return;
	}

	// Only a regular file is read (opening a named pipe to read would wait for a writer).
	if (!stats.isFile() || stats.size === 0) {
		return;
	}

	const fd = openSync(path, 'r');
	let head: string;
	try {
		const buffer = Buffer.alloc(4096);
		head = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8').replace(/^\uFEFF/, '');
	} finally {
		closeSync(fd);
	}

	const firstLine = head.split('\n', 1)[0]?.trim() ?? '';
	const ownKind = head.trim() === '' || (kind === 'report' ? /^<!doctype html/i.test(head.trimStart()) : firstLine.startsWith('{'));
	if (!ownKind) {
		const what = /^"?row"?[,;\t]/.test(firstLine) && /\bstatus\b/.test(firstLine) ? 'altbatch results' : kind === 'report' ? 'something that is not an HTML report' : 'something that is not NDJSON log lines';
		throw new UsageError(`${role} ${JSON.stringify(path)} already holds ${what}: the ${kind === 'report' ? 'report would replace' : 'log would be appended to'} it. Name a new file (or delete this one if it is yours to lose)`, 'side_file_holds_data');
	}
}

/** A device named as the log (`/dev/null`, a terminal, `/dev/full`): one line break tells whether it takes writes. */
function probeDevice({role, path}: {role: string; path: string}): void {
	let fd: number | undefined;
	try {
		fd = openSync(path, 'a');
		writeSync(fd, '\n');
	} catch (error) {
		throw new UsageError(`${role} ${JSON.stringify(path)} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'}); nothing was sent`, 'not_writable');
	} finally {
		if (fd !== undefined) {
			closeSync(fd);
		}
	}
}

/**
 * A file the run will create or replace: its folder must exist and be writable (with `inPlace`, an
 * existing file written where it is must itself be writable), and the path must not be a folder — checked before the first request, so a typo does not cost a whole run.
 */
function assertCanWrite({role, path, inPlace = false}: {role: string; path: string; inPlace?: boolean}): void {
	if (Buffer.byteLength(basename(path)) > NAME_MAX) {
		throw new UsageError(`${role} ${JSON.stringify(path)}: the file name is too long (more than ${NAME_MAX} bytes)`, 'name_too_long');
	}

	let stats;
	try {
		stats = statSync(path);
	} catch {
		// A new file: its folder decides.
	}

	if (stats?.isDirectory()) {
		throw new UsageError(`${role} ${JSON.stringify(path)} is a folder; name a file`, 'not_writable');
	}

	// Written in place (the report, the log): the file itself must take writes, whatever its folder.
	if (stats && inPlace) {
		try {
			accessSync(path, constants.W_OK);
			return;
		} catch {
			throw new UsageError(`${role} ${JSON.stringify(path)} cannot be written: the file is read-only`, 'not_writable');
		}
	}

	const folder = dirname(resolve(path));
	try {
		if (!statSync(folder).isDirectory()) {
			throw new Error('not a folder');
		}

		accessSync(folder, constants.W_OK);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new UsageError(`${role} ${JSON.stringify(path)} cannot be written: ${code === 'EACCES' ? 'its folder is not writable' : 'its folder does not exist'}`, 'not_writable');
	}
}

/**
 * The one absolute name of a file, symlinks resolved (its folder's, when the file is not there
 * yet): what a lock beside it is named after, so every way of naming the file meets one lock.
 */
export function resolvedPath(path: string): string {
	const absolute = resolve(path);
	try {
		return realpathSync(absolute);
	} catch {
		try {
			return resolve(realpathSync(dirname(absolute)), basename(absolute));
		} catch {
			return absolute;
		}
	}
}

/** What changes when a file is written or replaced: device, inode, size, modification time. */
export function fileStamp(path: string): string {
	try {
		const stats = statSync(path, {bigint: true});
		return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}`;
	} catch (error) {
		return `unreadable:${(error as NodeJS.ErrnoException).code ?? 'error'}`;
	}
}

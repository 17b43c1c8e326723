import {closeSync, constants, copyFileSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {basename, dirname, join} from 'node:path';
import {resolvedPath} from '../paths.js';
import {hash53} from '../../rows/hash.js';
import {csvLine} from './stringify.js';

/**
 * Writes all of `data` at the file's position: `writeSync` may write less than asked (a file-size
 * limit, a full disk), and the rest is written again until done or the write fails.
 */
export function writeAll(fd: number, data: string | Uint8Array): void {
	const bytes = typeof data === 'string' ? Buffer.from(data) : data;
	let done = 0;
	while (done < bytes.length) {
		done += writeSync(fd, bytes, done, bytes.length - done);
	}
}

/**
 * Lines gathered as UTF-8 in one buffer, reused, and written every `lines` lines (or when full):
 * no Buffer made per batch (a fresh one each time, and the garbage collection its memory brings,
 * cost more than the writing on a large file).
 */
export class LineBuffer {
	readonly #fd: number;
	readonly #lines: number;
	#bytes = Buffer.allocUnsafe(1 << 20);
	#used = 0;
	#count = 0;

	constructor(fd: number, lines: number) {
		this.#fd = fd;
		this.#lines = lines;
	}

	add(text: string): void {
		// A UTF-16 code unit is at most 3 bytes of UTF-8: with that much room the line goes in whole.
		if (this.#used + (text.length * 3) > this.#bytes.length) {
			this.flush();
			if (text.length * 3 > this.#bytes.length) {
				this.#bytes = Buffer.allocUnsafe(text.length * 3);
			}
		}

		this.#used += this.#bytes.write(text, this.#used);
		if (++this.#count >= this.#lines) {
			this.flush();
		}
	}

	flush(): void {
		const used = this.#used;
		this.#used = 0;
		this.#count = 0;
		if (used > 0) {
			writeAll(this.#fd, this.#bytes.subarray(0, used));
		}
	}
}

/** Makes a rename in `folder` survive a power cut (where the platform can sync a folder). */
function syncFolder(folder: string): void {
	let fd: number | undefined;
	try {
		fd = openSync(folder, 'r');
		fsyncSync(fd);
	} catch {
		// Some platforms and file systems cannot sync a folder; the data itself was synced.
	} finally {
		if (fd !== undefined) {
			closeSync(fd);
		}
	}
}

/** Our temporary files: `.altbatch-<tag of the file they become>-<random>.tmp`. */
const TEMPORARY = /^\.altbatch-([\da-z]+)-[\da-f]+\.tmp$/;

/** A short tag of a file's name: its temporary files carry it, so a sweep knows whose they are. */
function temporaryTag(name: string): string {
	return hash53(name).toString(36);
}

/**
 * A temporary name beside the real file `path` stands for (symlinks followed: same folder, so the
 * rename is atomic, and the same folder as its lock), short whatever the name, tagged with the
 * file's name.
 */
export function temporaryBeside(path: string): string {
	const real = resolvedPath(path);
	return join(dirname(real), `.altbatch-${temporaryTag(basename(real))}-${randomBytes(6).toString('hex')}.tmp`);
}

/** Puts a finished temporary file in place of `path` (through a symlink: in place of its target) and syncs the folder. */
export function replaceWith(temporary: string, path: string): void {
	const real = resolvedPath(path);
	renameSync(temporary, real);
	syncFolder(dirname(real));
}

/**
 * Removes the temporary files in `folder` that belong to the files named in `names` (a killed
 * run's, left behind): only ours (by name), and only for files the caller knows no live run writes.
 */
export function sweepTemporaries({folder, names, olderThan}: {folder: string; names: Iterable<string>; olderThan: number}): void {
	const tags = new Set([...names].map(name => temporaryTag(name)));
	let entries: string[];
	try {
		entries = readdirSync(folder);
	} catch {
		return;
	}

	for (const entry of entries) {
		const tag = TEMPORARY.exec(entry)?.[1];
		if (tag !== undefined && tags.has(tag)) {
			try {
				if (statSync(join(folder, entry)).mtimeMs < olderThan) {
					rmSync(join(folder, entry), {force: true});
				}
			} catch {
				// Gone already.
			}
		}
	}
}

/**
 * A whole file, written to a temporary file beside it, synced and renamed into place: the file is
 * complete or as it was. A failed write removes the temporary file. With `prefix`, the file starts
 * with the first `bytes` bytes of the file `from`.
 */
export function writeFileAtomically(path: string, chunks: Iterable<string | Uint8Array>, prefix?: {readonly from: string; readonly bytes: number}): void {
	const real = resolvedPath(path);
	const temporary = temporaryBeside(real);
	let fd: number;
	if (prefix) {
		// The start of another file first, copied by the system (no bytes through here), then the chunks after it.
		copyFileSync(prefix.from, temporary, constants.COPYFILE_EXCL);
		try {
			truncateSync(temporary, prefix.bytes);
			fd = openSync(temporary, 'a');
		} catch (error) {
			rmSync(temporary, {force: true});
			throw error;
		}
	} else {
		fd = openSync(temporary, 'wx');
	}

	try {
		try {
			// Chunks are copied into one buffer and written a megabyte at a time.
			const out = Buffer.allocUnsafe(1 << 20);
			let used = 0;
			for (const chunk of chunks) {
				const length = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
				if (used + length > out.length) {
					writeAll(fd, out.subarray(0, used));
					used = 0;
				}

				if (length > out.length) {
					writeAll(fd, chunk);
				} else if (typeof chunk === 'string') {
					used += out.write(chunk, used);
				} else {
					out.set(chunk, used);
					used += length;
				}
			}

			writeAll(fd, out.subarray(0, used));
			fsyncSync(fd);
		} finally {
			closeSync(fd);
		}

		replaceWith(temporary, real);
	} catch (error) {
		rmSync(temporary, {force: true});
		throw error;
	}
}

/**
 * A whole document (a report): to a file, written whole or not at all (an earlier one stays); to
 * a device (`/dev/null`), as it is.
 */
export function writeDocument(path: string, text: string): void {
	let device = false;
	try {
		device = !statSync(path).isFile();
	} catch {
		// A new file.
	}

	if (device) {
		writeFileSync(path, text);
	} else {
		writeFileAtomically(path, [text]);
	}
}

/** A whole CSV file, written to a temporary file and renamed into place (never half a file). */
export function writeCsvFile({path, rows, bom = false}: {path: string; rows: Iterable<readonly string[]>; bom?: boolean}): void {
	writeFileAtomically(path, (function * () {
		if (bom) {
			yield '\uFEFF';
		}

		for (const row of rows) {
			yield csvLine(row);
		}
	})());
}

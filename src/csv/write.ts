import {closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {dirname, join} from 'node:path';

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

/** Makes a rename in `folder` survive a power cut (where the platform can sync a folder). */
export function syncFolder(folder: string): void {
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

/** A temporary name beside `path` (same folder, so the rename is atomic), short whatever the name. */
export function temporaryBeside(path: string): string {
	return join(dirname(path), `.altbatch-${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * A whole file, written to a temporary file beside it, synced and renamed into place: the file is
 * complete or as it was. A failed write removes the temporary file.
 */
export function writeFileAtomically(path: string, chunks: Iterable<string | Uint8Array>): void {
	const temporary = temporaryBeside(path);
	const fd = openSync(temporary, 'wx');
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

		renameSync(temporary, path);
	} catch (error) {
		rmSync(temporary, {force: true});
		throw error;
	}

	syncFolder(dirname(path));
}

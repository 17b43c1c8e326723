import {existsSync, linkSync, renameSync, statSync} from 'node:fs';
import {basename, dirname, extname, join} from 'node:path';
import {resolvedPath} from '../files/paths.js';

/** `20261202-171752`: when the earlier file was last written, UTC. */
function stamp(mtimeMs: number): string {
	return new Date(mtimeMs).toISOString().replace(/\.\d+Z$/, '').replaceAll('-', '').replaceAll(':', '').replace('T', '-');
}

/**
 * Earlier results are never lost: a real run (or undo) about to start its results where a file
 * already is keeps that file beside it as `<name>.<when it was written>.csv` (`-2`, `-3`, … if that
 * is taken), and says where. Hard-linked, so the earlier file stays at `out` until the new one
 * replaces it (atomically); renamed where the file system has no hard links. Nothing to keep (no
 * file, or an empty one): undefined.
 */
export function keepEarlier(out: string): string | undefined {
	const real = resolvedPath(out);
	let size: number;
	let mtimeMs: number;
	try {
		const stats = statSync(real);
		if (!stats.isFile()) {
			return undefined;
		}

		({size, mtimeMs} = stats);
	} catch {
		return undefined;
	}

	if (size === 0) {
		return undefined;
	}

	const extension = extname(real);
	// Room for the stamp in a name near the file system's limit (255 bytes).
	const stem = join(dirname(real), basename(real, extension).slice(0, 200));
	for (let n = 1; ; n++) {
		const aside = `${stem}.${stamp(mtimeMs)}${n === 1 ? '' : `-${n}`}${extension || '.csv'}`;
		if (existsSync(aside)) {
			continue;
		}

		try {
			linkSync(real, aside);
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code === 'EEXIST') {
				continue;
			}

			renameSync(real, aside);
		}

		return aside;
	}
}

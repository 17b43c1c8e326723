import {closeSync, openSync, readSync, rmSync} from 'node:fs';
import {scanRecords} from './read-back.js';
import {csvLine} from './stringify.js';
import {writeFileAtomically} from './write.js';

/** `array` when it has room at `index`, else a copy doubled in length until it has. */
export function withRoom<T extends Float64Array | Uint32Array | Uint8Array>(array: T, index: number): T {
	if (index < array.length) {
		return array;
	}

	let size = array.length;
	while (size <= index) {
		size *= 2;
	}

	const grown = new (array.constructor as new (length: number) => T)(size);
	grown.set(array);
	return grown;
}

/** Reads an ordered byte range of a file through a few cached windows (two streams interleaved cost no extra reads). */
class WindowedReader {
	readonly #fd: number;
	readonly #windows: Array<{start: number; length: number; buffer: Buffer; used: number}> = [];
	#clock = 0;

	constructor(fd: number) {
		this.#fd = fd;
	}

	read(start: number, length: number): Uint8Array {
		for (const window of this.#windows) {
			if (start >= window.start && start + length <= window.start + window.length) {
				window.used = ++this.#clock;
				return window.buffer.subarray(start - window.start, start - window.start + length);
			}
		}

		const size = Math.max(256 * 1024, length);
		let window = this.#windows.length < 4 ? undefined : this.#windows.reduce((a, b) => (a.used <= b.used ? a : b));
		if (!window || window.buffer.length < size) {
			if (window) {
				this.#windows.splice(this.#windows.indexOf(window), 1);
			}

			window = {start: 0, length: 0, buffer: Buffer.allocUnsafe(size), used: 0};
			this.#windows.push(window);
		}

		window.start = start;
		window.length = readSync(this.#fd, window.buffer, 0, window.buffer.length, start);
		window.used = ++this.#clock;
		return window.buffer.subarray(0, Math.min(length, window.length));
	}
}

/** The highest row a rewrite keeps: a row number past the input's last row (or absurd, in a damaged file) is no row of this run. */
export function rowLimit(lastRow: number): number {
	return Math.min(lastRow, 100_000_000);
}

/**
 * A journal rewritten in input order into `path`: one pass finds each row's last line (by byte range,
 * nothing else kept per row), a second copies those lines in row order into a temporary file renamed
 * over it. A journal other than `path` (staged beside it) is removed after. `inOrder`: the journal's
 * first bytes (the header, then rows in order) are kept as they are, and every line after them is of
 * a later row: only those are put in order.
 */
export function rewriteInOrder({journal, path, header, lastRow, inOrder = 0}: {journal: string; path: string; header: readonly string[]; lastRow: number; inOrder?: number}): void {
	const limit = rowLimit(lastRow);
	const fd = openSync(journal, 'r');
	try {
		let starts = new Float64Array(1024);
		let lengths = new Uint32Array(1024);
		let highest = 0;
		let atHeader = inOrder === 0;
		scanRecords(fd, (start, end, row) => {
			if (atHeader) {
				atHeader = false;
				return;
			}

			if (!(row >= 2 && row <= limit)) {
				return;
			}

			if (row >= starts.length) {
				starts = withRoom(starts, row);
				lengths = withRoom(lengths, row);
			}

			starts[row] = start;
			lengths[row] = end - start;
			highest = Math.max(highest, row);
		}, inOrder);
		const reader = new WindowedReader(fd);
		const headerLine = csvLine(header);
		writeFileAtomically(path, (function * () {
			if (inOrder === 0) {
				yield headerLine;
			}

			for (let row = 2; row <= highest; row++) {
				const length = lengths[row] ?? 0;
				if (length > 0) {
					yield reader.read(starts[row] ?? 0, length);
				}
			}
		})(), inOrder === 0 ? undefined : {from: journal, bytes: inOrder});
	} finally {
		closeSync(fd);
	}

	if (journal !== path) {
		rmSync(journal, {force: true});
	}
}

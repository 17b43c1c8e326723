import {closeSync, openSync, readSync} from 'node:fs';

/** One row of a results file as `scanResultRows` reads it. */
export type ScannedRow = {
	/** Where its record starts and ends (after its line break) in the file. */
	readonly start: number;
	readonly end: number;
	readonly row: number;
	/** `hash53Fields` of its `width` cells after the row number (cells it lacks count as empty). */
	readonly cells: number;
	/** Its cell after those: `updated`, `unchanged`, or anything else. */
	readonly status: 'updated' | 'unchanged' | 'other';
};

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const PRIME = 0x01_00_01_93;
const UPDATED = Buffer.from('updated');
const UNCHANGED = Buffer.from('unchanged');

/** The most a record may take of the buffer: csv-parse refuses a record past 4 MB (parse.ts). */
const LONGEST_BUFFER = 8 << 20;

/** The record is not whole in the buffer: read more and walk it again. */
const MORE = -1;
/** The record is not one this reader takes: the file is read the slow way. */
const IRREGULAR = -2;

/**
 * A results file's rows read straight from its bytes, for `--resume` (no string made per cell): from
 * `from` (just after the header line) each whole record's row number, the print of its `width`
 * cells and its status. Only what we write, read alike by csv-parse: a row number of digits, cells
 * plain or quoted (`""` inside quotes), valid UTF-8, CRLF line breaks (our header line's). At the first record that is
 * anything else it stops and returns undefined — the caller reads the file through csv-parse.
 * Returns the end of the last whole record (a torn last line is left out).
 */
export function scanResultRows({path, from, width, onRow, bufferBytes = 4 << 20}: {path: string; from: number; width: number; onRow: (row: ScannedRow) => void; bufferBytes?: number}): number | undefined {
	const fd = openSync(path, 'r');
	try {
		let buffer = Buffer.allocUnsafe(bufferBytes);
		let filled = 0;
		let position = from; // the file offset of buffer[0]
		let eof = false;
		const walker = new RecordWalker(width);
		for (;;) {
			if (!eof && filled < buffer.length) {
				const read = readSync(fd, buffer, filled, buffer.length - filled, position + filled);
				filled += read;
				eof = read === 0;
			}

			let at = 0;
			for (;;) {
				let end = at < filled ? walker.walk(buffer, at, filled) : MORE;
				if (end === IRREGULAR) {
					// No line break after it: a line a kill tore (when the file ends there), or one to read more of.
					if (buffer.subarray(at, filled).includes(LF)) {
						return undefined;
					}

					end = MORE;
				}

				if (end === MORE) {
					break;
				}

				onRow({start: position + at, end: position + end, row: walker.row, cells: walker.cells, status: walker.status});
				at = end;
			}

			if (eof) {
				return position + at; // What is left is a line torn by a kill.
			}

			// The part record left moves to the front; a record longer than the buffer gets a bigger one,
			// up to twice csv-parse's longest record: past it (a quote never closed) csv-parse reads the file.
			if (at === 0 && filled === buffer.length) {
				if (buffer.length * 2 > LONGEST_BUFFER) {
					return undefined;
				}

				const bigger = Buffer.allocUnsafe(buffer.length * 2);
				buffer.copy(bigger, 0, 0, filled);
				buffer = bigger;
			} else {
				buffer.copy(buffer, 0, at, filled);
				filled -= at;
				position += at;
			}
		}
	} finally {
		closeSync(fd);
	}
}

/** Walks one record: its row number, the hash of its cells, its status. */
class RecordWalker {
	row = 0;
	cells = 0;
	status: ScannedRow['status'] = 'other';
	readonly #width: number;
	/** The hash's state after the cell count, as `hash53Fields` starts (rows/hash.ts). */
	readonly #a0: number;
	readonly #b0: number;

	constructor(width: number) {
		this.#width = width;
		let a = 0x81_1c_9d_c5;
		let b = 0x05_0c_5d_1f;
		const count = String(width);
		for (let i = 0; i < count.length; i++) {
			a = Math.imul(a ^ count.charCodeAt(i), PRIME);
			b = Math.imul(b ^ count.charCodeAt(i), PRIME) ^ (a >>> 7);
		}

		if (width === 0) {
			a = Math.imul(a, PRIME);
			b = Math.imul(b, PRIME) ^ (a >>> 7);
		}

		this.#a0 = a;
		this.#b0 = b;
	}

	/**
	 * The end of the record starting at `at` (after its line break), or MORE, or IRREGULAR. One loop
	 * over its bytes, the hash's state in locals: this is the reader's time.
	 */
	walk(buffer: Buffer, at: number, limit: number): number {
		let i = at;
		let row = 0;
		while (i < limit) {
			const byte = buffer[i] ?? 0;
			if (byte < 0x30 || byte > 0x39) {
				break;
			}

			row = (row * 10) + byte - 0x30;
			i++;
		}

		if (i >= limit) {
			return MORE;
		}

		if (i === at || i - at > 15) {
			return IRREGULAR; // No row number of digits (a line that is no row, a quoted number): csv-parse reads it.
		}

		const width = this.#width;
		let a = this.#a0;
		let b = this.#b0;
		let status = 0; // Where the status cell starts (0: the record has none).
		let statusEnd = 0;
		let cell = 0;
		// At a separator: a comma before the next cell, or the CR of the line break.
		while (buffer[i] === COMMA) {
			i++;
			cell++;
			const hashed = cell <= width;
			if (hashed) {
				a = Math.imul(a, PRIME); // The 0 between cells.
				b = Math.imul(b, PRIME) ^ (a >>> 7);
			} else if (cell === width + 1) {
				status = i;
			}

			const quoted = buffer[i] === QUOTE;
			if (quoted) {
				i++;
			}

			for (;;) {
				if (i >= limit) {
					return MORE;
				}

				let code = buffer[i] ?? 0;
				if (code > COMMA && code < 0x80) {
					// Most bytes: letters, digits, most punctuation. No branch below is theirs.
					if (hashed) {
						a = Math.imul(a ^ code, PRIME);
						b = Math.imul(b ^ code, PRIME) ^ (a >>> 7);
					}

					i++;
					continue;
				}

				let length = 1;
				if (code === QUOTE) {
					if (!quoted) {
						return IRREGULAR; // A quote inside a plain cell: csv-parse keeps it as text, this reader does not guess.
					}

					if (i + 1 >= limit) {
						return MORE;
					}

					if (buffer[i + 1] !== QUOTE) {
						i++; // The closing quote: a separator must follow.
						if (buffer[i] !== COMMA && buffer[i] !== CR) {
							return IRREGULAR;
						}

						break;
					}

					length = 2; // "" inside quotes: one quote.
				} else if (!quoted && (code === COMMA || code === CR)) {
					break;
				} else if (!quoted && code === LF) {
					return IRREGULAR; // A lone LF in a plain cell: csv-parse (CRLF found) reads it as text.
				} else if (code >= 0x80) {
					length = code >= 0xc2 && code <= 0xdf ? 2 : code >= 0xe0 && code <= 0xef ? 3 : code >= 0xf0 && code <= 0xf4 ? 4 : 0;
					code = length === 0 ? IRREGULAR : i + length > limit ? MORE : utf8Point(buffer, i, length);
					if (code < 0) {
						return code;
					}

					if (code > 0xff_ff) {
						// Outside the BMP a string holds two UTF-16 units: the first hashed here, the second below.
						const offset = code - 0x1_00_00;
						if (hashed) {
							a = Math.imul(a ^ (0xd8_00 + (offset >> 10)), PRIME);
							b = Math.imul(b ^ (0xd8_00 + (offset >> 10)), PRIME) ^ (a >>> 7);
						}

						code = 0xdc_00 + (offset & 0x3_ff);
					}
				}

				if (hashed) {
					a = Math.imul(a ^ code, PRIME);
					b = Math.imul(b ^ code, PRIME) ^ (a >>> 7);
				}

				i += length;
			}

			if (cell === width + 1) {
				statusEnd = i;
			}
		}

		// The cells a short record lacks: empty, a 0 each.
		for (; cell < width; cell++) {
			a = Math.imul(a, PRIME);
			b = Math.imul(b, PRIME) ^ (a >>> 7);
		}

		// The line break: CRLF, as our header line's (csv-parse takes a lone CR or LF for text then).
		if (i + 1 >= limit) {
			return MORE;
		}

		if (buffer[i] !== CR || buffer[i + 1] !== LF) {
			return IRREGULAR;
		}

		this.row = row;
		this.cells = ((a >>> 0) * 2 ** 21) + ((b >>> 0) & 0x1f_ff_ff);
		this.status = status === 0 ? 'other' : isWord(buffer, status, statusEnd, UPDATED) ? 'updated' : isWord(buffer, status, statusEnd, UNCHANGED) ? 'unchanged' : 'other';
		return i + 2;
	}
}

/**
 * The code point of the UTF-8 sequence of `length` bytes at `at`, or IRREGULAR when it is no valid
 * UTF-8 (a bad continuation byte, an overlong form, a surrogate, past U+10FFFF: Node would decode
 * those to replacement characters, csv-parse's reading).
 */
function utf8Point(buffer: Buffer, at: number, length: number): number {
	let point = (buffer[at] ?? 0) & (length === 2 ? 0x1f : length === 3 ? 0x0f : 0x07);
	for (let k = 1; k < length; k++) {
		const next = buffer[at + k] ?? 0;
		if ((next & 0xc0) !== 0x80) {
			return IRREGULAR;
		}

		point = (point << 6) | (next & 0x3f);
	}

	return (length === 3 && (point < 0x8_00 || (point >= 0xd8_00 && point <= 0xdf_ff))) || (length === 4 && (point < 0x1_00_00 || point > 0x10_ff_ff)) ? IRREGULAR : point;
}

/** Whether the cell from `start` to `end` (quoted or not) is `word`. */
function isWord(buffer: Buffer, start: number, end: number, word: Buffer): boolean {
	const quoted = buffer[start] === QUOTE;
	const from = quoted ? start + 1 : start;
	const to = quoted ? end - 1 : end;
	return to - from === word.length && buffer.compare(word, 0, word.length, from, to) === 0;
}

/**
 * A fast path in front of csv-parse for what nearly every file is: records of plain cells and
 * cleanly quoted ones (`"…"`, quotes doubled inside), one line break (CRLF or LF) throughout. Such
 * records read the same whatever reads them, and this reads them several times faster than
 * csv-parse. At the first record that is anything else (an empty line, a quote inside a plain cell
 * or after a closing quote, a stray CR or LF, a quote never closed, a record past a megabyte) it
 * stops, and csv-parse reads the rest from that record on, exactly as it would have read it:
 * test/files/csv/fast-parse.test.ts holds the two to the same records.
 */

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
/** A record longer than this is left to csv-parse (it enforces the longest record). */
const MAX_FAST_RECORD = 1 << 20;

/** The line break of the file as csv-parse finds it (the first one outside quotes), once found. */
export type LineEnd = '\r\n' | '\n' | undefined;

type Taken = {readonly at: number; readonly irregular: boolean};

/**
 * The records of `buf` from `start` while they are regular, pushed to `records`: where it stopped,
 * and whether at an irregular record (else it needs more bytes, or `final` and all were taken).
 */
function takeRecords(buf: Buffer, start: number, final: boolean, separator: number, state: {lineEnd: LineEnd}, records: string[][]): Taken {
	const end = buf.length;
	let p = start;
	while (p < end) {
		const fields: string[] = [];
		let q = p;
		for (;;) {
			if (q - p > MAX_FAST_RECORD) {
				return {at: p, irregular: true};
			}

			if (q < end && buf[q] === QUOTE) {
				let close = q + 1;
				let doubled = false;
				for (;;) {
					close = buf.indexOf(QUOTE, close);
					if (close < 0 || close + 1 >= end) {
						// Never closed, or closed at the end of what came: more bytes decide (at the end, csv-parse does).
						if (close < 0 || !final) {
							return {at: p, irregular: final};
						}

						break;
					}

					if (buf[close + 1] !== QUOTE) {
						break;
					}

					doubled = true;
					close += 2;
				}

				const text = buf.toString('utf8', q + 1, close);
				fields.push(doubled ? text.replaceAll('""', '"') : text);
				q = close + 1;
				if (q >= end) {
					records.push(fields);
					return {at: end, irregular: false};
				}

				if (buf[q] === separator) {
					q++;
					continue;
				}
			} else {
				let i = q;
				let byte = 0;
				for (; i < end; i++) {
					byte = buf[i] ?? 0;
					if (byte === separator || byte === QUOTE || byte === CR || byte === LF) {
						break;
					}
				}

				if (i < end && byte === QUOTE) {
					return {at: p, irregular: true};
				}

				if (i >= end && !final) {
					return {at: p, irregular: false};
				}

				fields.push(buf.toString('utf8', q, i));
				q = i;
				if (q >= end) {
					records.push(fields);
					return {at: end, irregular: false};
				}

				if (byte === separator) {
					q++;
					continue;
				}
			}

			// The record's end: the file's line break, and nothing else.
			const length = lineBreakAt(buf, q, final, state);
			if (length < 0) {
				return {at: p, irregular: final || length === IRREGULAR};
			}

			if (fields.length === 1 && fields[0] === '' && buf[p] !== QUOTE) {
				return {at: p, irregular: true}; // An empty line.
			}

			records.push(fields);
			p = q + length;
			break;
		}
	}

	return {at: p, irregular: false};
}

const MORE = -1;
const IRREGULAR = -2;

/** The length of the line break at `q` (learning the file's from the first), MORE when the next byte decides, IRREGULAR when it is none. */
function lineBreakAt(buf: Buffer, q: number, final: boolean, state: {lineEnd: LineEnd}): number {
	const byte = buf[q];
	if (byte === LF) {
		state.lineEnd ??= '\n';
		return state.lineEnd === '\n' ? 1 : IRREGULAR;
	}

	if (byte !== CR) {
		return IRREGULAR;
	}

	if (q + 1 >= buf.length) {
		return final ? IRREGULAR : MORE;
	}

	if (buf[q + 1] !== LF) {
		return IRREGULAR;
	}

	state.lineEnd ??= '\r\n';
	return state.lineEnd === '\r\n' ? 2 : IRREGULAR;
}

/** What the fast path left to csv-parse: the bytes from the first irregular record on, and the line break found before it. */
export type LeftOver = {readonly lineEnd: LineEnd; readonly rest: AsyncIterable<Buffer | string>};

/**
 * Reads `chunks` (bytes) record by record, handing each to `onRecord` (awaited when it returns a
 * promise); undefined when it read them all, else what is left for csv-parse. Text chunks (an
 * encoding decoded to text) are all left to csv-parse.
 */
export async function fastRecords({chunks, delimiter, onRecord}: {chunks: AsyncIterator<unknown>; delimiter: string; onRecord: (fields: string[]) => void | Promise<void>}): Promise<LeftOver | undefined> {
	const separator = delimiter.charCodeAt(0);
	const state: {lineEnd: LineEnd} = {lineEnd: undefined};
	let pending: Buffer = Buffer.alloc(0);
	for (;;) {
		const next = await chunks.next();
		if (!next.done && !Buffer.isBuffer(next.value)) {
			return {lineEnd: state.lineEnd, rest: leftOver(pending, next.value as string, chunks)};
		}

		const final = next.done === true;
		const buf = final ? pending : pending.length === 0 ? next.value as Buffer : Buffer.concat([pending, next.value as Buffer]);
		const records: string[][] = [];
		const taken = takeRecords(buf, 0, final, separator, state, records);
		for (const fields of records) {
			const handed = onRecord(fields);
			if (handed) {
				await handed;
			}
		}

		pending = buf.subarray(taken.at);
		if (taken.irregular || (!final && pending.length > MAX_FAST_RECORD)) {
			return {lineEnd: state.lineEnd, rest: leftOver(pending, undefined, chunks)};
		}

		if (final) {
			return undefined;
		}
	}
}

async function * leftOver(pending: Buffer, first: string | undefined, chunks: AsyncIterator<unknown>): AsyncGenerator<Buffer | string> {
	if (pending.length > 0) {
		yield pending;
	}

	if (first !== undefined) {
		yield first;
	}

	let done = false;
	try {
		for (;;) {
			const next = await chunks.next();
			if (next.done) {
				done = true;
				return;
			}

			yield next.value as Buffer | string;
		}
	} finally {
		if (!done) {
			await chunks.return?.(); // csv-parse stopped (a failure): the file is closed.
		}
	}
}

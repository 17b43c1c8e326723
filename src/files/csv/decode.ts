import {open} from 'node:fs/promises';
import {isUtf8} from 'node:buffer';
import {Transform, type TransformCallback} from 'node:stream';

export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
export const ENCODINGS: readonly Encoding[] = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'];

/** What the first bytes of a file say about it: the encoding (BOM first) and the bytes to skip. */
export async function sniffFile(path: string, forced?: Encoding): Promise<{encoding: Encoding; bomLength: number; head: string}> {
	const handle = await open(path, 'r');
	try {
		const buffer = Buffer.alloc(64 * 1024);
		const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0);
		const bytes = buffer.subarray(0, bytesRead);
		let encoding: Encoding = forced ?? 'utf-8';
		let bomLength = 0;
		if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
			encoding = forced ?? 'utf-8';
			bomLength = encoding === 'utf-8' ? 3 : 0;
		} else if (bytes[0] === 0xff && bytes[1] === 0xfe) {
			encoding = forced ?? 'utf-16le';
			bomLength = encoding === 'utf-16le' ? 2 : 0;
		} else if (bytes[0] === 0xfe && bytes[1] === 0xff) {
			encoding = forced ?? 'utf-16be';
			bomLength = encoding === 'utf-16be' ? 2 : 0;
		}

		// A lenient decode is enough to read the header line; the strict decode comes later.
		const head = new TextDecoder(encoding).decode(bytes.subarray(bomLength));
		return {encoding, bomLength, head};
	} finally {
		await handle.close();
	}
}

/** Offset of the first byte that is not valid UTF-8, or -1; an incomplete sequence at the end is fine. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
	let i = 0;
	while (i < bytes.length) {
		const b = bytes[i] ?? 0;
		let need: number;
		if (b < 0x80) {
			i++;
			continue;
		} else if (b >= 0xc2 && b <= 0xdf) {
			need = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			need = 2;
		} else if (b >= 0xf0 && b <= 0xf4) {
			need = 3;
		} else {
			return i;
		}

		for (let k = 1; k <= need; k++) {
			if (i + k >= bytes.length) {
				return -1;
			}

			const c = bytes[i + k] ?? 0;
			if (c < 0x80 || c > 0xbf) {
				return i;
			}
		}

		i += need + 1;
	}

	return -1;
}

function countNewlines(bytes: Uint8Array, end = bytes.length): number {
	let n = 0;
	for (let i = 0; i < end; i++) {
		if (bytes[i] === 0x0a) {
			n++;
		}
	}

	return n;
}

/** How many line feeds `text` holds. */
function countLineFeeds(text: string): number {
	let n = 0;
	for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) {
		n++;
	}

	return n;
}

/**
 * UTF-16 code units up to the first one that is not valid there (a lone surrogate): how many line
 * feeds come before it. An incomplete unit or pair at the end is not counted as invalid.
 */
export function lineFeedsBeforeInvalidUtf16(bytes: Uint8Array, bigEndian: boolean): number {
	const unit = (i: number) => bigEndian ? ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0) : (bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8);
	let n = 0;
	for (let i = 0; i + 1 < bytes.length; i += 2) {
		const u = unit(i);
		if (u >= 0xd8_00 && u <= 0xdb_ff) {
			if (i + 3 >= bytes.length) {
				return n;
			}

			const next = unit(i + 2);
			if (next < 0xdc_00 || next > 0xdf_ff) {
				return n;
			}

			i += 2;
		} else if (u >= 0xdc_00 && u <= 0xdf_ff) {
			return n;
		} else if (u === 0x0a) {
			n++;
		}
	}

	return n;
}

/**
 * Where the last whole UTF-8 character of `bytes` ends: before a lead byte at the end whose
 * continuation bytes have not all come yet (the rest of it is in the next chunk).
 */
function wholeUtf8End(bytes: Uint8Array): number {
	for (let back = 1; back <= Math.min(3, bytes.length); back++) {
		const b = bytes[bytes.length - back] ?? 0;
		if (b < 0x80) {
			return bytes.length;
		}

		if (b >= 0xc0) {
			const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
			return length > back ? bytes.length - back : bytes.length;
		}
	}

	return bytes.length;
}

/**
 * Bytes → what csv-parse reads, strictly: a byte sequence that is not valid in the encoding stops
 * the stream with `onInvalid(line)`, the 1-based line of the bad bytes: the line feeds handed on
 * before it, plus those of the failing chunk up to the bad bytes. UTF-8 (nearly every file) is
 * checked and handed on as bytes, never decoded here: csv-parse reads bytes, and text would only
 * be turned back into bytes (a second of CPU on a million rows). Other encodings are decoded.
 */
export function createDecoder({encoding, skip, onInvalid}: {encoding: Encoding; skip: number; onInvalid: (line: number) => Error}): Transform {
	return encoding === 'utf-8' ? utf8Checker({skip, onInvalid}) : textDecoder({encoding, skip, onInvalid});
}

/** The first `skip` bytes of a stream left out (a byte order mark), whatever the chunks. */
function skipper(skip: number): (chunk: Uint8Array) => Uint8Array {
	let toSkip = skip;
	return chunk => {
		const n = Math.min(toSkip, chunk.length);
		toSkip -= n;
		return n === 0 ? chunk : chunk.subarray(n);
	};
}

/** UTF-8 bytes checked and handed on as they are, a character split between chunks kept whole. */
function utf8Checker({skip, onInvalid}: {skip: number; onInvalid: (line: number) => Error}): Transform {
	const skipped = skipper(skip);
	let newlinesBefore = 0;
	/** The start of a character whose last bytes are in the next chunk. */
	let carry: Uint8Array = new Uint8Array(0);
	return new Transform({
		decodeStrings: true,
		transform(chunk: Buffer, _encoding, callback: TransformCallback) {
			const bytes = skipped(chunk);

			const joined = carry.length > 0 ? Buffer.concat([carry, bytes]) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
			const end = wholeUtf8End(joined);
			const whole = joined.subarray(0, end);
			if (!isUtf8(whole)) {
				const at = firstInvalidUtf8(whole);
				callback(onInvalid(newlinesBefore + countNewlines(whole, at < 0 ? whole.length : at) + 1));
				return;
			}

			newlinesBefore += countNewlines(whole);
			carry = joined.subarray(end);
			callback(null, whole);
		},
		flush(callback: TransformCallback) {
			// A character cut short by the end of the file.
			callback(carry.length > 0 ? onInvalid(newlinesBefore + 1) : null);
		},
	});
}

/** Text in another encoding (UTF-16, Windows-1252), decoded strictly. */
function textDecoder({encoding, skip, onInvalid}: {encoding: Encoding; skip: number; onInvalid: (line: number) => Error}): Transform {
	const decoder = new TextDecoder(encoding, {fatal: encoding !== 'windows-1252'});
	const skipped = skipper(skip);
	/** Line feeds in the text handed on so far. */
	let newlinesBefore = 0;
	/** The last bytes fed in: the decoder may hold a few back (a sequence or pair split between chunks). */
	let pending: Uint8Array = new Uint8Array(0);
	/** UTF-16: bytes fed in and code units handed on (the difference is what the decoder holds back). */
	let fed = 0;
	let emitted = 0;
	return new Transform({
		decodeStrings: true,
		readableObjectMode: false,
		transform(chunk: Buffer, _encoding, callback: TransformCallback) {
			const bytes = skipped(chunk);

			try {
				const text = decoder.decode(bytes, {stream: true});
				newlinesBefore += countLineFeeds(text);
				fed += bytes.length;
				emitted += text.length;
				// Only the last bytes are kept (no copy of the chunk): all a split sequence needs.
				pending = bytes.length >= 3 ? bytes.subarray(bytes.length - 3) : Buffer.concat([pending, bytes]).subarray(-3);
				callback(null, text);
			} catch {
				callback(onInvalid(locate(bytes)));
			}
		},
		flush(callback: TransformCallback) {
			try {
				callback(null, decoder.decode());
			} catch {
				callback(onInvalid(newlinesBefore + 1));
			}
		},
	});

	function locate(bytes: Uint8Array): number {
		// Only UTF-16 fails here (Windows-1252 decodes every byte): the bytes the decoder held back,
		// then this chunk, as code units from where the text stopped.
		const held = Math.max(0, Math.min(pending.length, fed - (2 * emitted)));
		const joined = Buffer.concat([pending.subarray(pending.length - held), bytes]);
		return newlinesBefore + lineFeedsBeforeInvalidUtf16(joined, encoding === 'utf-16be') + 1;
	}
}

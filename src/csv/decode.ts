import {open} from 'node:fs/promises';
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

/**
 * Bytes → text in the given encoding, strictly: a byte sequence that is not valid there stops the
 * stream with `onInvalid(line)` (1-based line of the bad byte, for UTF-8; best effort otherwise).
 */
export function createDecoder({encoding, skip, onInvalid}: {encoding: Encoding; skip: number; onInvalid: (line: number) => Error}): Transform {
	const decoder = new TextDecoder(encoding, {fatal: encoding !== 'windows-1252'});
	let toSkip = skip;
	let newlinesBefore = 0;
	let pending: Uint8Array = new Uint8Array(0);
	return new Transform({
		decodeStrings: true,
		readableObjectMode: false,
		transform(chunk: Buffer, _encoding, callback: TransformCallback) {
			let bytes: Uint8Array = chunk;
			if (toSkip > 0) {
				const n = Math.min(toSkip, bytes.length);
				bytes = bytes.subarray(n);
				toSkip -= n;
			}

			try {
				const text = decoder.decode(bytes, {stream: true});
				if (encoding === 'utf-8') {
					// Keep the line count right across chunks, including a sequence split between them.
					newlinesBefore += countNewlines(bytes);
					// Only the last bytes are kept (no copy of the chunk): all a split sequence needs.
					pending = bytes.length >= 3 ? bytes.subarray(bytes.length - 3) : Buffer.concat([pending, bytes]).subarray(-3);
				}

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
		if (encoding !== 'utf-8') {
			return newlinesBefore + countNewlines(bytes) + 1;
		}

		const joined = Buffer.concat([pending, bytes]);
		const at = firstInvalidUtf8(joined);
		const offset = at < 0 ? joined.length : at;
		return newlinesBefore - countNewlines(pending) + countNewlines(joined, offset) + 1;
	}
}

import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {text} from 'node:stream/consumers';
import {describe, expect, it} from 'vitest';
import {createDecoder, firstInvalidUtf8, sniffFile} from '../../../src/files/csv/decode.js';
import {tempDir} from '../../helpers.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('finding the first byte that is not UTF-8', () => {
	it('finds none in ASCII and in well-formed sequences of two, three and four bytes', () => {
		expect(firstInvalidUtf8(Buffer.from('plain, é, €, 🚲'))).toBe(-1);
	});

	it('finds a stray continuation byte, an overlong lead, and a lead whose continuation is missing', () => {
		expect(firstInvalidUtf8(bytes(0x41, 0x80))).toBe(1);
		expect(firstInvalidUtf8(bytes(0x41, 0xc0, 0x80))).toBe(1);
		expect(firstInvalidUtf8(bytes(0x41, 0xe2, 0x41, 0x41))).toBe(1);
		expect(firstInvalidUtf8(bytes(0xf5, 0x80, 0x80, 0x80))).toBe(0);
	});

	it('takes a sequence cut off at the end for the start of the next chunk, not an error', () => {
		expect(firstInvalidUtf8(bytes(0x41, 0xe2, 0x82))).toBe(-1);
	});
});

describe('the encoding a file announces', () => {
	it('reads a UTF-8, UTF-16LE or UTF-16BE byte order mark, and skips it', async () => {
		const dir = await tempDir();
		const cases: Array<[string, Buffer, string, number]> = [
			['utf8.csv', Buffer.concat([bytes(0xef, 0xbb, 0xbf), Buffer.from('assetId\n')]), 'utf-8', 3],
			['le.csv', Buffer.concat([bytes(0xff, 0xfe), Buffer.from('assetId\n', 'utf16le')]), 'utf-16le', 2],
			['be.csv', Buffer.concat([bytes(0xfe, 0xff), Buffer.from('assetId\n', 'utf16le').swap16()]), 'utf-16be', 2],
			['none.csv', Buffer.from('assetId\n'), 'utf-8', 0],
		];
		for (const [name, content, encoding, bomLength] of cases) {
			const path = join(dir, name);
			await writeFile(path, content);
			expect(await sniffFile(path)).toEqual({encoding, bomLength, head: 'assetId\n'});
		}
	});

	it('follows a forced encoding over the byte order mark, and then keeps the mark as text', async () => {
		const path = join(await tempDir(), 'forced.csv');
		await writeFile(path, Buffer.concat([bytes(0xef, 0xbb, 0xbf), Buffer.from('id\n')]));
		expect(await sniffFile(path, 'windows-1252')).toMatchObject({encoding: 'windows-1252', bomLength: 0});
	});
});

describe('decoding a file as it streams', () => {
	const decode = async (chunks: Uint8Array[], encoding: 'utf-8' | 'windows-1252', skip = 0) => text(Readable.from(chunks.map(chunk => Buffer.from(chunk))).pipe(createDecoder({encoding, skip, onInvalid: line => new Error(`bad byte on line ${line}`)})));

	it('joins a character split between two chunks', async () => {
		const euro = Buffer.from('a€b');
		expect(await decode([euro.subarray(0, 2), euro.subarray(2)], 'utf-8')).toBe('a€b');
	});

	it('hands on UTF-8 whole, however a four-byte character is split between chunks, and refuses a bad one split the same way', async () => {
		const line = Buffer.from('a🚲b\nc€d\n');
		for (let cut = 1; cut < line.length; cut++) {
			expect(await decode([line.subarray(0, cut), line.subarray(cut)], 'utf-8')).toBe('a🚲b\nc€d\n');
		}

		// 🚲 with its last byte replaced: not a character, wherever the chunk ends.
		const bad = Buffer.concat([Buffer.from('ok\n'), bytes(0xf0, 0x9f, 0x9a, 0x41), Buffer.from('\n')]);
		for (let cut = 1; cut < bad.length; cut++) {
			await expect(decode([bad.subarray(0, cut), bad.subarray(cut)], 'utf-8')).rejects.toThrow('bad byte on line 2');
		}
	});

	it('skips the byte order mark it is told to skip', async () => {
		expect(await decode([bytes(0xef, 0xbb, 0xbf, 0x41)], 'utf-8', 3)).toBe('A');
	});

	it('stops at a byte that is not UTF-8, naming its line across chunks', async () => {
		await expect(decode([Buffer.from('one\ntwo\n'), Buffer.concat([Buffer.from('thr'), bytes(0xff), Buffer.from('ee\n')])], 'utf-8')).rejects.toThrow('bad byte on line 3');
	});

	it('stops at a sequence left unfinished at the end of the file', async () => {
		await expect(decode([Buffer.from('one\n'), bytes(0xe2, 0x82)], 'utf-8')).rejects.toThrow('bad byte on line 2');
	});

	it('reads every byte as Windows-1252 without refusing any', async () => {
		expect(await decode([bytes(0x63, 0x61, 0x66, 0xe9, 0x80)], 'windows-1252')).toBe('café€');
	});
});

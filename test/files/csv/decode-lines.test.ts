import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {objectId} from '../../../src/sandbox/state.js';
import {runCli, tempDir} from '../../helpers.js';

describe('a bad byte is refused at its line', () => {
	it('a UTF-16 file whose last byte is a stray odd byte after line 2 is refused at line 3', async () => {
		const dir = await tempDir();
		const input = join(dir, 'u16_odd.csv');
		await writeFile(input, Buffer.concat([Buffer.from('\uFEFFassetId,altText\r\nabc000000000000000000062,ok\r\n', 'utf16le'), Buffer.from('A')]));
		const result = await runCli(['run', input, '--dry-run']);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('u16_odd.csv:3:');
	});

	it('a lone surrogate in the middle of a UTF-16 file is refused at its own line, in little- and big-endian', async () => {
		const dir = await tempDir();
		for (const endian of ['le', 'be'] as const) {
			const encode = (text: string) => {
				const bytes = Buffer.from(text, 'utf16le');
				return endian === 'le' ? bytes : bytes.swap16();
			};

			const lone = endian === 'le' ? Buffer.from([0x00, 0xdc]) : Buffer.from([0xdc, 0x00]);
			const input = join(dir, `lone-${endian}.csv`);
			await writeFile(input, Buffer.concat([encode(`\uFEFFassetId,altText\r\n${objectId('lone/1')},ok\r\n${objectId('lone/2')},bad `), lone, encode(`\r\n${objectId('lone/3')},ok\r\n${objectId('lone/4')},ok\r\n`)]));
			const result = await runCli(['run', input, '--dry-run']);
			expect(result.code, endian).toBe(2);
			expect(result.stderr).toContain(`lone-${endian}.csv:3:`);
		}
	});
});

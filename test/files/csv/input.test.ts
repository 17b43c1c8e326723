import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {InputError} from '../../../src/errors.js';
import {assetIds, makeSite, results, runJob, startSandbox, tempDir, writeCsv} from '../../helpers.js';

const site = () => makeSite({label: 'dialects', count: 4, locales: 1});

describe('input as spreadsheets write it', () => {
	it('reads UTF-8 with a BOM, semicolons and CRLF, and sends the text ungarbled', async () => {
		const s = site();
		const [a, b] = assetIds(s);
		const sandbox = await startSandbox({sites: [s], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = join(dir, 'excel-semicolon.csv');
		await writeFile(input, `\uFEFFAsset ID;Alt Text;Notes\r\n${a};Crème brûlée, façade;x\r\n${b};"Zwei; Zeilen\r\nhier";y\r\n`);
		const summary = await runJob({input, apiBase: sandbox.url});
		expect(summary.statuses.updated).toBe(2);
		expect(sandbox.asset(a!)!.altText.get(s.primaryLocale)).toBe('Crème brûlée, façade');
		expect(sandbox.asset(b!)!.altText.get(s.primaryLocale)).toBe('Zwei; Zeilen\r\nhier');
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => [r.row, r['Asset ID'], r.Notes, r.status])).toEqual([['2', a, 'x', 'updated'], ['3', b, 'y', 'updated']]);
	});

	it('reads UTF-16LE with a BOM and tabs (Excel "Unicode text")', async () => {
		const s = site();
		const [a] = assetIds(s);
		const sandbox = await startSandbox({sites: [s], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = join(dir, 'unicode.txt');
		const content = `asset_id\talt_text\tdisplay_name\r\n${a}\t日本の寺院 — 京都\tkyoto.jpg\r\n`;
		await writeFile(input, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(content, 'utf16le')]));
		const summary = await runJob({input, apiBase: sandbox.url});
		expect(summary.statuses.updated).toBe(1);
		expect(sandbox.asset(a!)!.altText.get(s.primaryLocale)).toBe('日本の寺院 — 京都');
		expect(sandbox.asset(a!)!.displayName).toBe('kyoto.jpg');
	});

	it('refuses a Windows-1252 file naming the line, and decodes it right when told the encoding', async () => {
		const s = site();
		const [a, b] = assetIds(s);
		const sandbox = await startSandbox({sites: [s], rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const input = join(dir, 'old-excel.csv');
		await writeFile(input, Buffer.concat([Buffer.from(`assetId,altText\n${a},plain\n${b},Caf`), Buffer.from([0xe9]), Buffer.from(' au lait\n')]));
		const refused = runJob({input, apiBase: sandbox.url});
		await expect(refused).rejects.toThrow(InputError);
		await expect(refused).rejects.toThrow(/old-excel\.csv:3: .*windows-1252/);
		expect(sandbox.requests).toHaveLength(0);

		const summary = await runJob({input, apiBase: sandbox.url, encoding: 'windows-1252'});
		expect(summary.statuses.updated).toBe(2);
		expect(sandbox.asset(b!)!.altText.get(s.primaryLocale)).toBe('Café au lait');
	});

	it('refuses a file whose quote never closes, naming the line, and sends nothing', async () => {
		const s = site();
		const [a, b, c] = assetIds(s);
		const sandbox = await startSandbox({sites: [s]});
		const dir = await tempDir();
		const input = join(dir, 'broken.csv');
		await writeFile(input, `assetId,altText\n${a},fine\n${b},"never closed\n${c},swallowed\n`);
		await expect(runJob({input, apiBase: sandbox.url})).rejects.toThrow(/broken\.csv:3: a quoted cell that starts on line 3 is never closed/);
		expect(sandbox.requests).toHaveLength(0);
	});

	it('refuses a stray quote that joins rows together, rather than losing them', async () => {
		const s = site();
		const [a, b, c] = assetIds(s);
		const sandbox = await startSandbox({sites: [s]});
		const dir = await tempDir();
		const input = join(dir, 'stray.csv');
		await writeFile(input, `assetId,altText\n${a},"12 inch ruler\n${b},fine\n${c},also "fine"\n`);
		await expect(runJob({input, apiBase: sandbox.url})).rejects.toThrow(/stray\.csv:2: a quote on line 2 joins lines 2–4/);
		expect(sandbox.requests).toHaveLength(0);
	});

	it('refuses a file without an asset id column', async () => {
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'no-id.csv'), [['name', 'alt'], ['x', 'y']]);
		await expect(runJob({input, dryRun: true})).rejects.toThrow(/no-id\.csv:1: no asset id column/);
	});

	it('matches header aliases loosely and carries extra columns through untouched', async () => {
		const dir = await tempDir();
		const id = 'a'.repeat(24);
		const input = await writeCsv(join(dir, 'aliases.csv'), [['ID', 'Locale', 'Display-Name', 'ALT', 'Owner', 'Due'], [id, '', 'n.png', 'alt', 'Ana', '=1+1']]);
		const summary = await runJob({input, dryRun: true});
		expect(summary.statuses.would_update).toBe(1);
		const [row] = await results(`${input}.results.csv`);
		expect(row).toMatchObject({row: '2', ID: id, Owner: 'Ana', Due: '=1+1', status: 'would_update', attempts: '0'});
	});

	it('gives every bad row an invalid result with a code, numbered as the spreadsheet numbers it', async () => {
		const dir = await tempDir();
		const ok = 'b'.repeat(24);
		const input = await writeCsv(join(dir, 'bad-rows.csv'), [
			['assetId', 'localeId', 'altText'],
			['xyz', '', 'alt'],
			['', '', ''],
			[ok, 'en-US', 'alt'],
			[ok, '', ''],
			[`${ok},extra`, '', 'alt'],
			[ok, '', 'fine'],
		]);
		const summary = await runJob({input, dryRun: true});
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => [r.row, r.status, r.error_code])).toEqual([
			['2', 'invalid', 'invalid_asset_id'],
			['4', 'invalid', 'invalid_locale_id'],
			['5', 'invalid', 'nothing_to_update'],
			['6', 'invalid', 'invalid_asset_id'],
			['7', 'would_update', ''],
		]);
		expect(summary.statuses.invalid).toBe(4);
	});
});

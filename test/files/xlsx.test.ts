import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import ExcelJS from 'exceljs';
import {describe, expect, it} from 'vitest';
import {parse} from 'csv-parse/sync';
import {objectId} from '../../src/sandbox/state.js';
import {readXlsx} from '../../src/files/xlsx.js';
import {OTHER_PROGRAMS_SKIPPED, assetIds, makeSite, patchesSent, runCli, spawnCli, startSandbox, tempDir, until, writeCsv} from '../helpers.js';

const TOKEN = 'sandbox-token';
const FAST = {count: 2000, windowMs: 1000};
const SOFFICE = ['/usr/bin/soffice', '/usr/bin/libreoffice', '/usr/local/bin/soffice'].find(path => existsSync(path));

/** A sheet's rows as text, keyed by the header (what our reader makes of it). */
async function sheetRows(path: string): Promise<Array<Record<string, string>>> {
	const rows: string[][] = [];
	await readXlsx({path, sheet: undefined, onRecord({fields}) {
		rows.push(fields);
	}});
	const [header = [], ...body] = rows;
	return body.map(fields => Object.fromEntries(header.map((name, i) => [name, fields[i] ?? ''])));
}

/** LibreOffice, headless, with a profile of its own: converts `file` into `format` in `outdir`. */
async function soffice(args: string[], dir: string): Promise<void> {
	await promisify(execFile)(SOFFICE!, [`-env:UserInstallation=file://${join(dir, 'lo-profile')}`, '--headless', ...args], {timeout: 240_000});
}

describe('.xlsx jobs and results', () => {
	it('a sheet it lacks is input_no_sheet every time, also where the sheets come before the shared strings (exceljs spills them to temporary files)', async () => {
		const dir = await tempDir();
		const path = join(dir, 'two-sheets.xlsx');
		const workbook = new ExcelJS.Workbook();
		const jobs = workbook.addWorksheet('Jobs');
		jobs.addRow(['assetId', 'altText']);
		for (let i = 0; i < 2000; i++) {
			jobs.addRow([objectId(`spill/${i}`), `Alt ${i}`]);
		}

		workbook.addWorksheet('Other').addRow(['x']);
		await workbook.xlsx.writeFile(path);
		// A skipped sheet left unread had its temporary file deleted under a stream still opening: an
		// unhandled error that killed the process (about one run in five).
		for (let i = 0; i < 30; i++) {
			await expect(readXlsx({path, sheet: 'Nope', onRecord() {}})).rejects.toMatchObject({code: 'input_no_sheet'});
			await new Promise(resolve => setTimeout(resolve, 5));
		}
	});

	it('reads the first sheet (or --sheet) as text: numbers, dates, rich text, formula results; writes string cells, never formulas', {timeout: 300_000}, async () => {
		const site = makeSite({label: 'xlsx-read', count: 4});
		const [a, b, c, d] = assetIds(site) as [string, string, string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = join(dir, 'jobs.xlsx');
		const workbook = new ExcelJS.Workbook();
		const jobs = workbook.addWorksheet('Jobs');
		jobs.addRow(['assetId', 'altText', 'note', 'when']);
		jobs.addRow([a, '=1+1 is two', 12_345, new Date(Date.UTC(2026, 0, 31))]);
		jobs.addRow([6.5e23, 'Lost id', 'Excel made a number of it', '']);
		jobs.addRow([]);
		jobs.addRow([b, {richText: [{text: 'A rich '}, {text: 'text', font: {bold: true}}]}, {formula: 'A1&"!"', result: 'assetId!'}, true]);
		jobs.addRow([c, {text: 'A linked alt', hyperlink: 'https://example.com'}, 0.1, '']);
		const other = workbook.addWorksheet('Other');
		other.addRow(['Asset ID', 'Alt Text']);
		other.addRow([d, 'From the other sheet']);
		await workbook.xlsx.writeFile(input);

		const out = join(dir, 'results.xlsx');
		const run = await runCli(['run', input, '--out', out, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(run.code, run.stderr).toBe(1);
		expect(sandbox.asset(a)!.altText.get(site.primaryLocale)).toBe('=1+1 is two');
		expect(sandbox.asset(b)!.altText.get(site.primaryLocale)).toBe('A rich text');
		expect(sandbox.asset(c)!.altText.get(site.primaryLocale)).toBe('A linked alt');
		expect(existsSync(`${out}.journal.csv`)).toBe(false);
		const rows = await sheetRows(out);
		// Row numbers are the sheet's: the empty row 4 is no row.
		expect(rows.map(r => [r.row, r.status, r.error_code])).toEqual([['2', 'updated', ''], ['3', 'invalid', 'invalid_asset_id'], ['5', 'updated', ''], ['6', 'updated', '']]);
		expect(rows[0]).toMatchObject({note: '12345', when: '2026-01-31', altText: '=1+1 is two'});
		expect(rows[1]!.assetId).toBe('6.5e+23');
		expect(rows[1]!.error_message).toContain('format the column as Text');
		expect(rows[2]).toMatchObject({note: 'assetId!', when: 'TRUE'});
		expect(rows[3]!.note).toBe('0.1');

		// Every cell we wrote is a string: none a formula, none a number.
		const written = new ExcelJS.Workbook();
		await written.xlsx.readFile(out);
		const types = new Set<number>();
		written.worksheets[0]!.eachRow(row => {
			row.eachCell(cell => types.add(cell.type));
		});
		expect([...types]).toEqual([ExcelJS.ValueType.String]);

		const sheet = await runCli(['run', input, '--sheet', 'Other', '--out', join(dir, 'other.xlsx'), '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(sheet.code, sheet.stderr).toBe(0);
		expect(sandbox.asset(d)!.altText.get(site.primaryLocale)).toBe('From the other sheet');
		const missing = await runCli(['run', input, '--sheet', 'Nope', '--dry-run'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(missing.code, missing.stderr).toBe(2);
		expect(missing.stderr).toContain('no sheet named "Nope" (its sheets: "Jobs", "Other")');
	});

	it('a kill -9 leaves the journal beside the workbook; --resume finishes it, and a finished workbook resumes with nothing sent', {timeout: 300_000}, async () => {
		const site = makeSite({label: 'xlsx-resume', count: 200});
		const sandbox = await startSandbox({sites: [site], rate: {count: 40, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...assetIds(site).map((id, i) => [id, `Alt ${i}`])]);
		const out = join(dir, 'results.xlsx');
		const {child, done} = spawnCli(['run', input, '--out', out, '--api-base', sandbox.url, '--rate', '40/s'], {env: {WEBFLOW_TOKEN: TOKEN}});
		await until(() => patchesSent(sandbox).length >= 30);
		child.kill('SIGKILL');
		await done;
		expect(existsSync(`${out}.journal.csv`)).toBe(true);
		expect(existsSync(out)).toBe(false);
		const before = patchesSent(sandbox).length;

		const resumed = await runCli(['run', input, '--out', out, '--api-base', sandbox.url, '--resume'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(resumed.code, resumed.stderr).toBe(0);
		const redone = patchesSent(sandbox).length - before;
		expect(redone).toBeLessThanOrEqual(200 - before + 8);
		expect(existsSync(`${out}.journal.csv`)).toBe(false);
		const rows = await sheetRows(out);
		expect(rows.map(r => r.row)).toEqual(Array.from({length: 200}, (_, i) => String(i + 2)));
		expect(rows.every(r => r.status === 'updated' || r.status === 'unchanged')).toBe(true);

		const again = await runCli(['run', input, '--out', out, '--api-base', sandbox.url, '--resume'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(again.code, again.stderr).toBe(0);
		expect(patchesSent(sandbox).length - before).toBe(redone);
		expect((await sheetRows(out)).length).toBe(200);

		// A dry run never replaces a workbook holding a real run's results.
		const dry = await runCli(['run', input, '--out', out, '--dry-run'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(dry.code).toBe(2);
		expect(dry.stderr).toContain('out_holds_real_results');
		expect(existsSync(`${out}.journal.csv`)).toBe(false);
	});

	it('export --out .xlsx writes text cells without the CSV\'s guard, and runs back unchanged with nothing sent', {timeout: 300_000}, async () => {
		const site = makeSite({label: 'xlsx-export', count: 3});
		const [a] = assetIds(site) as [string];
		site.assets.get(a)!.displayName = '=HYPERLINK("http://evil")';
		site.assets.get(a)!.altText.set(site.primaryLocale, '-5 degrees outside');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const out = join(dir, 'assets.xlsx');
		const exported = await runCli(['export', '--site', site.id, '--out', out, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(exported.code, exported.stderr).toBe(0);
		const rows = await sheetRows(out);
		expect(rows).toHaveLength(3);
		expect(rows.find(r => r.assetId === a)).toMatchObject({displayName: '=HYPERLINK("http://evil")', altText: '-5 degrees outside', exportedDisplayName: '=HYPERLINK("http://evil")'});
		const back = await runCli(['run', out, '--site', site.id, '--out', join(dir, 'back.xlsx'), '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(back.code, back.stderr).toBe(0);
		expect(patchesSent(sandbox)).toHaveLength(0);
	});

	it.skipIf(OTHER_PROGRAMS_SKIPPED || (!SOFFICE && !process.env.CI && !process.env.ALTBATCH_CI))('LibreOffice writes what we read and opens what we write, formulas as text', {timeout: 600_000}, async () => {
		const site = makeSite({label: 'xlsx-libreoffice', count: 3});
		const [a, b] = assetIds(site) as [string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		// LibreOffice makes the workbook from a CSV: "=SUM(1,2)" stays text only because we quote nothing special; the number column becomes numbers.
		await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'count'], [a, 'Ein Fahrrad, rot', '0042'], [b, 'x =SUM(1,2)', '1e5'], [objectId('xlsx-libreoffice/none'), 'Nobody', '7']]);
		await soffice(['--infilter=CSV:44,34,76,1', '--convert-to', 'xlsx', '--outdir', dir, join(dir, 'jobs.csv')], dir);
		const input = join(dir, 'jobs.xlsx');
		expect(existsSync(input)).toBe(true);
		const out = join(dir, 'results.xlsx');
		const run = await runCli(['run', input, '--site', site.id, '--out', out, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(run.code, run.stderr).toBe(1);
		expect(sandbox.asset(a)!.altText.get(site.primaryLocale)).toBe('Ein Fahrrad, rot');
		expect(sandbox.asset(b)!.altText.get(site.primaryLocale)).toBe('x =SUM(1,2)');

		// The results as LibreOffice reads them: every cell as we wrote it (a formula-looking cell stays text).
		await soffice(['--convert-to', 'csv:Text - txt - csv (StarCalc):44,34,76,1', '--outdir', join(dir, 'lo'), out], dir);
		const records = parse(await readFile(join(dir, 'lo', 'results.csv'), 'utf8'), {columns: true}) as Array<Record<string, string>>;
		expect(records.map(r => [r.row, r.assetId, r.altText, r.status, r.error_code])).toEqual([
			['2', a, 'Ein Fahrrad, rot', 'updated', ''],
			['3', b, 'x =SUM(1,2)', 'updated', ''],
			['4', objectId('xlsx-libreoffice/none'), 'Nobody', 'failed', 'not_in_site'],
		]);
		// What LibreOffice made numbers of comes back as the number's text.
		expect(records.map(r => r.count)).toEqual(['42', '100000', '7']);
	});
});

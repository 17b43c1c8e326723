import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import ExcelJS from 'exceljs';
import {describe, expect, it} from 'vitest';
import {readXlsx} from '../../src/files/xlsx.js';
import {OTHER_PROGRAMS_SKIPPED, makeSite, patchesSent, results, runCli, spawnCli, startSandbox, tempDir, until, writeCsv} from '../helpers.js';

const TOKEN = 'sandbox-token';
const ENV = {WEBFLOW_TOKEN: TOKEN};
const FAST = {count: 2000, windowMs: 1000};
const SOFFICE = ['/usr/bin/soffice', '/usr/bin/libreoffice', '/usr/local/bin/soffice'].find(path => existsSync(path));

/** A site whose assets have alt text and display names of their own (one a formula-looking name, one alt a guarded-looking one). */
function liveSite(label: string, count: number) {
	const site = makeSite({label, count});
	for (const [i, asset] of [...site.assets.values()].entries()) {
		asset.altText.set(site.primaryLocale, i === 0 ? '\'-5 degrees outside' : `Original alt ${i}`);
		asset.displayName = i === 0 ? '=HYPERLINK("http://evil")' : `original-${i}.jpg`;
	}

	return site;
}

/** A sheet's rows as text, keyed by the header (what our reader makes of it). */
async function sheetRows(path: string, sheet?: string): Promise<Array<Record<string, string>>> {
	const rows: string[][] = [];
	await readXlsx({path, sheet, onRecord({fields}) {
		rows.push(fields);
	}});
	const [header = [], ...body] = rows;
	return body.map(fields => Object.fromEntries(header.map((name, i) => [name, fields[i] ?? ''])));
}

/** A workbook's sheets, each a list of rows; `cell` may turn a text into what a spreadsheet made of it. */
async function writeWorkbook(path: string, sheets: Array<{name: string; rows: string[][]; cell?: (text: string, column: string) => ExcelJS.CellValue}>): Promise<void> {
	const workbook = new ExcelJS.Workbook();
	for (const {name, rows, cell = text => text} of sheets) {
		const sheet = workbook.addWorksheet(name);
		const [header = []] = rows;
		for (const [n, row] of rows.entries()) {
			sheet.addRow(n === 0 ? row : row.map((text, i) => cell(text, header[i] ?? '')));
		}
	}

	await workbook.xlsx.writeFile(path);
}

/** A results workbook's rows as a list of rows, the header first. */
async function workbookRows(path: string): Promise<string[][]> {
	const rows: string[][] = [];
	await readXlsx({path, sheet: undefined, onRecord({fields}) {
		rows.push(fields);
	}});
	return rows;
}

const altOf = (site: ReturnType<typeof makeSite>, id: string) => site.assets.get(id)!.altText.get(site.primaryLocale);

describe('altbatch undo <results.xlsx>', () => {
	it('undoes a run whose results are a workbook, cell for cell as text; its own results as CSV, or a workbook with --out, which undo takes back in turn', {timeout: 120_000}, async () => {
		const site = liveSite('undo-xlsx', 3);
		const [a, b, c] = [...site.assets.keys()] as [string, string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'displayName', 'altText'], [a, 'plain-name.jpg', 'Run alt 0'], [b, '', 'Run alt 1'], [c, '', '=1+1 run alt']]);
		const out = join(dir, 'results.xlsx');
		const ran = await runCli(['run', input, '--site', site.id, '--out', out, '--api-base', sandbox.url], {env: ENV});
		expect(ran.code, ran.stderr).toBe(0);
		expect((await sheetRows(out))[0]).toMatchObject({previous_display_name: '=HYPERLINK("http://evil")', previous_alt_text: '\'-5 degrees outside'});
		sandbox.editAsset({id: b, altText: 'Fixed by an editor'});

		// Without a record of the run (another ledger) the workbook alone says what to put back.
		const ledger = join(dir, 'other-ledger');
		const undone = await runCli(['undo', out, '--site', site.id, '--api-base', sandbox.url, '--json'], {env: {...ENV, ALTBATCH_LEDGER: ledger}});
		expect(undone.code, undone.stderr).toBe(1);
		expect(JSON.parse(undone.stdout).statuses).toMatchObject({updated: 2, conflict: 1});
		expect(site.assets.get(a)!.displayName).toBe('=HYPERLINK("http://evil")');
		expect([a, b, c].map(id => altOf(site, id))).toEqual(['\'-5 degrees outside', 'Fixed by an editor', 'Original alt 2']);
		// Undo's own results: CSV beside the workbook by default, as for run.
		const csv = await results(join(dir, 'results.undo.csv'));
		expect(csv.map(r => [r.row, r.status, r.previous_alt_text])).toEqual([['2', 'updated', 'Run alt 0'], ['3', 'conflict', 'Fixed by an editor'], ['4', 'updated', '\'=1+1 run alt']]);

		// The run again, then its undo into a workbook, and an undo of that workbook: the run's values come back.
		const again = join(dir, 'again.xlsx');
		expect((await runCli(['run', input, '--site', site.id, '--out', again, '--api-base', sandbox.url], {env: ENV})).code).toBe(0);
		const undoBook = join(dir, 'undo.xlsx');
		const second = await runCli(['undo', again, '--site', site.id, '--out', undoBook, '--api-base', sandbox.url], {env: ENV});
		expect(second.code, second.stderr).toBe(0);
		expect(existsSync(`${undoBook}.journal.csv`)).toBe(false);
		// The edit cells keep the jobs file's guard (a cell `''-5…` is read as `'-5…`); the server's columns are plain text.
		expect((await sheetRows(undoBook)).map(r => [r.row, r.altText, r.status, r.previous_alt_text])).toEqual([
			['2', '\'\'-5 degrees outside', 'updated', 'Run alt 0'],
			['3', 'Fixed by an editor', 'updated', 'Run alt 1'],
			['4', 'Original alt 2', 'updated', '=1+1 run alt'],
		]);
		expect([a, b, c].map(id => altOf(site, id))).toEqual(['\'-5 degrees outside', 'Fixed by an editor', 'Original alt 2']);
		const redo = await runCli(['undo', undoBook, '--site', site.id, '--api-base', sandbox.url], {env: ENV});
		expect(redo.code, redo.stderr).toBe(0);
		expect(existsSync(join(dir, 'undo.undo.csv'))).toBe(true);
		expect(site.assets.get(a)!.displayName).toBe('plain-name.jpg');
		expect([a, b, c].map(id => altOf(site, id))).toEqual(['Run alt 0', 'Run alt 1', '=1+1 run alt']);
	});

	it('reads the first sheet or --sheet; refuses a workbook that is not results, a sheet it lacks, and --sheet without a workbook (exit 2, nothing sent)', {timeout: 120_000}, async () => {
		const site = liveSite('undo-xlsx-sheet', 2);
		const [a, b] = [...site.assets.keys()] as [string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a, 'Run alt 0'], [b, 'Run alt 1']]);
		const out = join(dir, 'results.xlsx');
		expect((await runCli(['run', input, '--site', site.id, '--out', out, '--api-base', sandbox.url], {env: ENV})).code).toBe(0);
		// The results moved to a second sheet, after a sheet of notes.
		const book = join(dir, 'book.xlsx');
		await writeWorkbook(book, [{name: 'Notes', rows: [['note'], ['sent to the client on Monday']]}, {name: 'March', rows: await workbookRows(out)}]);
		const before = sandbox.requests.length;
		const refusals = [
			[['undo', book], 'input_not_results'],
			[['undo', book, '--sheet', 'April'], 'no sheet named "April" (its sheets: "Notes", "March")'],
			[['undo', input, '--sheet', 'March'], 'sheet_needs_xlsx'],
			[['undo', '--last', '--sheet', 'March'], 'sheet_needs_xlsx'],
		] as const;
		for (const [args, message] of refusals) {
			const refused = await runCli([...args, '--api-base', sandbox.url], {env: ENV});
			expect([args.join(' '), refused.code]).toEqual([args.join(' '), 2]);
			expect(refused.stderr).toContain(message);
		}

		expect(sandbox.requests.length).toBe(before);
		const undone = await runCli(['undo', book, '--sheet', 'March', '--site', site.id, '--api-base', sandbox.url], {env: ENV});
		expect(undone.code, undone.stderr).toBe(0);
		expect([a, b].map(id => altOf(site, id))).toEqual(['\'-5 degrees outside', 'Original alt 1']);
	});

	it('a row whose asset id a spreadsheet turned into a number is invalid in the undo, saying why and what takes it back; the other rows are put back', {timeout: 120_000}, async () => {
		const site = liveSite('undo-xlsx-number', 3);
		const ids = [...site.assets.keys()] as [string, string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const env = {...ENV, ALTBATCH_LEDGER: ledger};
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map((id, i) => [id, `Run alt ${i}`])]);
		const out = join(dir, 'results.xlsx');
		expect((await runCli(['run', input, '--site', site.id, '--out', out, '--api-base', sandbox.url], {env})).code).toBe(0);
		// Saved again from a spreadsheet that made numbers of the numeric columns, and of the second row's
		// id (as Excel does to a 24-digit id: 15 digits kept).
		const rows = await workbookRows(out);
		await writeWorkbook(out, [{name: 'Results', rows, cell: (text, column) => column === 'assetId' && text === ids[1] ? 6.5e23 : /^\d+$/.test(text) && column !== 'assetId' ? Number(text) : text}]);

		const undone = await runCli(['undo', out, '--site', site.id, '--api-base', sandbox.url, '--json'], {env});
		expect(undone.code, undone.stderr).toBe(1);
		expect(JSON.parse(undone.stdout)).toMatchObject({statuses: {updated: 2, invalid: 1}, errorCodes: {invalid_asset_id: 1}});
		expect(ids.map(id => altOf(site, id))).toEqual(['\'-5 degrees outside', 'Run alt 1', 'Original alt 2']);
		const invalid = (await results(join(dir, 'results.undo.csv')))[1]!;
		expect(invalid).toMatchObject({row: '3', assetId: '6.5e+23', status: 'invalid', error_code: 'invalid_asset_id'});
		expect(invalid.error_message).toContain('a spreadsheet turned it into a number');
		expect(invalid.error_message).toContain('nothing of it is put back');
		// The ledger still knows what the run wrote: the undo it names takes that asset back too.
		const id = /undo --run (\S+) /.exec(invalid.error_message ?? '')?.[1];
		expect(id).toBeDefined();
		const fromLedger = await runCli(['undo', '--run', id!, '--api-base', sandbox.url, '--out', join(dir, 'ledger-undo.csv')], {env});
		expect(fromLedger.code, fromLedger.stderr).toBe(0);
		expect(altOf(site, ids[1])).toBe('Original alt 1');
	});

	it('a run killed before it wrote its workbook: undo of the workbook reads the journal beside it and puts back every row it holds', {timeout: 180_000}, async () => {
		const site = liveSite('undo-xlsx-killed', 40);
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: {count: 10, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map((id, i) => [id, `Run alt ${i}`])]);
		const out = join(dir, 'results.xlsx');
		const {child, done} = spawnCli(['run', input, '--site', site.id, '--out', out, '--api-base', sandbox.url, '--rate', '10/s'], {env: ENV});
		await until(() => patchesSent(sandbox).length >= 6);
		child.kill('SIGKILL');
		await done;
		expect(existsSync(`${out}.journal.csv`)).toBe(true);
		expect(existsSync(out)).toBe(false);
		// The rows the journal has as updated (a write whose row the kill cut off is in no results: left alone).
		const journaled = (await results(`${out}.journal.csv`)).filter(r => r.status === 'updated').map(r => r.assetId!);
		expect(journaled.length).toBeGreaterThanOrEqual(4);

		const undone = await runCli(['undo', out, '--site', site.id, '--api-base', sandbox.url, '--json'], {env: ENV});
		expect(undone.code, undone.stderr).toBe(0);
		expect(undone.stderr).toContain('undo reads its journal');
		expect(JSON.parse(undone.stdout).statuses.updated).toBe(journaled.length);
		expect(journaled.map(id => altOf(site, id))).toEqual(journaled.map(id => id === ids[0] ? '\'-5 degrees outside' : `Original alt ${ids.indexOf(id)}`));
	});

	it.skipIf(OTHER_PROGRAMS_SKIPPED || (!SOFFICE && !process.env.CI && !process.env.ALTBATCH_CI))('undoes results LibreOffice saved as a workbook: ours re-saved, and a results CSV it made numbers of', {timeout: 600_000}, async () => {
		const site = liveSite('undo-xlsx-libreoffice', 2);
		const [a, b] = [...site.assets.keys()] as [string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const soffice = async (args: string[]) => promisify(execFile)(SOFFICE!, [`-env:UserInstallation=file://${join(dir, 'lo-profile')}`, '--headless', ...args], {timeout: 240_000});
		const env = {...ENV, ALTBATCH_LEDGER: join(dir, 'ledger')};
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a, 'Run alt 0'], [b, 'Run, alt 1']]);
		// Our workbook, opened and saved again by LibreOffice (in a folder of its own: no record of the run there).
		const out = join(dir, 'results.xlsx');
		expect((await runCli(['run', input, '--site', site.id, '--out', out, '--api-base', sandbox.url], {env})).code).toBe(0);
		await mkdir(join(dir, 'lo'));
		await soffice(['--convert-to', 'xlsx:Calc MS Excel 2007 XML', '--outdir', join(dir, 'lo'), out]);
		const resaved = await runCli(['undo', join(dir, 'lo', 'results.xlsx'), '--site', site.id, '--api-base', sandbox.url, '--json'], {env});
		expect(resaved.code, resaved.stderr).toBe(0);
		expect(JSON.parse(resaved.stdout).statuses.updated).toBe(2);
		expect([a, b].map(id => altOf(site, id))).toEqual(['\'-5 degrees outside', 'Original alt 1']);

		// A results CSV LibreOffice made a workbook of: row, http_status and attempts are numbers there.
		// (Of asset b only: a previous value the CSV guards with a `'` would keep the guard in the workbook.)
		const second = await writeCsv(join(dir, 'second.csv'), [['assetId', 'altText'], [b, 'Second, run']]);
		const csvOut = join(dir, 'csv-results.csv');
		expect((await runCli(['run', second, '--site', site.id, '--out', csvOut, '--api-base', sandbox.url], {env})).code).toBe(0);
		await soffice(['--infilter=CSV:44,34,76,1', '--convert-to', 'xlsx', '--outdir', dir, csvOut]);
		const book = new ExcelJS.Workbook();
		await book.xlsx.readFile(join(dir, 'csv-results.xlsx'));
		expect(book.worksheets[0]!.getCell('A2').type).toBe(ExcelJS.ValueType.Number);
		const converted = await runCli(['undo', join(dir, 'csv-results.xlsx'), '--site', site.id, '--api-base', sandbox.url, '--json'], {env});
		expect(converted.code, converted.stderr).toBe(0);
		expect(JSON.parse(converted.stdout).statuses.updated).toBe(1);
		expect([a, b].map(id => altOf(site, id))).toEqual(['\'-5 degrees outside', 'Original alt 1']);
	});
});

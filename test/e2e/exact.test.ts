import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../../src/cli/config.js';
import {readCsvFile} from '../../src/files/csv/input.js';
import {exportSite} from '../../src/commands/export.js';
import {silentLogger} from '../../src/logger.js';
import {newAsset, newSite, objectId} from '../../src/sandbox/state.js';
import {undo} from '../../src/commands/undo.js';
import {patchesSent, results, runConfig, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';
import {NASTY} from '../rows/nasty.js';

const FAST = {count: 5000, windowMs: 1000};

async function readSheet(path: string): Promise<string[][]> {
	const records: string[][] = [];
	await readCsvFile({path, onRecord: ({fields}) => void records.push(fields)});
	return records;
}

/** A site whose assets hold every nasty value, as alt text and as display name. */
function nastySite(label: string) {
	const site = newSite(objectId(`${label}/site`), 0);
	for (const [i, value] of NASTY.entries()) {
		const asset = newAsset({site, id: objectId(`${label}/${i}`), fileName: `file-${i}.jpg`});
		asset.altText.set(site.primaryLocale, value);
		// A display name of spaces only is not one Webflow would keep; every other value is.
		asset.displayName = value.trim() === '' ? `name ${i}` : value;
	}

	return site;
}

describe('every value comes back byte for byte (the formula guard is exactly reversible)', () => {
	it('an export run back unchanged sends no PATCH and reports every row unchanged', async () => {
		const site = nastySite('exact-export');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, out: file, apiBase: sandbox.url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		// A leading CR (or CRLF, or tab) is a formula start too: guarded like `=`.
		const [header, ...rows] = await readSheet(file);
		const cellOf = (value: string) => rows.find(r => r[0] === objectId(`exact-export/${NASTY.indexOf(value)}`))![header!.indexOf('altText')];
		expect(cellOf('\rCR first')).toBe('\'\rCR first');
		expect(cellOf('\r\nCRLF first')).toBe('\'\r\nCRLF first');
		expect(cellOf('\tTabbed')).toBe('\'\tTabbed');
		expect(cellOf('\'\rx')).toBe('\'\'\rx');
		expect(cellOf('\nLF first')).toBe('\nLF first');
		for (const extra of [{site: site.id}, {}]) {
			const summary = await runJob({input: file, apiBase: sandbox.url, ...extra});
			expect(summary.statuses).toMatchObject({unchanged: NASTY.length, skipped: 0, conflict: 0, updated: 0});
		}

		expect(patchesSent(sandbox)).toHaveLength(0);
		for (const [i, value] of NASTY.entries()) {
			expect([i, sandbox.asset(objectId(`exact-export/${i}`))!.altText.get(site.primaryLocale)]).toEqual([i, value]);
		}
	});

	it('an edit of such a row is written, not a conflict, and undo puts every value back byte for byte', async () => {
		const site = nastySite('exact-undo');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, out: file, apiBase: sandbox.url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const [header, ...rows] = await readSheet(file);
		const alt = header!.indexOf('altText');
		const name = header!.indexOf('displayName');
		for (const [i, row] of rows.entries()) {
			row[alt] = `Edited alt ${i}`;
			row[name] = `edited-${i}.jpg`;
		}

		await writeCsv(file, [header!, ...rows]);
		const ran = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(ran.statuses).toMatchObject({updated: NASTY.length, conflict: 0});
		const undone = await undo(runConfig({input: `${file}.results.csv`, out: join(dir, 'undo.csv'), apiBase: sandbox.url, site: site.id}), {logger: silentLogger()});
		expect(undone.statuses).toMatchObject({updated: NASTY.length, conflict: 0, invalid: 0});
		for (const [i, value] of NASTY.entries()) {
			const asset = sandbox.asset(objectId(`exact-undo/${i}`))!;
			expect([i, asset.altText.get(site.primaryLocale)]).toEqual([i, value]);
			expect([i, asset.displayName]).toEqual([i, value.trim() === '' ? `name ${i}` : value]);
		}

		// And the undo of the undo (a redo) writes the edits again.
		const redone = await undo(runConfig({input: join(dir, 'undo.csv'), out: join(dir, 'redo.csv'), apiBase: sandbox.url, site: site.id}), {logger: silentLogger()});
		expect(redone.statuses).toMatchObject({updated: NASTY.length, conflict: 0, invalid: 0});
		for (const i of NASTY.keys()) {
			expect([i, sandbox.asset(objectId(`exact-undo/${i}`))!.altText.get(site.primaryLocale)]).toEqual([i, `Edited alt ${i}`]);
		}

		expect((await results(join(dir, 'redo.csv'))).every(r => r.status === 'updated')).toBe(true);
	});
});

describe('line breaks inside cells: \\r\\n, \\r and \\n compare equal', () => {
	it('a sheet re-saved with CRLF sends nothing and reports no change on the site; an edit of the other field is written', async () => {
		const site = newSite(objectId('crlf/site'), 0);
		const values = ['Line one\nline two', 'One\r\nTwo', 'Old Mac\rline', 'Three\n\nlines'];
		for (const [i, value] of values.entries()) {
			const asset = newAsset({site, id: objectId(`crlf/${i}`), fileName: `file-${i}.jpg`});
			asset.altText.set(site.primaryLocale, value);
			asset.displayName = `name\n${i}`;
		}

		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, out: file, apiBase: sandbox.url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const [header, ...rows] = await readSheet(file);
		// Re-saved on Windows: every line break in every cell is CRLF (and one as a lone CR).
		const resaved = rows.map(row => row.map(cell => cell.replaceAll('\r\n', '\n').replaceAll('\r', '\n').replaceAll('\n', '\r\n')));
		resaved[0]![header!.indexOf('exportedAltText')] = resaved[0]![header!.indexOf('exportedAltText')]!.replaceAll('\r\n', '\r');
		await writeCsv(file, [header!, ...resaved], {eol: '\r\n'});
		for (const extra of [{site: site.id}, {}]) {
			const summary = await runJob({input: file, apiBase: sandbox.url, ...extra});
			expect(summary.statuses).toMatchObject({unchanged: values.length, skipped: 0, conflict: 0});
		}

		expect(patchesSent(sandbox)).toHaveLength(0);
		resaved[1]![header!.indexOf('displayName')] = 'renamed.jpg';
		await writeCsv(file, [header!, ...resaved], {eol: '\r\n'});
		const edited = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(edited.statuses).toMatchObject({updated: 1, unchanged: values.length - 1, conflict: 0, skipped: 0});
		expect(patchesSent(sandbox)).toHaveLength(1);
		expect(sandbox.asset(objectId('crlf/1'))!.displayName).toBe('renamed.jpg');
		for (const [i, value] of values.entries()) {
			expect(sandbox.asset(objectId(`crlf/${i}`))!.altText.get(site.primaryLocale)).toBe(value);
		}
	});
});

import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../../src/cli/config.js';
import {readCsvFile} from '../../src/files/csv/input.js';
import {exportSite} from '../../src/commands/export.js';
import {silentLogger} from '../../src/logger.js';
import type {SandboxSite} from '../../src/sandbox/state.js';
import {makeSite, patchesSent, results, runCli, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

const FAST = {count: 2000, windowMs: 1000};

type Sheet = {header: string[]; rows: string[][]};

async function exportTo({url, site, locales, out}: {url: string; site: string; locales: string[]; out: string}): Promise<Sheet> {
	await exportSite({...DEFAULTS, site, locales, missingOnly: false, out, apiBase: url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
	const records: string[][] = [];
	await readCsvFile({path: out, onRecord: ({fields}) => void records.push(fields)});
	return {header: records[0]!, rows: records.slice(1)};
}

/** The exported row of an asset in a locale ('' for the primary one). */
function rowOf(sheet: Sheet, assetId: string, localeId: string): string[] {
	return sheet.rows.find(r => r[0] === assetId && r[1] === localeId)!;
}

const CASES = ['untouched', 'moved on the site', 'changed in the sheet', 'changed to the same', 'changed in both'] as const;
type Case = typeof CASES[number];
const EXPECTED: Record<Case, {status: string; code: string}> = {
	untouched: {status: 'unchanged', code: ''},
	'moved on the site': {status: 'skipped', code: 'changed_on_site'},
	'changed in the sheet': {status: 'updated', code: ''},
	'changed to the same': {status: 'unchanged', code: ''},
	'changed in both': {status: 'conflict', code: 'conflict'},
};

type Field = 'displayName' | 'altText';
type Scenario = {field: Field; secondary: boolean};
const SCENARIOS: Scenario[] = [{field: 'altText', secondary: false}, {field: 'altText', secondary: true}, {field: 'displayName', secondary: false}];

/**
 * A site with one asset per scenario and case, exported in both locales, then edited: the sheet
 * (in memory) and the site (an editor, straight in the sandbox) as each case says.
 */
async function roundTrip() {
	const site = makeSite({label: 'three-way', count: SCENARIOS.length * CASES.length, locales: 1});
	const secondary = site.secondaryLocales[0]!;
	const assets = [...site.assets.values()];
	for (const [i, asset] of assets.entries()) {
		asset.altText.set(site.primaryLocale, `Exported alt ${i}`);
		asset.altText.set(secondary, `Alt exporté ${i}`);
	}

	const sandbox = await startSandbox({sites: [site], rate: FAST});
	const dir = await tempDir();
	const file = join(dir, 'assets.csv');
	const sheet = await exportTo({url: sandbox.url, site: site.id, locales: [site.primaryLocale, secondary], out: file});
	const column = (field: Field) => sheet.header.indexOf(field);
	const plan: Array<{scenario: Scenario; kase: Case; assetId: string; locale: string; sheetValue: string; siteValue: string}> = [];
	for (const [s, scenario] of SCENARIOS.entries()) {
		for (const [c, kase] of CASES.entries()) {
			const asset = assets[s * CASES.length + c]!;
			const locale = scenario.secondary ? secondary : site.primaryLocale;
			const row = rowOf(sheet, asset.id, scenario.secondary ? secondary : site.primaryLocale);
			const exported = row[column(scenario.field)]!;
			const sheetValue = kase === 'untouched' || kase === 'moved on the site' ? exported : `Sheet ${scenario.field} ${s}/${c}`;
			const siteValue = kase === 'moved on the site' || kase === 'changed in both' ? `Editor ${scenario.field} ${s}/${c}` : kase === 'changed to the same' ? sheetValue : exported;
			row[column(scenario.field)] = sheetValue;
			editSite(site, asset.id, scenario.field, locale, siteValue);
			plan.push({scenario, kase, assetId: asset.id, locale, sheetValue, siteValue});
		}
	}

	await writeCsv(file, [sheet.header, ...sheet.rows]);
	return {site, sandbox, file, plan};
}

function editSite(site: SandboxSite, assetId: string, field: Field, locale: string, value: string): void {
	const asset = site.assets.get(assetId)!;
	if (field === 'displayName') {
		asset.displayName = value;
	} else {
		asset.altText.set(locale, value);
	}
}

function siteHolds(site: SandboxSite, assetId: string, field: Field, locale: string): string {
	const asset = site.assets.get(assetId)!;
	return field === 'displayName' ? asset.displayName : asset.altText.get(locale === '' ? site.primaryLocale : locale) ?? '';
}

describe('the three-way round trip (export, edit, run --site)', () => {
	it('decides each field on its own — display name and alt text, per locale — from base, sheet and site', async () => {
		const {site, sandbox, file, plan} = await roundTrip();
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		const rows = await results(`${file}.results.csv`);
		for (const {scenario, kase, assetId, locale, sheetValue, siteValue} of plan) {
			const label = `${scenario.field}${scenario.secondary ? ' (secondary locale)' : ''}: ${kase}`;
			const row = rows.find(r => r.assetId === assetId && r.localeId === locale)!;
			expect([label, row.status, row.error_code]).toEqual([label, EXPECTED[kase].status, EXPECTED[kase].code]);
			const wanted = kase === 'changed in the sheet' ? sheetValue : siteValue;
			expect([label, siteHolds(site, assetId, scenario.field, locale)]).toEqual([label, wanted]);
			// What the site held before the row, from the prefetch.
			const previous = scenario.field === 'displayName' ? row.previous_display_name : row.previous_alt_text;
			expect([label, previous]).toEqual([label, siteValue]);
			if (kase === 'changed in both') {
				// Both values are in the results: the sheet's in its column, the site's in previous_*.
				expect(row[scenario.field]).toBe(sheetValue);
				expect(row.error_message).toContain(JSON.stringify(siteValue));
			}
		}

		const patched = patchesSent(sandbox).map(r => r.path.split('/').at(-1));
		expect(patched.sort()).toEqual(plan.filter(p => p.kase === 'changed in the sheet').map(p => p.assetId).sort());
		expect(summary.statuses).toMatchObject({updated: 3, conflict: 3});
	});

	it('never writes a field the sheet left as exported, even when the same row changes the other field', async () => {
		const site = makeSite({label: 'three-way-mixed', count: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		const sheet = await exportTo({url: sandbox.url, site: site.id, locales: [], out: file});
		const [assetId] = [...site.assets.keys()];
		sheet.rows[0]![sheet.header.indexOf('altText')] = 'A sheet alt text';
		await writeCsv(file, [sheet.header, ...sheet.rows]);
		site.assets.get(assetId!)!.displayName = 'Renamed by an editor';
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses.updated).toBe(1);
		expect(site.assets.get(assetId!)!.displayName).toBe('Renamed by an editor');
		expect(site.assets.get(assetId!)!.altText.get(site.primaryLocale)).toBe('A sheet alt text');
	});

	it('an export run back unchanged after an editor\'s fix leaves the fix alone (skipped, changed_on_site)', async () => {
		const site = makeSite({label: 'three-way-revert', count: 5});
		for (const asset of site.assets.values()) {
			asset.altText.set(site.primaryLocale, 'Old text');
		}

		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportTo({url: sandbox.url, site: site.id, locales: [], out: file});
		const [fixed] = [...site.assets.values()];
		fixed!.altText.set(site.primaryLocale, 'Fixed in the Designer');
		for (const extra of [[], ['--site', site.id]]) {
			const result = await runCli(['run', file, '--api-base', sandbox.url, ...extra], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
			expect(result.code).toBe(0);
			expect(fixed!.altText.get(site.primaryLocale)).toBe('Fixed in the Designer');
		}

		expect(patchesSent(sandbox)).toHaveLength(0);
		const rows = await results(`${file.replace(/\.csv$/, '')}.results.csv`);
		expect(rows.map(r => r.status)).toEqual(['skipped', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
	});

	it('a dry run with --site reports the exact outcome, conflict included, and writes nothing', async () => {
		const {site, sandbox, file, plan} = await roundTrip();
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id, dryRun: true});
		expect(summary.statuses).toMatchObject({would_update: 3, conflict: 3});
		const rows = await results(`${file}.results.csv`);
		for (const p of plan.filter(p => p.kase === 'changed in both')) {
			expect(rows.find(r => r.assetId === p.assetId && r.localeId === p.locale)!.status).toBe('conflict');
		}

		expect(patchesSent(sandbox)).toHaveLength(0);
		expect(summary.estimatedRequests).toBe(1 + summary.listRequests + 3);
	});

	it('a conflict exits 1 and --force writes the sheet\'s value', async () => {
		const site = makeSite({label: 'three-way-force', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		const sheet = await exportTo({url: sandbox.url, site: site.id, locales: [], out: file});
		const assetId = sheet.rows[0]![0]!;
		sheet.rows[0]![sheet.header.indexOf('altText')] = 'The agency\'s text';
		await writeCsv(file, [sheet.header, ...sheet.rows]);
		site.assets.get(assetId)!.altText.set(site.primaryLocale, 'The editor\'s text');
		const env = {WEBFLOW_TOKEN: 'sandbox-token'};
		const refused = await runCli(['run', file, '--api-base', sandbox.url, '--site', site.id, '--json'], {env});
		expect(refused.code).toBe(1);
		expect(JSON.parse(refused.stdout).statuses.conflict).toBe(1);
		expect(site.assets.get(assetId)!.altText.get(site.primaryLocale)).toBe('The editor\'s text');
		const forced = await runCli(['run', file, '--api-base', sandbox.url, '--site', site.id, '--force'], {env});
		expect(forced.code).toBe(0);
		expect(site.assets.get(assetId)!.altText.get(site.primaryLocale)).toBe('The agency\'s text');
	});

	it('without --site, an exported file reads each changed asset before writing it and still finds the conflict', async () => {
		const {site, sandbox, file, plan} = await roundTrip();
		const summary = await runJob({input: file, apiBase: sandbox.url});
		expect(summary.statuses).toMatchObject({updated: 3, conflict: 3});
		for (const p of plan.filter(p => p.kase === 'moved on the site')) {
			expect(siteHolds(site, p.assetId, p.scenario.field, p.locale)).toBe(p.siteValue);
		}

		// Untouched rows cost nothing; each changed row one GET, and one PATCH where it is written.
		const changed = plan.filter(p => p.kase === 'changed in the sheet' || p.kase === 'changed to the same' || p.kase === 'changed in both').length;
		expect(sandbox.requests.filter(r => r.method === 'GET' && /\/v2\/assets\//.test(r.path))).toHaveLength(changed);
		expect(patchesSent(sandbox)).toHaveLength(3);
	});

	it('a hand-written file without base columns stays two-way', async () => {
		const site = makeSite({label: 'two-way', count: 1});
		const [asset] = [...site.assets.values()];
		asset!.altText.set(site.primaryLocale, 'The editor\'s text');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [asset!.id, 'Mine']]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses.updated).toBe(1);
		expect(asset!.altText.get(site.primaryLocale)).toBe('Mine');
		expect((await results(`${input}.results.csv`))[0]).toMatchObject({previous_alt_text: 'The editor\'s text', previous_display_name: 'image-0.jpg'});
	});

	it('--only-missing on an exported file leaves alt text that is there, and fills what is missing', async () => {
		const site = makeSite({label: 'three-way-missing', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		const sheet = await exportTo({url: sandbox.url, site: site.id, locales: [], out: file});
		for (const row of sheet.rows) {
			row[sheet.header.indexOf('altText')] = 'Filled from the sheet';
		}

		await writeCsv(file, [sheet.header, ...sheet.rows]);
		const [first, second] = [...site.assets.values()];
		first!.altText.set(site.primaryLocale, 'An editor got here first');
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id, onlyMissing: true});
		expect(summary.statuses).toMatchObject({skipped: 1, updated: 1});
		expect(first!.altText.get(site.primaryLocale)).toBe('An editor got here first');
		expect(second!.altText.get(site.primaryLocale)).toBe('Filled from the sheet');
	});

	it('cells the export guarded against formulas read back as the value, so nothing is sent', async () => {
		const site = makeSite({label: 'three-way-formula', count: 1});
		const [asset] = [...site.assets.values()];
		asset!.altText.set(site.primaryLocale, '=HYPERLINK("x")');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = await writeCsv(join(dir, 'assets.csv'), [
			['assetId', 'localeId', 'displayName', 'altText', 'exportedDisplayName', 'exportedAltText'],
			[asset!.id, '', 'image-0.jpg', '\'=HYPERLINK("x")', 'image-0.jpg', '\'=HYPERLINK("x")'],
		]);
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses.unchanged).toBe(1);
		expect(patchesSent(sandbox)).toHaveLength(0);
	});
});

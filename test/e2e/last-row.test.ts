import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../../src/cli/config.js';
import {readCsvFile} from '../../src/files/csv/input.js';
import {exportSite} from '../../src/commands/export.js';
import {silentLogger} from '../../src/logger.js';
import {undo} from '../../src/commands/undo.js';
import {makeSite, patchesSent, results, runConfig, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

const FAST = {count: 5000, windowMs: 1000};

async function exported({url, site, locales, out}: {url: string; site: string; locales: string[]; out: string}): Promise<{header: string[]; rows: string[][]}> {
	await exportSite({...DEFAULTS, site, locales, missingOnly: false, out, apiBase: url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
	const records: string[][] = [];
	await readCsvFile({path: out, onRecord: ({fields}) => void records.push(fields)});
	return {header: records[0]!, rows: records.slice(1)};
}

/** A dry run's statuses as the real run's would read. */
const predicted = (status: string) => status === 'would_update' ? 'updated' : status;

describe('the last row wins, per field and what it belongs to', () => {
	it('a display name set in two locales: the later row wins, even when the earlier one\'s PATCH is answered 500 and retried', async () => {
		const site = makeSite({label: 'name-two-locales', count: 1, locales: 1});
		const [id] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'localeId', 'displayName', 'altText'],
			[id!, '', 'first-name.jpg', 'Primary alt'],
			[id!, site.secondaryLocales[0]!, 'second-name.jpg', 'Alt secondaire'],
		]);
		sandbox.failNextFor(id!, 'error500');
		const summary = await runJob({input, apiBase: sandbox.url, concurrency: 4});
		expect(summary.statuses.updated).toBe(2);
		expect(sandbox.asset(id!)!.displayName).toBe('second-name.jpg');
	});

	it('a blank localeId and the primary locale typed out are one locale: the later row wins', async () => {
		const site = makeSite({label: 'blank-and-primary', count: 1, locales: 1});
		const [id] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'localeId', 'displayName', 'altText'],
			[id!, '', 'blank-locale.jpg', 'Blank locale alt'],
			[id!, site.primaryLocale, 'typed-out.jpg', 'Typed-out locale alt'],
		]);
		sandbox.failNextFor(id!, 'error500');
		await runJob({input, apiBase: sandbox.url, concurrency: 4});
		expect(sandbox.asset(id!)!.displayName).toBe('typed-out.jpg');
		expect(sandbox.asset(id!)!.altText.get(site.primaryLocale)).toBe('Typed-out locale alt');
	});

	it('an exported sheet renaming one asset in two locales: the dry run predicts the real run row by row, the later name wins, and undo puts the name back', async () => {
		const site = makeSite({label: 'name-exported', count: 3, locales: 1});
		for (const asset of site.assets.values()) {
			asset.altText.set(site.primaryLocale, 'Alt before');
		}

		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		const secondary = site.secondaryLocales[0]!;
		const sheet = await exported({url: sandbox.url, site: site.id, locales: [site.primaryLocale, secondary], out: file});
		const [a, b] = [...site.assets.keys()];
		const col = (name: string) => sheet.header.indexOf(name);
		const row = (id: string, locale: string) => sheet.rows.find(r => r[0] === id && r[1] === locale)!;
		row(a!, site.primaryLocale)[col('displayName')] = 'a-primary.jpg';
		row(a!, secondary)[col('displayName')] = 'a-secondary.jpg';
		row(b!, site.primaryLocale)[col('displayName')] = 'b-primary.jpg';
		row(b!, site.primaryLocale)[col('altText')] = 'B in the primary locale';
		row(b!, secondary)[col('displayName')] = 'b-secondary.jpg';
		await writeCsv(file, [sheet.header, ...sheet.rows]);
		sandbox.failNextFor(a!, 'error500');
		const dry = await runJob({input: file, out: join(dir, 'dry.csv'), apiBase: sandbox.url, site: site.id, dryRun: true});
		expect(dry.statuses.conflict).toBe(0);
		const real = await runJob({input: file, apiBase: sandbox.url, site: site.id, concurrency: 4});
		expect(real.statuses.conflict).toBe(0);
		const dryRows = await results(join(dir, 'dry.csv'));
		const realRows = await results(`${file}.results.csv`);
		expect(dryRows.map(r => [r.row, predicted(r.status!), r.error_code])).toEqual(realRows.map(r => [r.row, r.status, r.error_code]));
		expect(sandbox.asset(a!)!.displayName).toBe('a-secondary.jpg');
		expect(sandbox.asset(b!)!.displayName).toBe('b-secondary.jpg');
		expect(sandbox.asset(b!)!.altText.get(site.primaryLocale)).toBe('B in the primary locale');
		// The earlier rename is superseded: only the alt text of b's first row is sent with it.
		const firstOfA = realRows.find(r => r.assetId === a && r.localeId === site.primaryLocale)!;
		expect([firstOfA.status, firstOfA.error_code]).toEqual(['skipped', 'superseded']);
		const undone = await undo(runConfig({input: `${file}.results.csv`, out: join(dir, 'undo.csv'), apiBase: sandbox.url, site: site.id}), {logger: silentLogger()});
		expect(undone.statuses).toMatchObject({conflict: 0, invalid: 0});
		expect(sandbox.asset(a!)!.displayName).toBe('image-0.jpg');
		expect(sandbox.asset(b!)!.displayName).toBe('image-1.jpg');
		expect(sandbox.asset(b!)!.altText.get(site.primaryLocale)).toBe('Alt before');
	});

	it('duplicate rows of one asset and locale in an exported sheet: the last row wins, the earlier is superseded', async () => {
		const site = makeSite({label: 'duplicate-rows', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		const sheet = await exported({url: sandbox.url, site: site.id, locales: [], out: file});
		const alt = sheet.header.indexOf('altText');
		const [first] = sheet.rows;
		const copy = [...first!];
		first![alt] = 'The first try';
		copy[alt] = 'The second try';
		await writeCsv(file, [sheet.header, ...sheet.rows, copy]);
		for (const extra of [{}, {site: site.id}]) {
			const dry = await runJob({input: file, out: join(dir, 'dry.csv'), apiBase: sandbox.url, dryRun: true, ...extra});
			expect(dry.statuses).toMatchObject({conflict: 0});
		}

		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses).toMatchObject({conflict: 0, updated: 1});
		const rows = await results(`${file}.results.csv`);
		expect(rows.map(r => [r.status, r.error_code])).toEqual([['skipped', 'superseded'], ['unchanged', ''], ['updated', '']]);
		expect(rows[0]!.error_message).toContain('row 4');
		expect(sandbox.asset(first![0]!)!.altText.get(site.primaryLocale)).toBe('The second try');
		expect(patchesSent(sandbox)).toHaveLength(1);
	});
});

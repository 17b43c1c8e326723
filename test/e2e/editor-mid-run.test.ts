import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../../src/cli/config.js';
import {exportSite} from '../../src/commands/export.js';
import {readCsvFile} from '../../src/files/csv/input.js';
import {silentLogger} from '../../src/logger.js';
import {makeSite, patchesSent, results, runJob, startSandbox, tempDir, until, writeCsv} from '../helpers.js';

describe('an editor who writes to the site while a long run goes on', () => {
	it('keeps the editor\'s change: a three-way row written long after the prefetch reads its asset again (conflict, not reverted)', async () => {
		const site = makeSite({label: 'editor-mid-run', count: 12});
		const assets = [...site.assets.values()];
		for (const [i, asset] of assets.entries()) {
			asset.altText.set(site.primaryLocale, `Exported alt ${i}`);
		}

		// 3 requests a second: the run's twelve writes take about four seconds.
		const sandbox = await startSandbox({sites: [site], rate: {count: 3, windowMs: 1000}});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [site.primaryLocale], missingOnly: false, out: file, apiBase: sandbox.url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const records: string[][] = [];
		await readCsvFile({path: file, onRecord: ({fields}) => void records.push(fields)});
		const [header, ...rows] = records as [string[], ...string[][]];
		const alt = header.indexOf('altText');
		const edited = rows.map(row => row.map((cell, i) => i === alt ? cell.replace('Exported alt', 'Better alt') : cell));
		const input = join(dir, 'edited.csv');
		await writeCsv(input, [header, ...edited]);

		const last = assets.at(-1)!;
		const lastRow = edited.findIndex(row => row[0] === last.id) + 2;
		const running = runJob({input, site: site.id, apiBase: sandbox.url, snapshotFreshMs: 500});
		// The run is writing: an editor fixes the last asset in the Designer before the run gets to it.
		await until(() => patchesSent(sandbox).length >= 3);
		last.altText.set(site.primaryLocale, 'The editor\'s own text');
		const summary = await running;

		expect(last.altText.get(site.primaryLocale)).toBe('The editor\'s own text');
		const byRow = new Map((await results(`${input}.results.csv`)).map(row => [Number(row.row), row]));
		expect(byRow.get(lastRow)).toMatchObject({status: 'conflict'});
		expect(summary.statuses).toMatchObject({updated: 11, conflict: 1});
	});
});

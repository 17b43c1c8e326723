import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../../src/cli/config.js';
import {readCsvFile} from '../../src/files/csv/input.js';
import {exportSite} from '../../src/commands/export.js';
import {silentLogger} from '../../src/logger.js';
import {WARNING_CODES} from '../../src/rows/warnings.js';
import {makeSite, patchesSent, results, runCli, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

describe('--refuse-warnings, the quality gate', () => {
	it('makes rows with a warning invalid with the warning as code, before any request, and the dry run shows it', async () => {
		const site = makeSite({label: 'gate', count: 4});
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: {count: 2000, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'altText'],
			[ids[0]!, 'IMG_1234.jpg'],
			[ids[1]!, 'Image of a red bicycle'],
			[ids[2]!, 'image'],
			[ids[3]!, 'A red bicycle leaning on a brick wall'],
		]);
		const all = new Set<string>(WARNING_CODES);
		const dry = await runJob({input, token: undefined, dryRun: true, refuseWarnings: all});
		expect(dry.statuses).toMatchObject({invalid: 3, would_update: 1});
		const real = await runJob({input, apiBase: sandbox.url, refuseWarnings: all});
		expect(real.statuses).toMatchObject({invalid: 3, updated: 1});
		expect((await results(`${input}.results.csv`)).map(r => [r.status, r.error_code])).toEqual([
			['invalid', 'alt_is_file_name'], ['invalid', 'alt_redundant_prefix'], ['invalid', 'alt_placeholder'], ['updated', ''],
		]);
		// The tool's own message as it is: the formula guard is for text from the server.
		expect((await results(`${input}.results.csv`))[0]!.error_message).toMatch(/^--refuse-warnings: the alt text /);
		expect(patchesSent(sandbox).map(r => r.path.split('/').at(-1))).toEqual([ids[3]]);
	});

	it('takes the codes to refuse, or every code when given alone', async () => {
		const dir = await tempDir();
		const id = (i: number) => i.toString(16).padStart(24, '0');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [id(1), 'photo.png'], [id(2), 'picture of a dog'], [id(3), 'A dog']]);
		const some = await runCli(['run', input, '--dry-run', '--refuse-warnings', 'alt_is_file_name', '--json']);
		expect(some.code).toBe(1);
		expect(JSON.parse(some.stdout).statuses).toMatchObject({invalid: 1, would_update: 2});
		const every = await runCli(['run', '--refuse-warnings', input, '--dry-run', '--json']);
		expect(JSON.parse(every.stdout).statuses).toMatchObject({invalid: 2, would_update: 1});
		const wrong = await runCli(['run', input, '--dry-run', '--refuse-warnings=alt_nonsense']);
		expect(wrong.code).toBe(2);
		expect(wrong.stderr).toMatch(/--refuse-warnings/);
	});

	it('judges only alt text the row would write: a rename is never refused for the alt text already there', async () => {
		const site = makeSite({label: 'gate-rename', count: 3});
		const [a, b, c] = [...site.assets.values()];
		for (const asset of [a!, b!, c!]) {
			asset.altText.set(site.primaryLocale, 'image');
		}

		const sandbox = await startSandbox({sites: [site], rate: {count: 2000, windowMs: 1000}});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, out: file, apiBase: sandbox.url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const records: string[][] = [];
		await readCsvFile({path: file, onRecord: ({fields}) => void records.push(fields)});
		const [header, ...rows] = records;
		const row = (id: string) => rows.find(r => r[0] === id)!;
		row(a!.id)[header!.indexOf('displayName')] = 'renamed-a.jpg'; // a rename; the alt text stays as exported
		row(b!.id)[header!.indexOf('altText')] = 'photo'; // a placeholder written: refused
		await writeCsv(file, [header!, ...rows]);
		// And a hand-written row that renames c, its alt text typed as the site has it.
		const hand = await writeCsv(join(dir, 'hand.csv'), [['assetId', 'displayName', 'altText'], [c!.id, 'renamed-c.jpg', 'image']]);
		const all = new Set<string>(WARNING_CODES);
		for (const dryRun of [true, false]) {
			const summary = await runJob({input: file, out: join(dir, `out-${dryRun}.csv`), apiBase: sandbox.url, site: site.id, refuseWarnings: all, dryRun});
			expect(summary.statuses).toMatchObject({invalid: 1, [dryRun ? 'would_update' : 'updated']: 1, unchanged: 1});
			const out = await results(join(dir, `out-${dryRun}.csv`));
			expect(out.map(r => [r.assetId, r.status, r.error_code, r.warnings])).toEqual([
				[a!.id, dryRun ? 'would_update' : 'updated', '', ''],
				[b!.id, 'invalid', 'alt_placeholder', 'alt_placeholder'],
				[c!.id, 'unchanged', '', ''],
			]);
		}

		const renamed = await runJob({input: hand, apiBase: sandbox.url, site: site.id, refuseWarnings: all});
		expect(renamed.statuses).toMatchObject({updated: 1, invalid: 0});
		expect(sandbox.asset(a!.id)!.displayName).toBe('renamed-a.jpg');
		expect(sandbox.asset(c!.id)!.displayName).toBe('renamed-c.jpg');
	});
});

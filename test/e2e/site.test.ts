import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {exportSite} from '../../src/commands/export.js';
import {silentLogger} from '../../src/logger.js';
import {DEFAULTS} from '../../src/cli/config.js';
import {assetIds, makeSite, patchesSent, results, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

const FAST = {count: 2000, windowMs: 1000};

async function exportTo({url, site, locales, out, missingOnly = false}: {url: string; site: string; locales: string[]; out: string; missingOnly?: boolean}) {
	return exportSite({...DEFAULTS, site, locales, missingOnly, out, apiBase: url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
}

describe('nightly remediation with --site', () => {
	it('round trip: export 1,000 assets in two locales, edit 50 rows, and only those 50 are sent', async () => {
		const site = makeSite({label: 'round-trip', count: 1000, locales: 1});
		const secondary = site.secondaryLocales[0]!;
		for (const [i, asset] of [...site.assets.values()].entries()) {
			asset.altText.set(site.primaryLocale, i % 3 === 0 ? null : `Picture number ${i}`);
			asset.altText.set(secondary, i % 4 === 0 ? null : `Image numéro ${i}`);
		}

		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		const exported = await exportTo({url: sandbox.url, site: site.id, locales: [site.primaryLocale, secondary], out: file});
		expect(exported).toMatchObject({assets: 1000, rows: 2000, stopped: undefined});

		const raw = await readFile(file, 'utf8');
		expect(raw.startsWith('\uFEFF')).toBe(true);
		// The generated names and URLs hold no commas or quotes, so splitting lines is exact here.
		const lines = raw.slice(1).split('\r\n').filter(Boolean);
		expect(lines[0]).toBe('assetId,localeId,displayName,altText,hostedUrl,originalFileName,contentType,lastUpdated,folderId,exportedDisplayName,exportedAltText');
		const edited = new Map<string, string>();
		const table = lines.map(line => line.split(','));
		for (let i = 1; i <= 50; i++) {
			const row = table[i * 37]!;
			row[3] = `Edited alt ${i}`;
			edited.set(`${row[0]}/${row[1]}`, row[3]);
		}

		await writeFile(file, `\uFEFF${table.map(r => r.join(',')).join('\r\n')}\r\n`);
		const before = sandbox.requests.length;
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		const sent = sandbox.requests.slice(before);
		expect(sent.filter(r => r.method === 'PATCH')).toHaveLength(50);
		expect(sent.filter(r => r.path.endsWith('/assets') && r.method === 'GET')).toHaveLength(20);
		expect(summary.statuses).toMatchObject({updated: 50, unchanged: 1950});
		expect(summary.listRequests).toBe(20);
		for (const [key, alt] of edited) {
			const [id, locale] = key.split('/');
			expect(sandbox.asset(id!)!.altText.get(locale === '' ? site.primaryLocale : locale!)).toBe(alt);
		}
	});

	it('running an export back unchanged sends no PATCH at all', async () => {
		const site = makeSite({label: 'export-back', count: 120});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportTo({url: sandbox.url, site: site.id, locales: [], out: file});
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses.unchanged).toBe(120);
		expect(patchesSent(sandbox)).toHaveLength(0);
	});

	it('--missing-only exports only assets without alt text', async () => {
		const site = makeSite({label: 'missing-export', count: 10});
		[...site.assets.values()].slice(0, 4).forEach((a, i) => a.altText.set(site.primaryLocale, `alt ${i}`));
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const summary = await exportTo({url: sandbox.url, site: site.id, locales: [], out: join(dir, 'missing.csv'), missingOnly: true});
		expect(summary.rows).toBe(6);
	});

	it('an export of a site its token cannot list stops as refused, as a run does', async () => {
		const site = makeSite({label: 'unlisted', count: 3});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'sandbox-token', introspect: false, siteIds: ['ffffffffffffffffffffffff']}]});
		const out = join(await tempDir(), 'assets.csv');
		const exported = await exportTo({url: sandbox.url, site: site.id, locales: [], out});
		expect(exported.written).toBe(false);
		expect(exported.stopped?.reason).toBe('auth');
		expect(exported.stopped?.message).toContain(`site ${site.id} cannot be listed with this token (404`);
	});

	it('fails ids the site does not have without a request', async () => {
		const site = makeSite({label: 'not-in-site', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [assetIds(site)[0]!, 'new'], ['e'.repeat(24), 'stranger']]);
		await runJob({input, apiBase: sandbox.url, site: site.id});
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => [r.status, r.error_code])).toEqual([['updated', ''], ['failed', 'not_in_site']]);
		expect(patchesSent(sandbox)).toHaveLength(1);
	});

	it('--only-missing never overwrites alt text, even text an editor wrote after the prefetch', async () => {
		const site = makeSite({label: 'only-missing', count: 30});
		const ids = assetIds(site);
		ids.slice(0, 10).forEach(id => site.assets.get(id)!.altText.set(site.primaryLocale, 'Written by an editor'));
		const sandbox = await startSandbox({sites: [site], rate: {count: 20, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map(id => [id, 'Machine alt text'])]);
		const running = runJob({input, apiBase: sandbox.url, site: site.id, onlyMissing: true}, {
			onProgress(progress) {
				if (progress.done === 12) {
					// An editor writes alt text for the last asset while the run is going.
					site.assets.get(ids[29]!)!.altText.set(site.primaryLocale, 'Editor, mid-run');
				}
			},
		});
		const summary = await running;
		expect(summary.statuses).toMatchObject({skipped: 11, updated: 19});
		for (const id of ids.slice(0, 10)) {
			expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toBe('Written by an editor');
		}

		expect(sandbox.asset(ids[29]!)!.altText.get(site.primaryLocale)).toBe('Editor, mid-run');
		const patched = new Set(patchesSent(sandbox).map(r => r.path.split('/').at(-1)));
		expect(ids.slice(0, 10).some(id => patched.has(id))).toBe(false);
		expect(patched.has(ids[29]!)).toBe(false);
		const rows = await results(`${input}.results.csv`);
		expect(rows.filter(r => r.status === 'skipped').every(r => r.error_code === 'has_alt_text')).toBe(true);
	});

	it('a dry run with --site tells each row\'s outcome and the requests a real run would cost, writing nothing', async () => {
		const site = makeSite({label: 'dry-site', count: 250});
		const ids = assetIds(site);
		site.assets.get(ids[0]!)!.altText.set(site.primaryLocale, 'same');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [ids[0]!, 'same'], [ids[1]!, 'new'], [ids[2]!, 'new'], ['e'.repeat(24), 'x'], ['bad', 'y']]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, dryRun: true});
		expect(summary.statuses).toMatchObject({unchanged: 1, would_update: 2, failed: 1, invalid: 1});
		// The introspect, 3 list pages, 2 PATCHes.
		expect(summary.estimatedRequests).toBe(1 + 3 + 2);
		expect(patchesSent(sandbox)).toHaveLength(0);
	});
});

describe('alt-text quality warnings', () => {
	it('flags file names, placeholders, redundant prefixes, length, display-name copies and duplicates', async () => {
		const dir = await tempDir();
		const id = (i: number) => i.toString(16).padStart(24, '0');
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'displayName', 'altText'],
			[id(1), '', 'IMG_1234.JPG'],
			[id(2), '', 'image'],
			[id(3), '', 'Image of a dog on a beach'],
			[id(4), '', 'x'.repeat(251)],
			[id(5), 'Sunset', 'sunset'],
			[id(6), '', 'A red bicycle'],
			[id(7), '', 'A red bicycle'],
			[id(8), '', 'A golden retriever catching a frisbee'],
		]);
		const summary = await runJob({input, dryRun: true, token: undefined});
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => r.warnings)).toEqual(['alt_is_file_name', 'alt_placeholder', 'alt_redundant_prefix', 'alt_too_long', 'alt_same_as_display_name', '', 'alt_duplicate', '']);
		expect(summary.warnings).toMatchObject({alt_is_file_name: 1, alt_duplicate: 1});
		expect(summary.statuses.would_update).toBe(8);
	});
});

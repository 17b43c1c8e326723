import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {demo, type DemoStep} from '../../src/commands/demo.js';
import {silentLogger} from '../../src/logger.js';
import {siteTokens} from '../../src/sandbox/server.js';
import {undo} from '../../src/commands/undo.js';
import type {RunConfig} from '../../src/cli/config.js';
import {parseStrict} from '../files/csv/rfc4180.js';
import {makeSite, patchesSent, results, runCli, runConfig, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

const FAST = {count: 2000, windowMs: 1000};

async function undoRun(overrides: Partial<RunConfig> & {input: string}) {
	return undo(runConfig({out: overrides.input.replace(/\.csv$/, '.undo.csv'), ...overrides}), {logger: silentLogger()});
}

/** A site whose assets have alt text and display names of their own, as a live site would. */
function liveSite(label: string, count: number, locales = 0) {
	const site = makeSite({label, count, locales});
	for (const [i, asset] of [...site.assets.values()].entries()) {
		asset.altText.set(site.primaryLocale, `Original alt ${i}`);
		asset.displayName = `original-${i}.jpg`;
		for (const locale of site.secondaryLocales) {
			asset.altText.set(locale, `Alt d'origine ${i}`);
		}
	}

	return site;
}

const patches = (sandbox: {requests: ReadonlyArray<{method: string}>}) => patchesSent(sandbox).length;

describe('altbatch undo', () => {
	it('puts back the value from before the first row of an asset: one write per asset, the older value', async () => {
		const site = liveSite('undo-two-rows', 3);
		const [a, b, c] = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'displayName', 'altText'],
			[a!, '', 'First try'],
			[b!, 'renamed-b.jpg', 'B, new'],
			[a!, 'renamed-a.jpg', 'Second try'],
			[c!, '', 'Original alt 2'],
		]);
		const ran = await runJob({input, apiBase: sandbox.url, site: site.id});
		expect(ran.statuses).toMatchObject({updated: 3, unchanged: 1});
		const runResults = await results(`${input}.results.csv`);
		expect(runResults.map(r => r.previous_alt_text)).toEqual(['Original alt 0', 'Original alt 1', 'First try', 'Original alt 2']);

		const before = patches(sandbox);
		const summary = await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses).toMatchObject({updated: 2});
		expect(patches(sandbox) - before).toBe(2);
		expect(sandbox.asset(a!)).toMatchObject({displayName: 'original-0.jpg'});
		expect(sandbox.asset(a!)!.altText.get(site.primaryLocale)).toBe('Original alt 0');
		expect(sandbox.asset(b!)).toMatchObject({displayName: 'original-1.jpg'});
		expect(sandbox.asset(b!)!.altText.get(site.primaryLocale)).toBe('Original alt 1');

		// Its results: one row per asset and locale, the values put back, and what the run had left.
		const undone = await results(`${input}.results.undo.csv`);
		expect(undone.map(r => [r.row, r.assetId, r.displayName, r.altText, r.status, r.previous_display_name, r.previous_alt_text])).toEqual([
			['2', a, 'original-0.jpg', 'Original alt 0', 'updated', 'renamed-a.jpg', 'Second try'],
			['3', b, 'original-1.jpg', 'Original alt 1', 'updated', 'renamed-b.jpg', 'B, new'],
		]);
	});

	it('leaves alone an asset an editor changed since the run (conflict, exit 1), and puts back the rest', async () => {
		const site = liveSite('undo-editor', 3);
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'sandbox-token'}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map((id, i) => [id, `Run alt ${i}`])]);
		await runJob({input, apiBase: sandbox.url, site: site.id});
		sandbox.editAsset({id: ids[1]!, altText: 'Fixed by an editor'});
		const env = {WEBFLOW_TOKEN: 'sandbox-token'};
		const before = patches(sandbox);
		const result = await runCli(['undo', `${input}.results.csv`, '--api-base', sandbox.url, '--site', site.id, '--json'], {env});
		expect(result.code).toBe(1);
		expect(JSON.parse(result.stdout).statuses).toMatchObject({updated: 2, conflict: 1});
		expect(patches(sandbox) - before).toBe(2);
		expect(ids.map(id => sandbox.asset(id)!.altText.get(site.primaryLocale))).toEqual(['Original alt 0', 'Fixed by an editor', 'Original alt 2']);
		const conflict = (await results(`${input}.results.undo.csv`))[1]!;
		expect(conflict).toMatchObject({status: 'conflict', error_code: 'conflict', altText: 'Original alt 1', previous_alt_text: 'Fixed by an editor'});
		expect(conflict.error_message).toContain('"Run alt 1"');
	});

	it('reads each asset with one GET without --site, and a dry run tells the conflict without writing', async () => {
		const site = liveSite('undo-dry', 2, 1);
		const [a, b] = [...site.assets.keys()];
		const secondary = site.secondaryLocales[0]!;
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'localeId', 'altText'], [a!, '', 'Run alt'], [a!, secondary, 'Alt du run'], [b!, '', 'Run alt b']]);
		await runJob({input, apiBase: sandbox.url, site: site.id});
		sandbox.editAsset({id: b!, altText: 'Editor'});
		const before = sandbox.requests.length;
		const summary = await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, dryRun: true});
		expect(summary.statuses).toMatchObject({would_update: 2, conflict: 1});
		const sent = sandbox.requests.slice(before);
		expect(sent.filter(r => r.method === 'PATCH')).toHaveLength(0);
		expect(sent.filter(r => r.method === 'GET' && r.path.startsWith('/v2/assets/'))).toHaveLength(3);
		expect(sandbox.asset(a!)!.altText.get(secondary)).toBe('Alt du run');
		// Counted as the real undo counts: its introspect, the 3 GETs, the 2 PATCHes.
		expect(summary.estimatedRequests).toBe(1 + 3 + 2);
	});

	it('an undo can be undone: the run\'s values come back', async () => {
		const site = liveSite('undo-undo', 2);
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'displayName', 'altText'], [ids[0]!, 'run-name.jpg', 'Run alt 0'], [ids[1]!, '', 'Run alt 1']]);
		await runJob({input, apiBase: sandbox.url, site: site.id});
		const first = join(dir, 'undo-1.csv');
		await undoRun({input: `${input}.results.csv`, out: first, apiBase: sandbox.url, site: site.id});
		expect(sandbox.asset(ids[0]!)).toMatchObject({displayName: 'original-0.jpg'});
		const second = await undoRun({input: first, out: join(dir, 'undo-2.csv'), apiBase: sandbox.url, site: site.id});
		expect(second.statuses).toMatchObject({updated: 2});
		expect(sandbox.asset(ids[0]!)).toMatchObject({displayName: 'run-name.jpg'});
		expect(ids.map(id => sandbox.asset(id)!.altText.get(site.primaryLocale))).toEqual(['Run alt 0', 'Run alt 1']);
	});

	it('puts back an empty alt text only with --allow-clear, and an undo of that fills it again', async () => {
		const site = makeSite({label: 'undo-clear', count: 2});
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map((id, i) => [id, `Filled ${i}`])]);
		await runJob({input, apiBase: sandbox.url, site: site.id, onlyMissing: true});
		const refused = await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, site: site.id});
		expect(refused.statuses.invalid).toBe(2);
		expect(refused.errorCodes).toEqual({needs_allow_clear: 2});
		expect(sandbox.asset(ids[0]!)!.altText.get(site.primaryLocale)).toBe('Filled 0');

		const cleared = await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, site: site.id, allowClear: true});
		expect(cleared.statuses.updated).toBe(2);
		expect(cleared.errorCodes).toEqual({alt_text_cleared: 2});
		expect(ids.map(id => sandbox.asset(id)!.altText.get(site.primaryLocale) ?? '')).toEqual(['', '']);

		const again = await undoRun({input: `${input}.results.undo.csv`, out: join(dir, 'again.csv'), apiBase: sandbox.url, site: site.id});
		expect(again.statuses.updated).toBe(2);
		expect(ids.map(id => sandbox.asset(id)!.altText.get(site.primaryLocale))).toEqual(['Filled 0', 'Filled 1']);
	});

	it('works across a --tokens file: each row through its own site\'s token', async () => {
		const sites = [liveSite('undo-agency-a', 2), liveSite('undo-agency-b', 2)];
		const tokens = new Map([[sites[0]!.id, 'token-a'], [sites[1]!.id, 'token-b']]);
		const sandbox = await startSandbox({sites, rate: FAST, tokens: siteTokens(tokens)});
		const dir = await tempDir();
		const rows = sites.flatMap(s => [...s.assets.keys()].map(id => [s.id, id, `Agency alt for ${id}`]));
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...rows]);
		// A hand-written file without --site reads nothing: its results cannot be undone.
		const ran = await runJob({input, apiBase: sandbox.url, token: undefined, tokens});
		expect(ran.statuses.updated).toBe(4);
		const runResults = await results(`${input}.results.csv`);
		expect(runResults.every(r => r.previous_alt_text === '')).toBe(true);
		const unknown = await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, token: undefined, tokens});
		expect(unknown.errorCodes).toEqual({no_previous_values: 4});

		const tokensFile = join(dir, 'tokens.txt');
		await writeFile(tokensFile, [...tokens].map(([site, token]) => `${site}=${token}`).join('\n'));
		for (const s of sites) {
			for (const [i, asset] of [...s.assets.values()].entries()) {
				sandbox.editAsset({id: asset.id, altText: `Original alt ${i}`});
			}
		}

		const exported = join(dir, 'exported.csv');
		await writeCsv(exported, [['siteId', 'assetId', 'altText', 'exportedDisplayName', 'exportedAltText'], ...sites.flatMap(s => [...s.assets.values()].map(asset => [s.id, asset.id, `Second pass for ${asset.id}`, asset.displayName, asset.altText.get(s.primaryLocale) ?? '']))]);
		// An exported file reads each changed asset before writing it (one GET per row, through its
		// site's token), so its results know what to put back.
		const ranAgain = await runCli(['run', exported, '--api-base', sandbox.url, '--tokens', tokensFile], {env: {}});
		expect(ranAgain.code).toBe(0);
		const undone = await runCli(['undo', join(dir, 'exported.results.csv'), '--api-base', sandbox.url, '--tokens', tokensFile, '--json'], {env: {}});
		expect(undone.code).toBe(0);
		expect(JSON.parse(undone.stdout).sites).toMatchObject({[sites[0]!.id]: {statuses: {updated: 2}}, [sites[1]!.id]: {statuses: {updated: 2}}});
		for (const s of sites) {
			expect([...s.assets.values()].map(asset => asset.altText.get(s.primaryLocale))).toEqual(['Original alt 0', 'Original alt 1']);
		}

		const used = new Set(patchesSent(sandbox).map(r => r.token));
		expect(used.size).toBe(2);
	});

	it('after a --resume\'d run, puts back every row the two runs applied', async () => {
		const site = liveSite('undo-resume', 8);
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: {count: 20, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map((id, i) => [id, `Run alt ${i}`])]);
		const stop = new AbortController();
		const first = await runJob({input, apiBase: sandbox.url, site: site.id, concurrency: 1}, {
			interrupt: stop.signal,
			onProgress(progress) {
				if (progress.done === 3) {
					stop.abort();
				}
			},
		});
		expect(first.statuses.updated).toBeLessThan(8);
		const resumed = await runJob({input, apiBase: sandbox.url, site: site.id, resume: true});
		expect(resumed.statuses.updated).toBe(8);
		const summary = await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses.updated).toBe(8);
		expect(ids.map(id => sandbox.asset(id)!.altText.get(site.primaryLocale))).toEqual(ids.map((_, i) => `Original alt ${i}`));
	});

	it('the HTML report of an undo shows what was put back and the conflict', async () => {
		const site = liveSite('undo-report', 2);
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [ids[0]!, 'Run <alt> 0'], [ids[1]!, 'Run alt 1']]);
		await runJob({input, apiBase: sandbox.url, site: site.id});
		sandbox.editAsset({id: ids[1]!, altText: 'Editor alt'});
		const report = join(dir, 'undo.html');
		await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, site: site.id, report});
		const html = await readFile(report, 'utf8');
		const section = (id: string) => html.slice(html.indexOf(`<section id="${id}">`), html.indexOf('</section>', html.indexOf(`<section id="${id}">`)));
		expect(section('restored')).toContain('Put back');
		expect(section('restored')).toContain('Run &#60;alt&#62; 0');
		expect(section('restored')).toContain('Original alt 0');
		expect(section('conflicts')).toContain('Editor alt');
		expect(section('conflicts')).toContain('Run alt 1');
	});

	it('npm start shows the safety net: after the real run an editor changes one asset, and undo puts back the rest', async () => {
		const dir = await tempDir();
		const {steps} = await demo({logger: silentLogger(), out: join(dir, 'jobs.example.results.csv')});
		const last = steps.find(step => step.title.startsWith('Undo the apply run'))!;
		expect(last.command).toMatch(/^altbatch undo /);
		expect(last.summary.statuses).toMatchObject({conflict: 1});
		expect(last.summary.statuses.updated).toBeGreaterThan(0);
		expect(last.details!.filter(line => line.startsWith('conflict'))).toHaveLength(1);
		expect(last.details!.filter(line => line.startsWith('put back')).length).toBeGreaterThan(0);
	});

	it('npm start fixes a CMS image staged and live, without publishing, and undo puts both back', async () => {
		const dir = await tempDir();
		const {steps} = await demo({logger: silentLogger(), out: join(dir, 'jobs.example.results.csv')});
		const [fix, back] = steps.slice(-2) as [DemoStep, DemoStep];
		expect(fix.summary.statuses.updated).toBe(1);
		expect(fix.details).toEqual(['staged item: (no alt text) → "Snowy mountain ridge under a clear sky"', 'live item:   (no alt text) → "Snowy mountain ridge under a clear sky"']);
		expect(back.command).toMatch(/^altbatch undo /);
		expect(back.summary.statuses.updated).toBe(1);
		expect(back.details).toEqual(['staged item: "Snowy mountain ridge under a clear sky" → (no alt text)', 'live item:   "Snowy mountain ridge under a clear sky" → (no alt text)']);
	});

	it('puts the display name back once per asset, whatever locales the run wrote it in, and each locale\'s alt text', async () => {
		const site = liveSite('undo-locales', 1, 1);
		const [a] = [...site.assets.keys()];
		const secondary = site.secondaryLocales[0]!;
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'localeId', 'displayName', 'altText'],
			[a!, '', 'first-name.jpg', 'Run alt'],
			[a!, secondary, 'second-name.jpg', 'Alt du run'],
		]);
		await runJob({input, apiBase: sandbox.url, site: site.id});
		expect(sandbox.asset(a!)!.displayName).toBe('second-name.jpg');
		const summary = await undoRun({input: `${input}.results.csv`, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses).toMatchObject({updated: 2, conflict: 0});
		expect(sandbox.asset(a!)!.displayName).toBe('original-0.jpg');
		expect(sandbox.asset(a!)!.altText.get(site.primaryLocale)).toBe('Original alt 0');
		expect(sandbox.asset(a!)!.altText.get(secondary)).toBe('Alt d\'origine 0');
	});

	it('refuses a file that is not the results of a run (exit 2), sending nothing', async () => {
		const sandbox = await startSandbox({rate: FAST});
		const dir = await tempDir();
		const jobs = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ['a'.repeat(24), 'x']]);
		const result = await runCli(['undo', jobs, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('input_not_results');
		expect(sandbox.requests).toHaveLength(0);
	});

	it('reads results a spreadsheet re-saved with ; as separator, or as UTF-16, as run reads its input', async () => {
		for (const form of ['semicolon', 'utf-16'] as const) {
			const site = liveSite(`undo-resaved-${form}`, 2);
			const [a, b] = [...site.assets.keys()];
			const sandbox = await startSandbox({sites: [site], rate: FAST});
			const dir = await tempDir();
			const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a!, 'New; with a semicolon'], [b!, 'New "quoted"']]);
			await runJob({input, apiBase: sandbox.url, site: site.id});
			const resaved = join(dir, 'resaved.csv');
			const rows = parseStrict(await readFile(`${input}.results.csv`, 'utf8'));
			if (form === 'semicolon') {
				await writeCsv(resaved, rows, {delimiter: ';', eol: '\r\n'});
			} else {
				const tabbed = rows.map(r => r.map(cell => /[\t"\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell).join('\t')).join('\r\n');
				await writeFile(resaved, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tabbed, 'utf16le')]));
			}

			const summary = await undoRun({input: resaved, apiBase: sandbox.url, site: site.id});
			expect([form, summary.statuses.updated]).toEqual([form, 2]);
			expect(sandbox.asset(a!)!.altText.get(site.primaryLocale)).toBe('Original alt 0');
			expect(sandbox.asset(b!)!.altText.get(site.primaryLocale)).toBe('Original alt 1');
		}
	});
});

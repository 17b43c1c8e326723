import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {delimiter, join} from 'node:path';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';
import {OTHER_PROGRAMS_SKIPPED, assetIds, makeSite, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

/** The first of these programs on PATH (wherever the system put it: /usr/bin, /snap/bin, /opt/homebrew/bin, …). */
export function onPath(names: readonly string[], path = process.env.PATH ?? ''): string | undefined {
	const folders = path.split(delimiter).filter(folder => folder !== '');
	for (const name of names) {
		const found = folders.map(folder => join(folder, name)).find(file => existsSync(file));
		if (found) {
			return found;
		}
	}

	return undefined;
}

const CHROMIUM = onPath(['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']);
// CI installs Chromium (.ci/run sets ALTBATCH_CI): there a missing browser fails the test. Elsewhere it is skipped.
const BROWSER_REQUIRED = process.env.ALTBATCH_CI === '1';

/** What a real headless Chromium shows of the page: its DOM after load, as text. */
async function openInChromium(file: string): Promise<string> {
	const profile = await mkdtemp(join(tmpdir(), 'altbatch-chromium-'));
	const {stdout} = await promisify(execFile)(CHROMIUM!, [
		'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`,
	], {timeout: 60_000, maxBuffer: 20 * 1024 * 1024});
	return stdout;
}

describe('the HTML report', () => {
	it('finds a browser anywhere on PATH', async () => {
		const dir = await tempDir();
		const bin = join(dir, 'bin');
		await mkdir(bin);
		await writeFile(join(bin, 'chromium-browser'), '#!/bin/sh\n');
		expect(onPath(['chromium', 'chromium-browser'], ['/nonexistent', bin].join(delimiter))).toBe(join(bin, 'chromium-browser'));
		expect(onPath(['chromium'], '/nonexistent')).toBeUndefined();
	});

	it.skipIf(OTHER_PROGRAMS_SKIPPED || (!CHROMIUM && !BROWSER_REQUIRED))('opens in a real Chromium with the summary, the request chart with pauses, coverage, warnings and failed rows', async () => {
		expect(CHROMIUM, 'CI installs Chromium (ALTBATCH_CI=1), and none is on PATH').toBeDefined();
		const site = makeSite({label: 'report', count: 12});
		const ids = assetIds(site);
		site.assets.get(ids[0]!)!.altText.set(site.primaryLocale, 'Already described');
		const sandbox = await startSandbox({sites: [site], rate: {count: 4, windowMs: 1000}, tokens: [{token: 'sandbox-token', introspect: false}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'altText'],
			...ids.slice(1, 9).map((id, i) => [id, `A photo, number ${i}`]),
			[ids[9]!, 'Image of <b>a dog</b>'],
			[ids[10]!, 'IMG_0042.jpg'],
			['e'.repeat(24), 'not on the site'],
			['nope', 'bad id'],
		]);
		const report = join(dir, 'report.html');
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: {count: 20, windowMs: 1000}, report});
		expect(summary.tooManyRequests + summary.pausedSeconds).toBeGreaterThan(0);

		const html = await readFile(report, 'utf8');
		expect(html).not.toMatch(/<script|<link|src="http|href="http/);
		const dom = await openInChromium(report);
		const text = dom.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
		expect(text).toContain('10 updated');
		expect(text).toContain('1 failed');
		expect(text).toContain('1 invalid');
		expect(text).toContain('Requests over time');
		expect(dom).toMatch(/<rect class="pause"/);
		expect(dom).toMatch(/<rect class="sent"/);
		// Coverage counts only alt text without a problem: the file name written into one asset is not coverage.
		expect(text).toMatch(/primary 1 \/ 12 \(8\.3%; 1 with alt text\) 10 \/ 12 \(83\.3%; 11 with alt text\)/);
		expect(text).toContain('alt_is_file_name');
		expect(text).toContain('not_in_site');
		expect(text).toContain('invalid_asset_id');
		expect(text).toContain('alt_redundant_prefix');
		// Alt text is shown as text, never as markup.
		expect(dom).toContain('Image of &lt;b&gt;a dog&lt;/b&gt;');
		expect(dom).not.toContain('<b>a dog</b>');
	});
});

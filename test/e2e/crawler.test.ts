import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {objectId} from '../../src/sandbox/state.js';
import {assetIds, makeSite, patchesSent, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

const FAST = {count: 2000, windowMs: 1000};

/** Screaming Frog's "Images Missing Alt Text" inlinks export: one line per page an image is on. */
const SF_HEADER = ['Type', 'Source', 'Destination', 'Size (Bytes)', 'Alt Text', 'Anchor', 'Status Code', 'Status', 'Follow', 'Link Position'];
const sfRow = (page: string, image: string, alt: string) => ['Image', `https://example.com${page}`, image, '48213', alt, '', '200', 'OK', 'true', 'Content'];

function cli(sandboxUrl: string, args: string[]) {
	return runCli([...args, '--api-base', sandboxUrl], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
}

describe('crawler reports keyed by image URL', () => {
	it('Screaming Frog export with CDN URLs, old hosts, responsive variants and URL-encoded names: one write per image, other columns untouched', async () => {
		const site = makeSite({label: 'crawler-sf', count: 4});
		const [a, b, c, d] = assetIds(site) as [string, string, string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'images_missing_alt_text.csv');
		await writeCsv(file, [
			SF_HEADER,
			sfRow('/', `https://cdn.prod.website-files.com/${site.id}/${a}_hero%20shot.jpg`, 'A red bicycle'),
			sfRow('/about', `https://cdn.prod.website-files.com/${site.id}/${a}_hero%20shot-p-500.jpg`, 'A red bicycle'),
			sfRow('/blog', `https://cdn.prod.website-files.com/${site.id}/${a}_hero%20shot-p-800.jpg`, ''),
			sfRow('/team', `https://uploads-ssl.webflow.com/${site.id}/${b}_team.png`, ''),
			sfRow('/contact', `https://uploads-ssl.webflow.com/${site.id}/${b}_team-p-1080.png`, 'Our team, laughing'),
			sfRow('/', `https://assets-global.website-files.com/${site.id}/${c}_logo%E2%80%93dark.svg`, 'Acme logo'),
			sfRow('/pricing', `https://cdn.prod.website-files.com/${site.id}/${d}_unfilled.jpg`, ''),
		]);
		const run = await cli(sandbox.url, ['run', file, '--site', site.id, '--json']);
		expect(run.stderr).not.toContain('sandbox-token');
		// Row 8 (an image nobody filled) is `invalid` `nothing_to_update`: exit 1.
		expect(run.code).toBe(1);
		const patches = patchesSent(sandbox);
		expect(patches.map(p => p.path).sort()).toEqual([a, b, c].map(id => `/v2/assets/${id}`).sort());
		expect(sandbox.asset(a)!.altText.get(site.primaryLocale)).toBe('A red bicycle');
		expect(sandbox.asset(b)!.altText.get(site.primaryLocale)).toBe('Our team, laughing');
		expect(sandbox.asset(c)!.altText.get(site.primaryLocale)).toBe('Acme logo');

		const rows = await results(join(dir, 'images_missing_alt_text.results.csv'));
		expect(rows.map(r => [r.row, r.status, r.error_code])).toEqual([
			['2', 'updated', ''],
			['3', 'skipped', 'duplicate_image'],
			['4', 'skipped', 'duplicate_image'],
			['5', 'skipped', 'duplicate_image'],
			['6', 'updated', ''],
			['7', 'updated', ''],
			['8', 'invalid', 'nothing_to_update'],
		]);
		expect(rows[1]!.error_message).toContain('row 2');
		expect(rows[3]!.error_message).toContain('row 6');
		// Every crawler column comes back as it was.
		for (const column of SF_HEADER) {
			expect(Object.keys(rows[0]!)).toContain(column);
		}

		expect(rows[4]).toMatchObject({Type: 'Image', Source: 'https://example.com/contact', 'Size (Bytes)': '48213', 'Status Code': '200', Status: 'OK', 'Link Position': 'Content'});
	});

	it('one image given two different alts is refused before anything is sent, naming both lines', async () => {
		const site = makeSite({label: 'crawler-conflict', count: 2});
		const [a, b] = assetIds(site) as [string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'ahrefs.csv');
		await writeCsv(file, [
			['Page URL', 'Image URL', 'Alt', 'HTTP status code', 'Page title'],
			['https://example.com/', `https://cdn.prod.website-files.com/${site.id}/${b}_b.jpg`, 'Fine', '200', 'Home'],
			['https://example.com/', `https://cdn.prod.website-files.com/${site.id}/${a}_a.jpg`, 'A dog', '200', 'Home'],
			['https://example.com/x', `https://cdn.prod.website-files.com/${site.id}/${b}_b-p-500.jpg`, 'Fine', '200', 'X'],
			['https://example.com/y', `https://cdn.prod.website-files.com/${site.id}/${a}_a-p-800.jpg`, 'A cat', '200', 'Y'],
		]);
		for (const args of [['run', file], ['run', file, '--site', site.id], ['run', file, '--dry-run']]) {
			const run = await cli(sandbox.url, args);
			expect(run.code).toBe(2);
			expect(run.stderr).toMatch(/ahrefs\.csv:5/);
			expect(run.stderr).toContain('lines 3 and 5');
			expect(run.stderr).toContain('"A dog"');
			expect(run.stderr).toContain('"A cat"');
		}

		expect(sandbox.requests).toHaveLength(0);
		expect(existsSync(join(dir, 'ahrefs.results.csv'))).toBe(false);
		expect(existsSync(join(dir, 'ahrefs.dry-run.csv'))).toBe(false);
	});

	it('a URL that is not a CDN URL is matched against the site\'s hostedUrl; no match is not_in_site; without --site it is invalid', async () => {
		const site = makeSite({label: 'crawler-hosted', count: 3});
		const [a, b] = assetIds(site) as [string, string];
		site.assets.get(a)!.hostedUrl = 'https://images.example.com/media/Sunset%20Beach.jpg';
		const other = objectId('crawler-hosted/other-site');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'semrush.csv');
		const rows = [
			['Page URL', 'Image', 'Alt text', 'Issue'],
			['https://example.com/', 'http://www.images.example.com/media/Sunset Beach-p-500.jpg?w=500', 'Sunset over the beach', 'missing alt'],
			['https://example.com/', 'https://images.example.com/media/nowhere.jpg', 'Nothing', 'missing alt'],
			['https://example.com/', `https://cdn.prod.website-files.com/${other}/${b}_b.jpg`, 'Another site', 'missing alt'],
		];
		await writeCsv(file, rows);

		const dry = await cli(sandbox.url, ['run', file, '--dry-run']);
		expect(dry.code).toBe(1);
		expect((await results(join(dir, 'semrush.dry-run.csv'))).map(r => [r.status, r.error_code])).toEqual([
			['invalid', 'image_url_unresolved'],
			['invalid', 'image_url_unresolved'],
			['would_update', ''],
		]);

		const run = await cli(sandbox.url, ['run', file, '--site', site.id]);
		expect(run.code).toBe(1);
		const got = await results(join(dir, 'semrush.results.csv'));
		expect(got.map(r => [r.status, r.error_code])).toEqual([
			['updated', ''],
			['failed', 'not_in_site'],
			['failed', 'not_in_site'],
		]);
		expect(got[1]!.error_message).toContain('nowhere.jpg');
		expect(got[0]).toMatchObject({Issue: 'missing alt', 'Page URL': 'https://example.com/'});
		expect(sandbox.asset(a)!.altText.get(site.primaryLocale)).toBe('Sunset over the beach');
		expect(patchesSent(sandbox).map(p => p.path)).toEqual([`/v2/assets/${a}`]);
	});

	it('an asset id column wins over the URL where a row has both; a header with several URL columns takes the image one', async () => {
		const site = makeSite({label: 'crawler-both', count: 2});
		const [a, b] = assetIds(site) as [string, string];
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'both.csv');
		await writeCsv(file, [
			['Address', 'Image URL', 'assetId', 'alt'],
			['https://example.com/', `https://cdn.prod.website-files.com/${site.id}/${a}_a.jpg`, b, 'For b'],
			['https://example.com/', `https://cdn.prod.website-files.com/${site.id}/${a}_a.jpg`, '', 'For a'],
		]);
		const run = await cli(sandbox.url, ['run', file]);
		expect(run.code).toBe(0);
		expect(sandbox.asset(a)!.altText.get(site.primaryLocale)).toBe('For a');
		expect(sandbox.asset(b)!.altText.get(site.primaryLocale)).toBe('For b');
	});
});

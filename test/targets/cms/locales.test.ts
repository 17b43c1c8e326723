import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {readCsvFile} from '../../../src/files/csv/input.js';
import {addGalleryCollection} from '../../../src/sandbox/cms-demo.js';
import type {ImageValue, SandboxCollection} from '../../../src/sandbox/cms.js';
import {cmsLocaleIdOf, newSite, objectId} from '../../../src/sandbox/state.js';
import {results, runCli, startSandbox, tempDir, writeCsv} from '../../helpers.js';

/**
 * A site locale is not a CMS locale: Webflow lists each locale's `cmsLocaleId` in get-site, and the
 * CMS calls take only that one. The sandbox holds them apart now, as Webflow does.
 */

const FAST = {count: 100_000, windowMs: 1000};

async function readSheet(path: string): Promise<{header: string[]; rows: string[][]}> {
	const records: string[][] = [];
	await readCsvFile({path, onRecord: ({fields}) => void records.push(fields)});
	return {header: records[0]!, rows: records.slice(1)};
}

const gallery = (collection: SandboxCollection, itemId: string, locale: string) => collection.items.get(itemId)!.variants.get(locale)!.fieldData.gallery as ImageValue[];

describe('CMS locales', () => {
	it('export --locale <site locale> reads that CMS locale (get-site once), writes its cmsLocaleId, and runs back into it', async () => {
		const site = newSite(objectId('locales-export/site'), 1);
		const collection = addGalleryCollection({site, label: 'Gallery', items: 2, images: 2});
		const secondary = site.secondaryLocales[0]!;
		const cmsLocale = cmsLocaleIdOf(site, secondary);
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const out = join(dir, 'export.csv');
		const env = {WEBFLOW_TOKEN: 'sandbox-token'};
		const exported = await runCli(['export', '--site', site.id, '--include', 'cms', '--locale', secondary, '--api-base', sandbox.url, '--out', out], {env});
		expect(exported.code, exported.stderr).toBe(0);
		const sheet = await readSheet(out);
		const column = (name: string) => sheet.header.indexOf(name);
		expect(sheet.rows).toHaveLength(4);
		expect(new Set(sheet.rows.map(row => row[column('cmsLocaleId')]))).toEqual(new Set([cmsLocale]));
		const siteReads = () => sandbox.requests.filter(request => request.method === 'GET' && request.path === `/v2/sites/${site.id}`).length;
		expect(siteReads()).toBe(1);

		const edited = sheet.rows.map(row => row.map((cell, i) => i === column('altText') ? `Secondary ${row[column('index')]}` : cell));
		const input = await writeCsv(join(dir, 'edited.csv'), [sheet.header, ...edited]);
		const run = await runCli(['run', input, '--site', site.id, '--api-base', sandbox.url], {env});
		expect(run.code, run.stderr).toBe(0);
		const itemId = [...collection.items.keys()][0]!;
		expect(gallery(collection, itemId, secondary).map(image => image.alt)).toEqual(['Secondary 1', 'Secondary 2']);
		expect(gallery(collection, itemId, site.primaryLocale).map(image => image.alt)).toEqual([null, null]);
		expect((await results(join(dir, 'edited.results.csv'))).every(row => row.status === 'updated')).toBe(true);
	});

	it('a run\'s rows may name the site locale or the CMS locale: both write the same CMS locale', async () => {
		const site = newSite(objectId('locales-either/site'), 1);
		const collection = addGalleryCollection({site, label: 'Gallery', items: 2, images: 1});
		const secondary = site.secondaryLocales[0]!;
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const [first, second] = [...collection.items.keys()] as [string, string];
		const fileOf = (itemId: string) => gallery(collection, itemId, secondary)[0]!.fileId;
		const input = await writeCsv(join(dir, 'cms.csv'), [
			['siteId', 'collectionId', 'itemId', 'field', 'fileId', 'cmsLocaleId', 'altText'],
			[site.id, collection.id, first, 'gallery', fileOf(first), secondary, 'By site locale'],
			[site.id, collection.id, second, 'gallery', fileOf(second), cmsLocaleIdOf(site, secondary), 'By CMS locale'],
		]);
		// The dry run counts the get-site read as the real run sends it.
		const dry = await runCli(['run', input, '--site', site.id, '--api-base', sandbox.url, '--dry-run', '--json', '--out', join(dir, 'dry.csv')], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		const run = await runCli(['run', input, '--site', site.id, '--api-base', sandbox.url, '--json'], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		expect(run.code, run.stderr).toBe(0);
		expect((JSON.parse(dry.stdout) as {estimatedRequests: number}).estimatedRequests).toBe((JSON.parse(run.stdout) as {requests: number}).requests);
		expect(gallery(collection, first, secondary)[0]!.alt).toBe('By site locale');
		expect(gallery(collection, second, secondary)[0]!.alt).toBe('By CMS locale');
		expect(gallery(collection, first, site.primaryLocale)[0]!.alt).toBeNull();
	});

	it('export names a CMS locale the site refuses instead of leaving its rows out without a word', async () => {
		const site = newSite(objectId('locales-refused/site'), 1);
		addGalleryCollection({site, label: 'Gallery', items: 1, images: 1});
		// A token without sites:read: the locale goes out as given, and the CMS refuses a site locale id.
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'no-sites', scopes: ['assets:read', 'cms:read']}]});
		const dir = await tempDir();
		const secondary = site.secondaryLocales[0]!;
		const result = await runCli(['export', '--site', site.id, '--include', 'cms', '--locale', secondary, '--api-base', sandbox.url, '--out', join(dir, 'export.csv'), '--json'], {env: {WEBFLOW_TOKEN: 'no-sites'}});
		expect(result.code).not.toBe(0);
		expect(`${result.stdout}${result.stderr}`).toContain(secondary);
		expect(`${result.stdout}${result.stderr}`).toMatch(/locale/i);
	});
});

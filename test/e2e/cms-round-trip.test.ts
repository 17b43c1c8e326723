import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../../src/cli/config.js';
import {readCsvFile} from '../../src/files/csv/input.js';
import {exportSite} from '../../src/commands/export.js';
import {silentLogger} from '../../src/logger.js';
import {addDemoCollections} from '../../src/sandbox/cms-demo.js';
import type {ImageValue} from '../../src/sandbox/cms.js';
import {demoSite} from '../../src/sandbox/state.js';
import {undo} from '../../src/commands/undo.js';
import {results, runConfig, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

const FAST = {count: 100_000, windowMs: 1000};

async function readSheet(path: string): Promise<{header: string[]; rows: string[][]}> {
	const records: string[][] = [];
	await readCsvFile({path, onRecord: ({fields}) => void records.push(fields)});
	return {header: records[0]!, rows: records.slice(1)};
}

describe('CMS rows: export, edit, run, undo', () => {
	it('exports every image of every Image and MultiImage field, runs the edits back staged and live, and undoes them except where an editor changed one since', async () => {
		const site = addDemoCollections(demoSite());
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const out = join(dir, 'export.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, include: new Set(['assets', 'cms']), out, apiBase: sandbox.url, token: 'sandbox-token', rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const sheet = await readSheet(out);
		const column = (name: string) => sheet.header.indexOf(name);
		const cms = sheet.rows.filter(row => row[column('itemId')] !== '');
		expect(sheet.rows.length - cms.length).toBe(site.assets.size);
		// Blog: 3 posts (main image each; galleries of 3, 2 and 0), team: 1 portrait.
		expect(cms).toHaveLength(3 + 3 + 2 + 1);
		const gallery = cms.filter(row => row[column('field')] === 'gallery');
		expect(gallery.map(row => row[column('index')])).toEqual(['1', '2', '3', '1', '2']);
		expect(cms.find(row => row[column('item')] === 'Coming soon')![column('live')]).toBe('staged');

		// Unchanged, the export runs back with nothing to write.
		const again = await runJob({input: out, apiBase: sandbox.url, site: site.id, rate: FAST, out: join(dir, 'again.csv')});
		expect(again.statuses.updated).toBe(0);
		expect(sandbox.requests.filter(r => r.method === 'PATCH')).toHaveLength(0);

		// Edit every CMS image's alt, and one asset's.
		const edited = sheet.rows.map(row => row[column('itemId')] === '' ? row : row.map((cell, i) => i === column('altText') ? `Alt of ${row[column('item')]} ${row[column('field')]} ${row[column('index')]}` : cell));
		const input = await writeCsv(join(dir, 'edited.csv'), [sheet.header, ...edited]);
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id, rate: FAST});
		expect(summary.statuses).toMatchObject({updated: 9});
		const post = [...site.collections.values()][0]!.items.values().next().value!;
		const variant = post.variants.get(site.primaryLocale)!;
		expect((variant.fieldData.gallery as ImageValue[]).map(i => i.alt)).toEqual(['Alt of Hello, mountains gallery 1', 'Alt of Hello, mountains gallery 2', 'Alt of Hello, mountains gallery 3']);
		expect(variant.live).toEqual(variant.fieldData);
		const runResults = await results(`${input}.results.csv`);
		expect(runResults.filter(r => r.live === 'yes')).toHaveLength(8);

		// An editor changes one image's alt; undo puts back the rest, staged and live.
		const editorImage = (variant.fieldData.gallery as ImageValue[])[1]!;
		sandbox.editItem({id: post.id, fieldData: {gallery: (variant.fieldData.gallery as ImageValue[]).map(i => i.fileId === editorImage.fileId ? {...i, alt: 'Editor'} : i)}});
		const undone = await undo(runConfig({input: `${input}.results.csv`, out: join(dir, 'undo.csv'), apiBase: sandbox.url, site: site.id, rate: FAST}), {logger: silentLogger()});
		expect(undone.statuses).toMatchObject({updated: 8, conflict: 1});
		expect((variant.fieldData.gallery as ImageValue[]).map(i => i.alt)).toEqual([null, 'Editor', null].map((alt, i) => i === 1 ? alt : alt ?? ''));
		expect((variant.live!.gallery as ImageValue[]).map(i => i.alt)).toEqual(['', 'Alt of Hello, mountains gallery 2', '']);
	});
});

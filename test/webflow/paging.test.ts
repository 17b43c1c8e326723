import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {addDemoCollections, addGalleryCollection} from '../../src/sandbox/cms-demo.js';
import {withDemoPages} from '../../src/sandbox/pages.js';
import type {Paging} from '../../src/sandbox/wire.js';
import {demoSite, newSite, objectId} from '../../src/sandbox/state.js';
import {makeSite, runCli, startSandbox, tempDir} from '../helpers.js';

/**
 * A stand-in with limits of its own: pages capped below the 100 asked for, with or without
 * `pagination.total` (the description does not require it). No row may go missing.
 */

const FAST = {count: 100_000, windowMs: 1000};
const STAND_INS: Paging[] = [{maxLimit: 30, total: true}, {maxLimit: 30, total: false}];
const env = {WEBFLOW_TOKEN: 'sandbox-token'};
const lines = async (path: string) => (await readFile(path, 'utf8')).trim().split(/\r?\n/).length - 1;

describe('lists paged by what each page holds', () => {
	it('exports every asset and every CMS image when pages hold 30, with a total or without', async () => {
		for (const paging of STAND_INS) {
			const site = makeSite({label: `paging-export-${paging.total}`, count: 75});
			addGalleryCollection({site, label: 'Gallery', items: 75, images: 1});
			const sandbox = await startSandbox({sites: [site], rate: FAST, paging});
			const dir = await tempDir();
			const out = join(dir, 'export.csv');
			const result = await runCli(['export', '--site', site.id, '--include', 'assets,cms', '--api-base', sandbox.url, '--out', out], {env});
			expect(result.code, result.stderr).toBe(0);
			// 75 assets + the 75 gallery images' assets, then 75 CMS rows.
			expect(await lines(out), JSON.stringify(paging)).toBe(150 + 75);
		}
	});

	it('audits the same places when every list (pages, DOM nodes, components, items) comes 2 a page without a total', async () => {
		const counts: number[] = [];
		for (const paging of [undefined, {maxLimit: 2, total: false}, {maxLimit: 2, total: true}]) {
			const sandbox = await startSandbox({sites: [withDemoPages(addDemoCollections(demoSite()))], rate: FAST, paging});
			const dir = await tempDir();
			const out = join(dir, 'audit.csv');
			const result = await runCli(['audit', '--site', [...sandbox.sites.keys()][0]!, '--api-base', sandbox.url, '--out', out], {env});
			expect(result.code, result.stderr).toBeLessThan(2);
			counts.push(await lines(out));
		}

		expect(counts[0]).toBeGreaterThan(10);
		expect(counts).toEqual([counts[0], counts[0], counts[0]]);
	});

	it('runs CMS rows of a collection read 30 items a page without a total', async () => {
		const site = newSite(objectId('paging-run/site'), 0);
		const collection = addGalleryCollection({site, label: 'Gallery', items: 75, images: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST, paging: {maxLimit: 30, total: false}});
		const dir = await tempDir();
		const out = join(dir, 'export.csv');
		await runCli(['export', '--site', site.id, '--include', 'cms', '--api-base', sandbox.url, '--out', out], {env});
		const text = (await readFile(out, 'utf8')).replace(/^\uFEFF/, '');
		const [header, ...rows] = text.trim().split(/\r?\n/);
		const altAt = header!.split(',').indexOf('altText');
		const edited = [header, ...rows.map(row => row.split(',').map((cell, i) => i === altAt ? 'Filled' : cell).join(','))].join('\n');
		const input = join(dir, 'edited.csv');
		await (await import('node:fs/promises')).writeFile(input, edited);
		const run = await runCli(['run', input, '--site', site.id, '--api-base', sandbox.url, '--staged-only'], {env});
		expect(run.code, run.stderr).toBe(0);
		const filled = [...collection.items.values()].filter(item => (item.variants.values().next().value!.fieldData.gallery as Array<{alt: string | null}>)[0]!.alt === 'Filled');
		expect(filled).toHaveLength(75);
	});
});

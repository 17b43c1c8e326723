import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {demo} from '../../src/commands/demo.js';
import {silentLogger} from '../../src/logger.js';
import {addPage, imageNode, textNode} from '../../src/sandbox/pages.js';
import {makeSite, patchesSent, results, runCli, startSandbox, tempDir} from '../helpers.js';

const FAST = {count: 1000, windowMs: 1000};

/** The audit CSV as objects keyed by column. */
async function auditRows(path: string): Promise<Array<Record<string, string>>> {
	const [header, ...lines] = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '').trim().split(/\r?\n/).map(line => parseLine(line));
	return lines.map(cells => Object.fromEntries(header!.map((name, i) => [name, cells[i] ?? ''])));
}

function parseLine(line: string): string[] {
	const cells: string[] = [];
	let cell = '';
	let quoted = false;
	for (let i = 0; i < line.length; i++) {
		const ch = line[i]!;
		if (quoted && ch === '"' && line[i + 1] === '"') {
			cell += '"';
			i++;
		} else if (ch === '"') {
			quoted = !quoted;
		} else if (ch === ',' && !quoted) {
			cells.push(cell);
			cell = '';
		} else {
			cell += ch;
		}
	}

	return [...cells, cell];
}

function toCsv(rows: Array<Record<string, string>>): string {
	const header = Object.keys(rows[0]!);
	const quote = (cell: string) => /[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
	return [header, ...rows.map(row => header.map(name => row[name] ?? ''))].map(cells => cells.map(quote).join(',')).join('\n') + '\n';
}

describe('altbatch audit', () => {
	it('lists every place an image renders on the demo site, the alt it gets and where it comes from, with nothing read per image', async () => {
		const sandbox = await startSandbox({rate: FAST});
		const [site] = sandbox.sites.keys();
		const dir = await tempDir();
		const out = join(dir, 'audit.csv');
		const report = join(dir, 'audit.html');
		const result = await runCli(['audit', '--site', site!, '--api-base', sandbox.url, '--out', out, '--report', report, '--json'], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		expect(result.stderr).toMatch(/Audited 24 places/);
		expect(result.code).toBe(1); // Problems found.
		const rows = await auditRows(out);
		expect(Object.keys(rows[0]!)).toEqual(['siteId', 'where', 'pageId', 'nodeId', 'assetId', 'collectionId', 'itemId', 'field', 'fileId', 'localeId', 'url', 'altText', 'alt_source', 'problem', 'fix_with', 'exportedAltText']);
		expect(rows).toHaveLength(24);
		expect(new Set(rows.map(row => row.alt_source))).toEqual(new Set(['asset', 'element', 'component', 'none', 'cms']));
		// The blog's published post shows its field's alt (none): a CMS place, fixed in the CMS.
		expect(rows.find(row => row.where === 'blog-posts/hello-mountains/main-image')).toMatchObject({alt_source: 'cms', problem: 'missing', fix_with: 'cms', field: 'main-image'});
		// A draft never published renders nowhere.
		expect(rows.some(row => row.where.includes('coming-soon'))).toBe(false);
		const founder = rows.find(row => row.altText === 'IMG_2041.jpg');
		expect(founder).toMatchObject({where: '/about', alt_source: 'element', problem: 'file_name', fix_with: 'designer'});
		expect(rows.find(row => row.altText === 'image')).toMatchObject({where: '/', alt_source: 'asset', problem: 'placeholder', fix_with: 'asset'});
		expect(rows.filter(row => row.problem === 'duplicate_on_page').map(row => row.where)).toEqual(['/about', '/about']);
		expect(rows.every(row => row.altText === row.exportedAltText)).toBe(true);

		const summary = JSON.parse(result.stdout) as {places: number; covered: number; requests: number; sites: Record<string, {reads: Record<string, number>}>};
		expect(summary.covered).toBeLessThan(summary.places);
		// introspect, 1 asset page, 1 page list, 3 page DOMs, 1 component list + its DOM + its properties,
		// 1 collection list + 2 collections' details + their live items: 14, for 24 places.
		expect(summary.requests).toBe(14);
		expect(sandbox.requests.filter(request => request.path.startsWith('/v2/assets/'))).toHaveLength(0);
		const html = await readFile(report, 'utf8');
		expect(html).toMatch(/Coverage per page, worst first/);
		expect(html).toContain('IMG_2041.jpg');
		expect(html).toMatch(/id="designer-places"/);
	});

	it('runs back: designer-only rows are skipped, an asset shown in several places is one write, and --compare says what was fixed and what is new', async () => {
		const sandbox = await startSandbox({rate: FAST});
		const [site] = sandbox.sites.keys();
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: 'sandbox-token'};
		const first = join(dir, 'audit.csv');
		await runCli(['audit', '--site', site!, '--api-base', sandbox.url, '--out', first], {env});
		const rows = await auditRows(first);
		const hero = rows.filter(row => row.assetId === rows[0]!.assetId);
		expect(hero.length).toBe(2); // On / and on /products.
		rows[0]!.altText = 'Snowy peaks at dawn';
		const founder = rows.find(row => row.altText === 'IMG_2041.jpg')!;
		founder.altText = 'Ada, our founder';
		const filled = join(dir, 'filled.csv');
		await writeFile(filled, toCsv(rows));

		const run = await runCli(['run', filled, '--site', site!, '--api-base', sandbox.url], {env});
		expect(run.code).toBe(0);
		const done = await results(join(dir, 'filled.results.csv'));
		expect(done[0]).toMatchObject({status: 'updated'});
		const other = done.find((row, i) => i > 0 && row.assetId === rows[0]!.assetId);
		expect(other).toMatchObject({status: 'unchanged', error_code: 'same_asset'});
		expect(done.find(row => row.altText === 'Ada, our founder')).toMatchObject({status: 'skipped', error_code: 'designer_only'});
		expect(done.filter(row => row.fix_with === 'designer').every(row => row.status === 'skipped' && row.error_code === 'designer_only')).toBe(true);
		expect(patchesSent(sandbox)).toHaveLength(1);

		const second = join(dir, 'audit-2.csv');
		const compared = await runCli(['audit', '--site', site!, '--api-base', sandbox.url, '--out', second, '--compare', first], {env});
		expect(compared.stderr, compared.stderr).toMatch(/since .*audit\.csv: 2 fixed, 0 new, \d+ still open/);
		expect(compared.code).toBe(0);

		// An editor puts a placeholder on an asset that was fine: one new place, exit 1.
		const logo = rows.find(row => row.altText === 'Altbatch Co. logo')!;
		sandbox.editAsset({id: logo.assetId!, altText: 'logo'});
		const third = await runCli(['audit', '--site', site!, '--api-base', sandbox.url, '--out', join(dir, 'audit-3.csv'), '--compare', second], {env});
		expect(third.stderr).toMatch(/0 fixed, 1 new/);
		expect(third.code).toBe(1);
	});

	it('a token without pages:read audits what it can, says pages were not audited and exits 1, never claiming full coverage', async () => {
		const site = makeSite({label: 'audit-scope', count: 2});
		const [a, b] = site.assets.keys();
		for (const asset of site.assets.values()) {
			asset.altText.set(site.primaryLocale, `Good alt for ${asset.id}`);
		}

		addPage(site, {slug: 'home', nodes: [imageNode('scope/1', {assetId: a}), imageNode('scope/2', {assetId: b})]});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'full'}, {token: 'assets-only', scopes: ['assets:read', 'components:read', 'cms:read']}]});
		const dir = await tempDir();
		const full = await runCli(['audit', '--site', site.id, '--api-base', sandbox.url, '--out', join(dir, 'full.csv')], {env: {WEBFLOW_TOKEN: 'full'}});
		expect(full.stderr).toMatch(/100% covered/);
		expect(full.code).toBe(0);

		const partial = await runCli(['audit', '--site', site.id, '--api-base', sandbox.url, '--out', join(dir, 'partial.csv'), '--json'], {env: {WEBFLOW_TOKEN: 'assets-only'}});
		expect(partial.code).toBe(1);
		expect(partial.stderr).toMatch(/pages NOT audited: the token lacks pages:read/);
		expect(partial.stderr).not.toMatch(/100% covered/);
		const summary = JSON.parse(partial.stdout) as {sites: Record<string, {unread: Array<{part: string}>}>};
		expect(summary.sites[site.id]!.unread.map(u => u.part)).toEqual(['pages']);
	});

	it('reads a page of 150 nodes in two DOM requests, one per 100 nodes, and refuses a --compare file that is not an audit', async () => {
		const site = makeSite({label: 'audit-big', count: 1});
		const [assetId] = site.assets.keys();
		addPage(site, {slug: 'long', nodes: Array.from({length: 150}, (_, i) => i % 3 === 0 ? textNode(`long/${i}`, 'Text') : imageNode(`long/${i}`, {assetId}))});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const out = join(dir, 'audit.csv');
		const result = await runCli(['audit', '--site', site.id, '--api-base', sandbox.url, '--out', out], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		expect(result.code).toBe(1);
		expect(await auditRows(out)).toHaveLength(100);
		expect(sandbox.requests.filter(request => request.path.endsWith('/dom'))).toHaveLength(2);

		const notAudit = join(dir, 'jobs.csv');
		await writeFile(notAudit, 'assetId,altText\n65f0c1d2e3f4a5b6c7d8e9f0,A dog\n');
		const refused = await runCli(['audit', '--site', site.id, '--api-base', sandbox.url, '--out', join(dir, 'again.csv'), '--compare', notAudit], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain(`${notAudit}:1: not an audit file`);
	});

	it('npm start ends with an audit of the demo site, after the runs fixed some of its assets', async () => {
		const dir = await tempDir();
		const {audit} = await demo({logger: silentLogger(), out: join(dir, 'jobs.example.results.csv')});
		expect(audit?.command).toMatch(/^altbatch audit --site /);
		expect(audit?.summary.places).toBeGreaterThanOrEqual(16);
		expect(audit?.summary.covered).toBeLessThan(audit?.summary.places ?? 0);
		expect(audit?.summary.problems.file_name).toBe(1);
		expect((await auditRows(join(dir, 'jobs.example.results.audit.csv'))).length).toBe(audit?.summary.places);
	});

	it('a CMS place audited in a secondary locale runs back into that locale of the item, not the primary', async () => {
		const sandbox = await startSandbox({rate: FAST});
		const site = [...sandbox.sites.values()][0]!;
		const secondary = site.secondaryLocales[0]!;
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: 'sandbox-token'};
		const out = join(dir, 'audit.csv');
		await runCli(['audit', '--site', site.id, '--api-base', sandbox.url, '--out', out, '--locale', secondary], {env});
		const rows = await auditRows(out);
		const place = rows.find(row => row.where === 'blog-posts/hello-mountains/main-image')!;
		expect(place).toMatchObject({localeId: secondary, fix_with: 'cms'});
		place.altText = 'Bergkamm im Schnee';
		const filled = join(dir, 'filled.csv');
		await writeFile(filled, toCsv(rows));
		const run = await runCli(['run', filled, '--site', site.id, '--api-base', sandbox.url], {env});
		expect(run.code, run.stderr).toBe(0);
		const item = sandbox.item(place.itemId!)!.item;
		expect((item.variants.get(secondary)!.fieldData['main-image'] as {alt: string}).alt).toBe('Bergkamm im Schnee');
		expect((item.variants.get(site.primaryLocale)!.fieldData['main-image'] as {alt: string | null}).alt).toBeNull();
	});
});

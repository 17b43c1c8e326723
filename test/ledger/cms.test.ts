import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {history} from '../../src/commands/history.js';
import {readRunFile} from '../../src/ledger/read.js';
import {addGalleryCollection} from '../../src/sandbox/cms-demo.js';
import type {ImageValue, SandboxCollection} from '../../src/sandbox/cms.js';
import {newSite, objectId, type SandboxSite} from '../../src/sandbox/state.js';
import type {Sandbox} from '../../src/sandbox/server.js';
import {patchesSent, results, runCli, spawnCli, startSandbox, tempDir, until, writeCsv} from '../helpers.js';

const TOKEN = 'wf-ledger-cms-token-9a8b';
const FAST = {count: 2000, windowMs: 1000};
const HEADER = ['siteId', 'collectionId', 'itemId', 'field', 'fileId', 'index', 'cmsLocaleId', 'altText', 'exportedAltText'];

/** A published gallery collection of `items` items, 2 images each, no alt anywhere (staged = live). */
function cmsSite(label: string, items = 2): {site: SandboxSite; collection: SandboxCollection; ids: string[]} {
	const site = newSite(objectId(`${label}/site`), 0);
	const collection = addGalleryCollection({site, label: 'Gallery', items, images: 2});
	return {site, collection, ids: [...collection.items.keys()]};
}

const variant = (collection: SandboxCollection, itemId: string) => collection.items.get(itemId)!.variants.values().next().value!;
const stagedAlts = (collection: SandboxCollection, itemId: string) => (variant(collection, itemId).fieldData.gallery as ImageValue[]).map(image => image.alt ?? '');
const liveAlts = (collection: SandboxCollection, itemId: string) => (variant(collection, itemId).live!.gallery as ImageValue[]).map(image => image.alt ?? '');

/** A row editing image `j` of an item's gallery; exported with the alt empty (base ''). */
function row(site: SandboxSite, collection: SandboxCollection, itemId: string, j: number, altText: string, base = ''): string[] {
	const image = (variant(collection, itemId).fieldData.gallery as ImageValue[])[j]!;
	return [site.id, collection.id, itemId, 'gallery', image.fileId, String(j + 1), '', altText, base];
}

/** An editor's unpublished draft: image `j`'s staged alt changed, the live item left as published. */
function draft(sandbox: Sandbox, collection: SandboxCollection, itemId: string, j: number, alt: string): void {
	const gallery = (variant(collection, itemId).fieldData.gallery as ImageValue[]).map((image, i) => i === j ? {...image, alt} : image);
	sandbox.editItem({id: itemId, fieldData: {gallery}});
}

async function runFiles(ledger: string): Promise<string[]> {
	return (await readdir(join(ledger, 'runs'))).sort().map(name => join(ledger, 'runs', name));
}

describe('CMS writes on the ledger', () => {
	it('records each image of a bulk write, synced before the request leaves; a kill -9 after the server applied it leaves them pending, history counts them, the next run settles them and undo --run takes them back', async () => {
		const {site, collection, ids} = cmsSite('ledger-cms-kill');
		const [first, second] = ids as [string, string];
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST, slowMs: 60_000});
		sandbox.failNextFor(collection.id, 'slow');
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: ledger};
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, row(site, collection, first, 0, 'New first'), row(site, collection, second, 1, 'New second')]);
		const {child, done} = spawnCli(['run', input, '--api-base', sandbox.url, '--site', site.id], {env});
		// The staged bulk write has been applied (its answer is held back): its records were on disk before it left.
		await until(() => patchesSent(sandbox).length === 1);
		const [file] = await runFiles(ledger);
		const onDisk = readRunFile(file!)!;
		expect(onDisk.writes.map(write => ({target: write.target, field: write.field, before: write.before, sent: write.sent, row: write.row}))).toEqual([
			{target: {kind: 'cms', site: site.id, collectionId: collection.id, itemId: first, field: 'gallery', fileId: (variant(collection, first).fieldData.gallery as ImageValue[])[0]!.fileId, index: 1, live: false}, field: 'alt', before: null, sent: 'New first', row: 2},
			{target: {kind: 'cms', site: site.id, collectionId: collection.id, itemId: second, field: 'gallery', fileId: (variant(collection, second).fieldData.gallery as ImageValue[])[1]!.fileId, index: 2, live: false}, field: 'alt', before: null, sent: 'New second', row: 3},
		]);
		expect(await readFile(file!, 'utf8')).not.toContain(TOKEN);
		child.kill('SIGKILL');
		await done;
		expect(stagedAlts(collection, first)).toEqual(['New first', '']);

		const listed = await runCli(['history', '--json'], {env: {ALTBATCH_LEDGER: ledger}});
		const [killed] = JSON.parse(listed.stdout) as Array<{id: string; writes: number; pending: number}>;
		expect(killed).toMatchObject({writes: 2, pending: 2});

		// The next run on the site (asset rows only) reads the items back and records that both landed.
		const asset = [...site.assets.keys()][0]!;
		const next = await writeCsv(join(dir, 'next.csv'), [['assetId', 'altText'], [asset, 'An asset alt']]);
		const ran = await runCli(['run', next, '--api-base', sandbox.url, '--site', site.id], {env});
		expect(ran.code, ran.stderr).toBe(0);
		expect(history({ledger, site: undefined})[1]).toMatchObject({id: killed!.id, pending: 0, landedUnanswered: 2});

		// undo --run takes back the staged writes whose answer never came (the live items were never written).
		const undone = await runCli(['undo', '--run', killed!.id, '--json'], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect([stagedAlts(collection, first), stagedAlts(collection, second)]).toEqual([['', ''], ['', '']]);
		expect([liveAlts(collection, first), liveAlts(collection, second)]).toEqual([['', ''], ['', '']]);
	});

	it('a bulk answer is each request\'s outcome: a refused item\'s batch not written, the rest written, a truncated answer pending', async () => {
		const {site, collection, ids} = cmsSite('ledger-cms-outcomes', 4);
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST});
		sandbox.refuseItems(ids[2]!);
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: ledger};
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, ...ids.map((id, i) => row(site, collection, id, 0, `Alt ${i}`))]);
		const ran = await runCli(['run', input, '--api-base', sandbox.url, '--staged-only'], {env});
		expect(ran.code).toBe(1);
		const [file] = await runFiles(ledger);
		const writes = readRunFile(file!)!.writes;
		// The batch of 4 refused (nothing applied), then the 3 others written, the refused item on its own record as not written.
		expect(writes.map(write => [write.target.kind === 'cms' ? ids.indexOf(write.target.itemId) : -1, write.result, write.http])).toEqual([
			[0, 'not_written', 400], [1, 'not_written', 400], [2, 'not_written', 400], [3, 'not_written', 400],
			[0, 'written', 200], [1, 'written', 200], [3, 'written', 200],
		]);
		expect(history({ledger, site: undefined})[0]).toMatchObject({writes: 7, pending: 0});

		// A truncated answer (every try): the row failed, the write landed, its record pending.
		sandbox.failNextFor(collection.id, 'truncate', 'truncate');
		const again = await writeCsv(join(dir, 'again.csv'), [HEADER, row(site, collection, ids[0]!, 1, 'Truncated')]);
		const truncated = await runCli(['run', again, '--api-base', sandbox.url, '--staged-only', '--max-attempts', '2'], {env});
		expect(truncated.code).toBe(1);
		expect((await results(join(dir, 'again.csv.results.csv').replace('.csv.results', '.results'))).map(r => [r.status, r.error_code])).toEqual([['failed', 'bad_response']]);
		expect(stagedAlts(collection, ids[0]!)).toEqual(['Alt 0', 'Truncated']);
		expect(history({ledger, site: undefined})[0]).toMatchObject({writes: 1, pending: 1});
	});

	it('undo puts the live item\'s own value back live (the ledger\'s record of the live write), from the results file and from --last', async () => {
		const {site, collection, ids} = cmsSite('ledger-cms-live');
		const [forced, same] = ids as [string, string];
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST});
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: join(dir, 'ledger')};
		// Editors' unpublished drafts: the staged alt changed, the live items still show none.
		draft(sandbox, collection, forced, 0, 'Draft A');
		draft(sandbox, collection, same, 0, 'Draft B');
		// Exported before the drafts (base ''): one row forced over the draft, one that agrees with it.
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, row(site, collection, forced, 0, 'Sheet A'), row(site, collection, same, 0, 'Draft B')]);
		const state = () => [stagedAlts(collection, forced)[0], liveAlts(collection, forced)[0], stagedAlts(collection, same)[0], liveAlts(collection, same)[0]];
		for (const how of ['results', 'last'] as const) {
			const ran = await runCli(['run', input, '--api-base', sandbox.url, '--site', site.id, '--force'], {env});
			expect(ran.code, ran.stderr).toBe(0);
			expect(state()).toEqual(['Sheet A', 'Sheet A', 'Draft B', 'Draft B']);
			const undone = await runCli(['undo', ...how === 'results' ? [join(dir, 'cms.results.csv'), '--site', site.id] : ['--last'], '--api-base', sandbox.url], {env});
			expect(undone.code, undone.stderr).toBe(0);
			// Each draft stays staged; the live items show what they showed before the run.
			expect(state()).toEqual(['Draft A', '', 'Draft B', '']);
		}
	});

	it('undo <results.csv> takes back a CMS write whose row said failed but which landed (truncated answer); without the run on record it says nothing new', async () => {
		const {site, collection, ids} = cmsSite('ledger-cms-failed-landed');
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST});
		const dir = await tempDir();
		const ledger = join(dir, 'ledger');
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: ledger};
		sandbox.failNextFor(collection.id, 'truncate', 'truncate');
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, row(site, collection, ids[0]!, 0, 'Landed'), row(site, collection, ids[1]!, 1, 'Landed too')]);
		const ran = await runCli(['run', input, '--api-base', sandbox.url, '--max-attempts', '2'], {env});
		expect(ran.code).toBe(1);
		const out = join(dir, 'cms.results.csv');
		expect((await results(out)).map(r => [r.status, r.error_code])).toEqual([['failed', 'bad_response'], ['failed', 'bad_response']]);
		expect([stagedAlts(collection, ids[0]!)[0], stagedAlts(collection, ids[1]!)[1]]).toEqual(['Landed', 'Landed too']);

		// Another ledger knows nothing of the run: the results file alone has nothing updated to undo.
		const elsewhere = await runCli(['undo', out, '--api-base', sandbox.url, '--out', join(dir, 'elsewhere.csv')], {env: {...env, ALTBATCH_LEDGER: join(dir, 'other-ledger')}});
		expect(elsewhere.code, elsewhere.stderr).toBe(0);
		expect(stagedAlts(collection, ids[0]!)[0]).toBe('Landed');

		const undone = await runCli(['undo', out, '--api-base', sandbox.url], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect([stagedAlts(collection, ids[0]!), stagedAlts(collection, ids[1]!)]).toEqual([['', ''], ['', '']]);
		expect((await results(join(dir, 'cms.results.undo.csv'))).map(r => [r.row, r.status])).toEqual([['2', 'updated'], ['3', 'updated']]);
	});

	it('undo --last of a run that wrote an asset and a CMS image takes back both; its own results can be undone again', async () => {
		const {site, collection, ids} = cmsSite('ledger-cms-mixed');
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST});
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: join(dir, 'ledger')};
		const asset = [...site.assets.keys()].at(-1)!;
		const input = await writeCsv(join(dir, 'mixed.csv'), [[...HEADER, 'assetId'], [...row(site, collection, ids[0]!, 1, 'CMS alt'), ''], [site.id, '', '', '', '', '', '', 'Asset alt', '', asset]]);
		const ran = await runCli(['run', input, '--api-base', sandbox.url, '--site', site.id], {env});
		expect(ran.code, ran.stderr).toBe(0);
		const assetAlt = () => site.assets.get(asset)!.altText.get(site.primaryLocale) ?? '';
		expect([stagedAlts(collection, ids[0]!)[1], liveAlts(collection, ids[0]!)[1], assetAlt()]).toEqual(['CMS alt', 'CMS alt', 'Asset alt']);
		const undone = await runCli(['undo', '--last', '--allow-clear'], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect([stagedAlts(collection, ids[0]!)[1], liveAlts(collection, ids[0]!)[1], assetAlt()]).toEqual(['', '', '']);
		const [undoRun] = history({ledger: join(dir, 'ledger'), site: undefined});
		const redone = await runCli(['undo', undoRun!.results!, '--site', site.id, '--api-base', sandbox.url], {env});
		expect(redone.code, redone.stderr).toBe(0);
		expect([stagedAlts(collection, ids[0]!)[1], liveAlts(collection, ids[0]!)[1], assetAlt()]).toEqual(['CMS alt', 'CMS alt', 'Asset alt']);
	});

	it('our own CMS writes are ours: an exported sheet edited again after its run is an update, staged and live, not a conflict blaming that run', async () => {
		const {site, collection, ids} = cmsSite('ledger-cms-ours');
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST});
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: join(dir, 'ledger')};
		const sheet = async (alt: string) => writeCsv(join(dir, 'export.csv'), [HEADER, row(site, collection, ids[0]!, 0, alt, '')]);
		const input = await sheet('Edited once');
		expect((await runCli(['run', input, '--api-base', sandbox.url], {env})).code).toBe(0);
		await sheet('Edited twice');
		const again = await runCli(['run', input, '--api-base', sandbox.url], {env});
		expect(again.code, again.stderr).toBe(0);
		expect((await results(join(dir, 'export.results.csv')))[0]).toMatchObject({status: 'updated', live: 'yes'});
		expect([stagedAlts(collection, ids[0]!)[0], liveAlts(collection, ids[0]!)[0]]).toEqual(['Edited twice', 'Edited twice']);

		// An editor's change is still a conflict.
		draft(sandbox, collection, ids[0]!, 0, 'An editor wrote this');
		await sheet('Edited thrice');
		const third = await runCli(['run', input, '--api-base', sandbox.url], {env});
		expect(third.code).toBe(1);
		expect((await results(join(dir, 'export.results.csv')))[0]).toMatchObject({status: 'conflict'});
	});

	it('undo <results.csv> takes back the staged write of a row that failed because its live write did not land', async () => {
		const {site, collection, ids} = cmsSite('ledger-cms-live-failed');
		const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: FAST, slowMs: 1500});
		sandbox.failNextFor(collection.id, 'slow');
		const dir = await tempDir();
		const env = {WEBFLOW_TOKEN: TOKEN, ALTBATCH_LEDGER: join(dir, 'ledger')};
		const input = await writeCsv(join(dir, 'cms.csv'), [HEADER, row(site, collection, ids[0]!, 0, 'Staged only')]);
		const {done} = spawnCli(['run', input, '--api-base', sandbox.url], {env});
		// While the staged write's answer is held back, the item is unpublished: its live write is refused (409).
		await until(() => patchesSent(sandbox).length === 1);
		variant(collection, ids[0]!).live = undefined;
		const ran = await done;
		expect(ran.code).toBe(1);
		const out = join(dir, 'cms.results.csv');
		expect((await results(out))[0]).toMatchObject({status: 'failed'});
		expect(stagedAlts(collection, ids[0]!)[0]).toBe('Staged only');
		const undone = await runCli(['undo', out, '--api-base', sandbox.url], {env});
		expect(undone.code, undone.stderr).toBe(0);
		expect(stagedAlts(collection, ids[0]!)[0]).toBe('');
	});
});

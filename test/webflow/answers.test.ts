import {createServer} from 'node:http';
import {type AddressInfo} from 'node:net';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {addDemoCollections, addGalleryCollection} from '../../src/sandbox/cms-demo.js';
import type {ImageValue} from '../../src/sandbox/cms.js';
import {withDemoPages} from '../../src/sandbox/pages.js';
import {demoSite, newSite, objectId} from '../../src/sandbox/state.js';
import {assetIds, makeSite, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

/**
 * Answers the description allows that our sandbox never sends, through a loopback proxy in front of
 * it that rewrites JSON bodies: a list without the array the description does not require, an asset
 * without its (required) `altText`.
 */

const FAST = {count: 100_000, windowMs: 1000};
const env = {WEBFLOW_TOKEN: 'sandbox-token'};

async function rewritingProxy(target: string, rewrite: (path: string, body: Record<string, unknown>) => void): Promise<string> {
	const server = createServer(async (incoming, outgoing) => {
		const chunks: Buffer[] = [];
		for await (const chunk of incoming) {
			chunks.push(chunk as Buffer);
		}

		const body = Buffer.concat(chunks);
		const headers = Object.fromEntries(Object.entries(incoming.headers).filter(([name]) => ['authorization', 'content-type'].includes(name))) as Record<string, string>;
		const answer = await fetch(`${target}${incoming.url ?? '/'}`, {method: incoming.method, headers, body: body.length === 0 ? undefined : body});
		const json = await answer.json() as Record<string, unknown>;
		rewrite(new URL(incoming.url ?? '/', 'http://x').pathname, json);
		outgoing.writeHead(answer.status, {'content-type': 'application/json'});
		outgoing.end(JSON.stringify(json));
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('answers as the description allows them', () => {
	it('an asset answer without altText is bad_response, never "no alt text" that --only-missing would overwrite', async () => {
		const site = makeSite({label: 'answers-alt', count: 2});
		const [a] = assetIds(site) as [string];
		site.assets.get(a)!.altText.set(site.primaryLocale, 'An editor\'s alt');
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		// The list (read first) shows no alt yet; the asset read again just before the write comes without altText.
		const proxy = await rewritingProxy(sandbox.url, (path, body) => {
			if (path.startsWith('/v2/assets/')) {
				delete body.altText;
			}

			for (const asset of (body.assets as Array<Record<string, unknown>> | undefined) ?? []) {
				asset.altText = null;
			}
		});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a, 'From the sheet']]);
		const run = await runCli(['run', input, '--only-missing', '--site', site.id, '--api-base', proxy], {env});
		expect(run.code, run.stderr).toBe(1);
		expect((await results(join(dir, 'jobs.results.csv')))[0]).toMatchObject({status: 'failed', error_code: 'bad_response'});
		expect(sandbox.asset(a)!.altText.get(site.primaryLocale)).toBe('An editor\'s alt');
		// The same in a list page: the export is not written rather than saying "no alt text".
		const listed = await rewritingProxy(sandbox.url, (path, body) => {
			for (const asset of (body.assets as Array<Record<string, unknown>> | undefined) ?? []) {
				delete asset.altText;
			}
		});
		const exported = await runCli(['export', '--site', site.id, '--missing-only', '--api-base', listed, '--out', join(dir, 'missing.csv')], {env});
		expect(exported.code).not.toBe(0);
	});

	it('a DOM or properties page without its list (not required) holds nothing: the pages part is still audited', async () => {
		const sandbox = await startSandbox({sites: [withDemoPages(addDemoCollections(demoSite()))], rate: FAST});
		const site = [...sandbox.sites.keys()][0]!;
		const proxy = await rewritingProxy(sandbox.url, (path, body) => {
			if (path.includes('/components/') && path.endsWith('/dom')) {
				delete body.nodes;
			}

			if (path.endsWith('/properties')) {
				delete body.properties;
			}
		});
		const dir = await tempDir();
		const out = join(dir, 'audit.csv');
		const result = await runCli(['audit', '--site', site, '--api-base', proxy, '--out', out, '--json'], {env});
		expect(result.code, result.stderr).toBeLessThan(2);
		expect(result.stdout).not.toMatch(/"part":"(?:pages|components)"/);
		expect(await readFile(out, 'utf8')).toContain('/about');
	});

	it('a collection with nothing live (the live list answers 404) writes its staged items', async () => {
		const site = newSite(objectId('answers-live-404/site'), 0);
		const collection = addGalleryCollection({site, label: 'Drafts', items: 2, images: 1, draftEvery: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ids = [...collection.items.keys()];
		const fileOf = (itemId: string) => (collection.items.get(itemId)!.variants.values().next().value!.fieldData.gallery as ImageValue[])[0]!.fileId;
		const input = await writeCsv(join(dir, 'cms.csv'), [['siteId', 'collectionId', 'itemId', 'field', 'fileId', 'altText'], ...ids.map(id => [site.id, collection.id, id, 'gallery', fileOf(id), 'Draft alt'])]);
		const run = await runCli(['run', input, '--site', site.id, '--api-base', sandbox.url], {env});
		expect(run.code, run.stderr).toBe(0);
		expect(sandbox.requests.some(r => r.path.endsWith('/items/live') && r.status === 404)).toBe(true);
		expect((await results(join(dir, 'cms.results.csv'))).map(row => [row.status, row.live])).toEqual([['updated', 'staged'], ['updated', 'staged']]);
	});
});

import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {objectId} from '../../src/sandbox/state.js';
import {assetIds, makeSite, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

describe('a row keyed by a Webflow CDN URL whose asset does not exist', () => {
	it('ends not_in_site (http_status 404) when the PATCH answers 404 without --site, as the contract says', async () => {
		const site = makeSite({label: 'url-404', count: 1});
		const [a] = assetIds(site) as [string];
		const gone = objectId('url-404/deleted-asset');
		const sandbox = await startSandbox({sites: [site], rate: {count: 2000, windowMs: 1000}});
		const dir = await tempDir();
		const file = await writeCsv(join(dir, 'crawl.csv'), [
			['Destination', 'Alt Text'],
			[`https://cdn.prod.website-files.com/${site.id}/${a}_hero.jpg`, 'A red bicycle'],
			[`https://cdn.prod.website-files.com/${site.id}/${gone}_gone.jpg`, 'Never there'],
		]);
		const run = await runCli(['run', file, '--api-base', sandbox.url], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		expect(run.code).toBe(1);
		const out = await results(join(dir, 'crawl.results.csv'));
		expect(out[0]).toMatchObject({status: 'updated'});
		expect(out[1]).toMatchObject({status: 'failed', error_code: 'not_in_site', http_status: '404'});
		expect(out[1]!.error_message).toContain(gone);
	});
});

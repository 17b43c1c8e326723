import {join} from 'node:path';
import {writeFile} from 'node:fs/promises';
import {describe, expect, it} from 'vitest';
import {makeSite, patchesSent, spawnCli, startSandbox, tempDir, until, writeCsv} from '../helpers.js';
import {call} from './openapi.js';

type AssetBody = {id: string; altText: string | null; displayName: string; lastUpdated: string};

describe('the sandbox: clearing alt text, editors, and sites with their own tokens', () => {
	it('clears a locale\'s alt text when a PATCH sends an empty altText, leaving the other locales', async () => {
		const site = makeSite({label: 'sandbox-clear', count: 1, locales: 1});
		const [id] = site.assets.keys();
		const secondary = site.secondaryLocales[0]!;
		const sandbox = await startSandbox({sites: [site]});
		const token = 'sandbox-token';
		await call({url: sandbox.url, token, method: 'PATCH', path: `/v2/assets/${id}`, body: {altText: 'A dog'}});
		await call({url: sandbox.url, token, method: 'PATCH', path: `/v2/assets/${id}?localeId=${secondary}`, body: {altText: 'Un chien'}});
		const cleared = await call({url: sandbox.url, token, method: 'PATCH', path: `/v2/assets/${id}`, body: {altText: ''}});
		expect(cleared.status).toBe(200);
		expect((cleared.body as AssetBody).altText).toBeNull();
		expect(((await call({url: sandbox.url, token, path: `/v2/assets/${id}`})).body as AssetBody).altText).toBeNull();
		expect(((await call({url: sandbox.url, token, path: `/v2/assets/${id}?localeId=${secondary}`})).body as AssetBody).altText).toBe('Un chien');
	});

	it('lets a test change an asset as an editor would, moving lastUpdated on', async () => {
		const site = makeSite({label: 'sandbox-editor', count: 1, locales: 1});
		const [id] = site.assets.keys() as unknown as [string];
		const sandbox = await startSandbox({sites: [site]});
		const before = (await call({url: sandbox.url, token: 'sandbox-token', path: `/v2/assets/${id}`})).body as AssetBody;
		sandbox.editAsset({id, altText: 'Fixed by the editor', displayName: 'hero.jpg'});
		sandbox.editAsset({id, localeId: site.secondaryLocales[0], altText: 'Corrigé'});
		const after = (await call({url: sandbox.url, token: 'sandbox-token', path: `/v2/assets/${id}`})).body as AssetBody;
		expect(after).toMatchObject({altText: 'Fixed by the editor', displayName: 'hero.jpg'});
		expect(Date.parse(after.lastUpdated)).toBeGreaterThan(Date.parse(before.lastUpdated));
		expect(sandbox.asset(id)!.altText.get(site.secondaryLocales[0]!)).toBe('Corrigé');
		// Two edits in one millisecond still move it on.
		const first = sandbox.editAsset({id, altText: ''}).lastUpdated;
		expect(Date.parse(sandbox.editAsset({id, displayName: 'x.jpg'}).lastUpdated)).toBeGreaterThan(Date.parse(first));
		expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toBeNull();
		expect(() => sandbox.editAsset({id: 'f'.repeat(24), altText: 'x'})).toThrow(/no asset/);
		expect(() => sandbox.editAsset({id, localeId: 'e'.repeat(24), altText: 'x'})).toThrow(/locale/);
		expect(patchesSent(sandbox)).toEqual([]);
	});

	it('refuses a site token on another site\'s assets and list as Webflow does, and introspect names only its site', async () => {
		const [a, b] = ['a', 'b'].map(label => makeSite({label: `sandbox-scope-${label}`, count: 2})) as [ReturnType<typeof makeSite>, ReturnType<typeof makeSite>];
		const sandbox = await startSandbox({sites: [a, b], tokens: [{token: 'token-a', siteIds: [a.id]}, {token: 'token-b', siteIds: [b.id]}]});
		const [ofB] = b.assets.keys();
		const {url} = sandbox;
		for (const answer of [
			await call({url, token: 'token-a', path: `/v2/assets/${ofB}`}),
			await call({url, token: 'token-a', method: 'PATCH', path: `/v2/assets/${ofB}`, body: {altText: 'not yours'}}),
			await call({url, token: 'token-a', path: `/v2/sites/${b.id}/assets`}),
		]) {
			expect(answer.status).toBe(404);
			expect(answer.body).toMatchObject({code: 'resource_not_found'});
		}

		expect(sandbox.asset(ofB!)!.altText.get(b.primaryLocale)).toBeNull();
		expect((await call({url, token: 'token-b', method: 'PATCH', path: `/v2/assets/${ofB}`, body: {altText: 'mine'}})).status).toBe(200);
		expect((await call({url, token: 'token-a', path: `/v2/sites/${a.id}/assets`})).status).toBe(200);
		const introspect = await call({url, token: 'token-b', path: '/v2/token/introspect'});
		expect((introspect.body as {authorization: {authorizedTo: {siteIds: string[]}}}).authorization.authorizedTo.siteIds).toEqual([b.id]);
		// The default single token still reaches every site.
		const open = await startSandbox({sites: [a, b]});
		expect((await call({url: open.url, token: 'sandbox-token', path: `/v2/assets/${ofB}`})).status).toBe(200);
	});

	it('serves a seeded file of several sites from the CLI, each site through the token the tokens file gives it', async () => {
		const dir = await tempDir();
		const [siteA, siteB] = ['0123456789abcdef01234567', '89abcdef0123456789abcdef'];
		const [assetA, assetB] = ['a'.repeat(24), 'b'.repeat(24)];
		const seed = await writeCsv(join(dir, 'seed.csv'), [['siteId', 'assetId', 'altText', 'displayName'], [siteA, assetA, 'alt a', 'a.jpg'], [siteB, assetB, '', 'b.jpg']]);
		const tokens = join(dir, 'tokens.txt');
		await writeFile(tokens, `# one token per client site\n${siteA}=token-a\n${siteB}=token-b\n`);
		const {child, done} = spawnCli(['sandbox', '--port', '0', '--seed', seed, '--tokens', tokens]);
		let out = '';
		child.stdout!.on('data', (chunk: Buffer) => {
			out += chunk.toString();
		});
		await until(() => /Site: 89abcdef/.test(out));
		const url = /Sandbox: (\S+)/.exec(out)![1]!;
		expect(out).not.toContain('token-');
		expect((await call({url, token: 'token-a', path: `/v2/assets/${assetA}`})).body).toMatchObject({altText: 'alt a'});
		expect((await call({url, token: 'token-a', path: `/v2/assets/${assetB}`})).status).toBe(404);
		expect((await call({url, token: 'token-b', path: `/v2/assets/${assetB}`})).status).toBe(200);
		expect((await call({url, token: 'sandbox-token', path: `/v2/assets/${assetB}`})).status).toBe(401);
		const introspect = await call({url, token: 'token-a', path: '/v2/token/introspect'});
		expect((introspect.body as {authorization: {authorizedTo: {siteIds: string[]}}}).authorization.authorizedTo.siteIds).toEqual([siteA]);
		child.kill('SIGTERM');
		expect((await done).code).toBe(0);
	});
});

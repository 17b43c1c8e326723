import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {readCsvFile} from '../../src/files/csv/input.js';
import {siteTokens, type Sandbox} from '../../src/sandbox/server.js';
import {assetIds, makeSite, patchesSent, results, runCli, runJob, startSandbox, tempDir, text, writeCsv} from '../helpers.js';

describe('many sites in one file with --tokens', () => {
	it('routes rows by siteId to each site\'s token, side by side, each on its own budget', async () => {
		const sites = ['a', 'b', 'c'].map(label => makeSite({label: `agency-${label}`, count: 20}));
		const sandbox = await startSandbox({
			sites,
			rate: {count: 10, windowMs: 1000},
			tokens: sites.map((site, i) => ({token: `token-${i}`, siteIds: [site.id], rate: {count: 10, windowMs: 1000}})),
		});
		const dir = await tempDir();
		const rows = sites.flatMap(site => assetIds(site).map(id => [site.id, id, `alt for ${id}`]));
		// Sorted by site, as an agency's sheet often is: the reader must not wait on the first site.
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...rows]);
		const tokens = new Map(sites.map((site, i) => [site.id, `token-${i}`]));
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens});
		expect(summary.statuses.updated).toBe(60);
		expect(summary.tooManyRequests).toBe(0);
		// Side by side: every site has started before a quarter of all PATCHes were sent (no timing thresholds).
		const patches = patchesSent(sandbox);
		for (const i of [0, 1, 2]) {
			expect(patches.findIndex(r => r.token === `token#${i}`)).toBeLessThan(patches.length / 4);
		}

		expect(Object.keys(summary.sites!)).toHaveLength(3);
		for (const site of sites) {
			expect(summary.sites![site.id]!.statuses.updated).toBe(20);
			for (const id of assetIds(site)) {
				expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toBe(`alt for ${id}`);
			}
		}
	});

	it('a refused token stops only its own site\'s rows; the others finish', async () => {
		const sites = ['good', 'bad'].map(label => makeSite({label: `agency-${label}`, count: 5}));
		const sandbox = await startSandbox({sites, rate: {count: 100, windowMs: 1000}, tokens: [{token: 'good-token', siteIds: [sites[0]!.id]}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...sites.flatMap(site => assetIds(site).map(id => [site.id, id, 'alt'])), ['f'.repeat(24), 'e'.repeat(24), 'no token']]);
		const tokensFile = join(dir, 'tokens.txt');
		await writeFile(tokensFile, `# agency tokens\n${sites[0]!.id}=good-token\n${sites[1]!.id}=revoked-token\n`);
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--tokens', tokensFile, '--json']);
		expect(result.code).toBe(1);
		expect(result.stdout + result.stderr).not.toContain('revoked-token');
		expect(result.stdout + result.stderr).not.toContain('good-token');
		const rows = await results(join(dir, 'jobs.results.csv'));
		expect(rows.slice(0, 5).every(r => r.status === 'updated')).toBe(true);
		expect(rows.slice(5, 10).map(r => r.status).sort()).toEqual(['failed', 'not_attempted', 'not_attempted', 'not_attempted', 'not_attempted']);
		expect(rows.slice(6, 10).every(r => r.error_code === 'aborted')).toBe(true);
		expect(rows[10]).toMatchObject({status: 'invalid', error_code: 'no_token_for_site'});
		const summary = JSON.parse(result.stdout) as {stopped: unknown; sites: Record<string, {stopped?: {reason: string}}>};
		expect(summary.stopped).toBeUndefined();
		expect(summary.sites[sites[1]!.id]!.stopped!.reason).toBe('auth');
		// The refused token is the one on line 3 of the tokens file, not WEBFLOW_TOKEN.
		expect(summary.sites[sites[1]!.id]!.stopped!.message).toContain(`${tokensFile}:3`);
		expect(JSON.stringify(summary.sites[sites[1]!.id]!.stopped)).not.toContain('WEBFLOW_TOKEN');
		expect(rows.slice(6, 10).every(r => r.error_message!.includes(`${tokensFile}:3`))).toBe(true);
	});

	it('sites that share one token (a workspace token) share its budget', async () => {
		const sites = ['x', 'y'].map(label => makeSite({label: `workspace-${label}`, count: 25}));
		const sandbox = await startSandbox({sites, rate: {count: 10, windowMs: 1000}, tokens: [{token: 'workspace-token', introspect: false}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...sites.flatMap(site => assetIds(site).map(id => [site.id, id, 'alt']))]);
		const tokens = new Map(sites.map(site => [site.id, 'workspace-token']));
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens, rate: {count: 10, windowMs: 1000}});
		expect(summary.statuses.updated).toBe(50);
		expect(summary.tooManyRequests).toBe(0);
		expect(summary.requests).toBe(sandbox.requests.length);
	});
});

/** Three client sites, each with its own site token (a token on another site's asset answers 404, as on Webflow). */
async function threeClients({count = 6, rate = {count: 50, windowMs: 1000}}: {count?: number; rate?: {count: number; windowMs: number}} = {}) {
	const sites = ['north', 'east', 'west'].map(label => makeSite({label: `client-${label}`, count, locales: 1}));
	for (const site of sites) {
		for (const [i, asset] of [...site.assets.values()].entries()) {
			asset.altText.set(site.primaryLocale, i % 2 === 0 ? `Alt ${i} of ${site.id.slice(-4)}` : null);
		}
	}

	const pairs = sites.map((site, i) => [site.id, `client-token-${i}`] as const);
	const sandbox = await startSandbox({sites, rate, tokens: siteTokens(pairs).map(token => ({...token, rate}))});
	const dir = await tempDir();
	const tokensFile = join(dir, 'tokens.txt');
	await writeFile(tokensFile, `# one line per client\n${pairs.map(([site, token]) => `${site}=${token}`).join('\n')}\n`);
	return {sites, sandbox, dir, tokensFile, tokens: new Map(pairs)};
}

type Sheet = {header: string[]; rows: string[][]};

async function readSheet(path: string): Promise<Sheet> {
	const records: string[][] = [];
	await readCsvFile({path, onRecord: ({fields}) => void records.push(fields)});
	return {header: records[0]!, rows: records.slice(1)};
}

/** Which sites each token's requests touched (by the asset or list path), from the sandbox's log. */
function sitesTouchedByToken(sandbox: Sandbox): Map<string, Set<string>> {
	const touched = new Map<string, Set<string>>();
	for (const request of sandbox.requests) {
		const listed = /\/sites\/([\da-f]{24})\/assets/.exec(request.path)?.[1];
		const asset = /\/assets\/([\da-f]{24})/.exec(request.path)?.[1];
		const site = listed ?? (asset === undefined ? undefined : sandbox.asset(asset)?.siteId);
		if (site !== undefined && request.token !== undefined) {
			touched.set(request.token, new Set([...touched.get(request.token) ?? [], site]));
		}
	}

	return touched;
}

describe('agencies: every client site in one run', () => {
	it('twelve sites with their own tokens run and export without Node warning of a listener leak', async () => {
		const sites = Array.from({length: 12}, (_, i) => makeSite({label: `many-clients-${i}`, count: 2}));
		const pairs = sites.map((site, i) => [site.id, `many-token-${i}`] as const);
		const sandbox = await startSandbox({sites, rate: {count: 100, windowMs: 1000}, tokens: siteTokens(pairs)});
		const dir = await tempDir();
		const tokensFile = join(dir, 'tokens.txt');
		await writeFile(tokensFile, pairs.map(([site, token]) => `${site}=${token}\n`).join(''));
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...sites.flatMap(site => assetIds(site).map(id => [site.id, id, 'alt']))]);
		const result = await runCli(['run', input, '--api-base', sandbox.url, '--tokens', tokensFile, '--prefetch', '--concurrency', '2']);
		expect(result.code).toBe(0);
		expect(result.stderr).not.toContain('MaxListenersExceededWarning');
		const exported = await runCli(['export', '--tokens', tokensFile, '--api-base', sandbox.url, '--out', join(dir, 'all.csv')]);
		expect(exported.code).toBe(0);
		expect(exported.stderr).not.toContain('MaxListenersExceededWarning');
	});

	it('export --tokens writes every site of the tokens file into one file with a siteId column, each through its own token', async () => {
		const {sites, sandbox, dir, tokensFile} = await threeClients();
		const out = join(dir, 'all-clients.csv');
		const result = await runCli(['export', '--tokens', tokensFile, '--api-base', sandbox.url, '--out', out, '--json']);
		expect(result.code).toBe(0);
		const sheet = await readSheet(out);
		expect(sheet.header.slice(0, 5)).toEqual(['siteId', 'assetId', 'localeId', 'displayName', 'altText']);
		expect(sheet.header).toContain('exportedAltText');
		expect(sheet.rows).toHaveLength(18);
		for (const site of sites) {
			expect(sheet.rows.filter(row => row[0] === site.id).map(row => row[1]).sort()).toEqual(assetIds(site).sort());
		}

		// Each token read only its own site.
		for (const [token, touched] of sitesTouchedByToken(sandbox)) {
			expect([token, touched.size]).toEqual([token, 1]);
		}

		const summary = JSON.parse(result.stdout) as {rows: number; sites: Record<string, {rows: number; requests: number}>};
		expect(Object.values(summary.sites).map(site => site.rows)).toEqual([6, 6, 6]);
		// One introspect and one list page per site.
		expect(Object.values(summary.sites).map(site => site.requests)).toEqual([2, 2, 2]);
		expect(result.stderr).toContain(`site ${sites[1]!.id}: 6 rows`);
	});

	it('export --tokens --missing-only --locale exports only the assets without alt text in each site\'s own locales', async () => {
		const {sites, sandbox, dir, tokensFile} = await threeClients();
		const out = join(dir, 'missing.csv');
		// Each site's locale ids are its own: a locale of site 0 is not one of site 1's or 2's.
		const result = await runCli(['export', '--tokens', tokensFile, '--api-base', sandbox.url, '--out', out, '--missing-only', '--locale', sites[0]!.primaryLocale, '--locale', sites[1]!.primaryLocale, '--locale', sites[2]!.primaryLocale]);
		expect(result.code).toBe(0);
		const sheet = await readSheet(out);
		expect(sheet.rows).toHaveLength(9);
		expect(sheet.rows.every(row => row[sheet.header.indexOf('altText')] === '')).toBe(true);
		expect(result.stderr).toContain('not a locale of this site');
		const typo = await runCli(['export', '--tokens', tokensFile, '--api-base', sandbox.url, '--out', join(dir, 'typo.csv'), '--locale', 'f'.repeat(24)]);
		expect(typo.code).toBe(3);
	});

	it('export --tokens: a refused token stops only its site, named in the summary and the exit code; the others are written', async () => {
		const {sites, sandbox, dir, tokens} = await threeClients();
		const tokensFile = join(dir, 'tokens-revoked.txt');
		await writeFile(tokensFile, `${sites[0]!.id}=${tokens.get(sites[0]!.id)!}\n${sites[1]!.id}=revoked-token\n${sites[2]!.id}=${tokens.get(sites[2]!.id)!}\n`);
		const out = join(dir, 'all.csv');
		const result = await runCli(['export', '--tokens', tokensFile, '--api-base', sandbox.url, '--out', out]);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain(`site ${sites[1]!.id}: not exported`);
		expect(result.stderr + result.stdout).not.toContain('revoked-token');
		const sheet = await readSheet(out);
		expect(new Set(sheet.rows.map(row => row[0]))).toEqual(new Set([sites[0]!.id, sites[2]!.id]));
	});

	it('export → edit → run --tokens --prefetch across three sites: the sheet\'s edits are written, an editor\'s change after the export is kept', async () => {
		const {sites, sandbox, dir, tokensFile} = await threeClients();
		const out = join(dir, 'all-clients.csv');
		expect((await runCli(['export', '--tokens', tokensFile, '--api-base', sandbox.url, '--out', out])).code).toBe(0);
		const sheet = await readSheet(out);
		const alt = sheet.header.indexOf('altText');
		// The agency fills the empty alt texts of every site, and rewrites one the editor also changes.
		const missing = sheet.rows.filter(row => row[alt] === '');
		for (const row of missing) {
			row[alt] = `Described by the agency: ${row[1]!.slice(-4)}`;
		}

		const contested = sheet.rows.find(row => row[0] === sites[1]!.id && row[alt] !== '' && !missing.includes(row))!;
		contested[alt] = 'The agency\'s rewrite';
		const untouched = sheet.rows.find(row => row[0] === sites[2]!.id && !missing.includes(row))!;
		await writeCsv(out, [sheet.header, ...sheet.rows]);
		// After the export, the clients' editors change two assets in the Designer.
		sandbox.editAsset({id: contested[1]!, altText: 'The editor\'s fix'});
		sandbox.editAsset({id: untouched[1]!, altText: 'Another editor\'s fix'});
		sandbox.requests.length = 0;

		const dry = await runCli(['run', out, '--tokens', tokensFile, '--prefetch', '--dry-run', '--api-base', sandbox.url, '--json']);
		const preview = JSON.parse(dry.stdout) as {statuses: Record<string, number>; estimatedRequests: number; sites: Record<string, {statuses: Record<string, number>; estimatedRequests: number; conflicts: number}>};
		expect(dry.code).toBe(1);
		expect(preview.statuses).toMatchObject({would_update: missing.length, conflict: 1, skipped: 1});
		expect(patchesSent(sandbox)).toHaveLength(0);
		expect(preview.sites[sites[1]!.id]!.conflicts).toBe(1);
		// Per site its token's introspect and one list page, one PATCH per changed row.
		expect(preview.estimatedRequests).toBe(3 + 3 + missing.length);

		sandbox.requests.length = 0;
		const result = await runCli(['run', out, '--tokens', tokensFile, '--prefetch', '--api-base', sandbox.url, '--json', '--report', join(dir, 'report.html')]);
		expect(result.code).toBe(1);
		const summary = JSON.parse(result.stdout) as typeof preview & {requests: number; sites: Record<string, {requests: number; listRequests: number}>};
		expect(summary.statuses).toMatchObject({updated: missing.length, conflict: 1, skipped: 1, unchanged: 18 - missing.length - 2});
		expect(sandbox.asset(contested[1]!)!.altText.get(sites[1]!.primaryLocale)).toBe('The editor\'s fix');
		expect(sandbox.asset(untouched[1]!)!.altText.get(sites[2]!.primaryLocale)).toBe('Another editor\'s fix');
		for (const row of missing) {
			expect(sandbox.asset(row[1]!)!.altText.get(sandbox.sites.get(row[0]!)!.primaryLocale)).toBe(row[alt]);
		}

		// Per site: its introspect, one list page and one PATCH per changed row, each through its own token.
		for (const site of sites) {
			const changed = missing.filter(row => row[0] === site.id).length;
			expect(summary.sites[site.id]).toMatchObject({requests: 2 + changed, listRequests: 1, conflicts: site === sites[1] ? 1 : 0});
		}

		expect(summary.requests).toBe(sandbox.requests.length);
		// The dry run's cost was the real run's, in all and per site.
		expect(preview.estimatedRequests).toBe(summary.requests);
		for (const site of sites) {
			expect(preview.sites[site.id]!.estimatedRequests).toBe(summary.sites[site.id]!.requests);
		}

		for (const [token, touched] of sitesTouchedByToken(sandbox)) {
			expect([token, touched.size]).toEqual([token, 1]);
		}

		const rows = await results(join(dir, 'all-clients.results.csv'));
		expect(rows.find(row => row.assetId === contested[1])).toMatchObject({status: 'conflict', previous_alt_text: 'The editor\'s fix'});
		expect(rows.find(row => row.assetId === untouched[1])).toMatchObject({status: 'skipped', error_code: 'changed_on_site'});
		const report = await text(join(dir, 'report.html'));
		expect(report).toContain('<table id="sites">');
		for (const site of sites) {
			expect(report).toContain(site.id);
		}

		// The conflict is listed under its site.
		const conflicts = report.slice(report.indexOf('<table id="conflict-rows">'));
		expect(conflicts).toContain(`<th>site</th>`);
		expect(conflicts.slice(conflicts.indexOf('<tbody>'), conflicts.indexOf('</tbody>'))).toContain(`<td>${sites[1]!.id}</td>`);
	});

	it('undo --tokens --prefetch of an agency run restores each site through its own token, except where an editor changed the asset since', async () => {
		const {sites, sandbox, dir, tokensFile} = await threeClients();
		const out = join(dir, 'all-clients.csv');
		expect((await runCli(['export', '--tokens', tokensFile, '--api-base', sandbox.url, '--out', out])).code).toBe(0);
		const sheet = await readSheet(out);
		const alt = sheet.header.indexOf('altText');
		const before = new Map(sheet.rows.map(row => [row[1]!, row[alt]!]));
		// The agency rewrites every alt text that is there (an empty one would need --allow-clear to put back).
		const rewritten = sheet.rows.filter(row => row[alt] !== '');
		for (const row of rewritten) {
			row[alt] = `Rewritten: ${row[1]!.slice(-4)}`;
		}

		await writeCsv(out, [sheet.header, ...sheet.rows]);
		expect((await runCli(['run', out, '--tokens', tokensFile, '--prefetch', '--api-base', sandbox.url])).code).toBe(0);
		// After the run, the client of the third site fixes one of the rewritten assets again.
		const touched = rewritten.find(row => row[0] === sites[2]!.id)!;
		sandbox.editAsset({id: touched[1]!, altText: 'The client\'s own words'});
		sandbox.requests.length = 0;
		const undone = await runCli(['undo', join(dir, 'all-clients.results.csv'), '--tokens', tokensFile, '--prefetch', '--api-base', sandbox.url, '--json']);
		expect(undone.code).toBe(1);
		const summary = JSON.parse(undone.stdout) as {statuses: Record<string, number>; requests: number; sites: Record<string, {requests: number; conflicts: number}>};
		expect(summary.statuses).toMatchObject({updated: rewritten.length - 1, conflict: 1});
		for (const row of rewritten) {
			const now = sandbox.asset(row[1]!)!.altText.get(sandbox.sites.get(row[0]!)!.primaryLocale);
			expect(now).toBe(row === touched ? 'The client\'s own words' : before.get(row[1]!));
		}

		// Per site: its introspect, one list page, one PATCH per restored row; each token on its own site.
		for (const site of sites) {
			const restored = rewritten.filter(row => row[0] === site.id && row !== touched).length;
			expect(summary.sites[site.id]).toMatchObject({requests: 2 + restored, conflicts: site === sites[2] ? 1 : 0});
		}

		for (const [token, reached] of sitesTouchedByToken(sandbox)) {
			expect([token, reached.size]).toEqual([token, 1]);
		}
	});

	it('a nightly --only-missing --prefetch across sites re-reads before each write: alt text an editor adds mid-run is never overwritten', async () => {
		const {sites, sandbox, dir, tokens} = await threeClients({count: 10, rate: {count: 8, windowMs: 1000}});
		const rows = sites.flatMap(site => assetIds(site).map(id => [site.id, id, `Nightly alt for ${id.slice(-4)}`]));
		const input = await writeCsv(join(dir, 'nightly.csv'), [['siteId', 'assetId', 'altText'], ...rows]);
		// The last empty asset of the second site: read long after the run has begun.
		const late = assetIds(sites[1]!).filter(id => sandbox.asset(id)!.altText.get(sites[1]!.primaryLocale) === null).at(-1)!;
		let edited = false;
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens, prefetch: true, onlyMissing: true}, {
			onProgress(progress) {
				if (!edited && progress.done > 15) {
					edited = true;
					sandbox.editAsset({id: late, altText: 'Written by an editor during the run'});
				}
			},
		});
		expect(edited).toBe(true);
		expect(sandbox.asset(late)!.altText.get(sites[1]!.primaryLocale)).toBe('Written by an editor during the run');
		const out = await results(`${input}.results.csv`);
		expect(out.find(row => row.assetId === late)).toMatchObject({status: 'skipped', error_code: 'has_alt_text'});
		// Half the assets had alt text at the prefetch: skipped without a request; the rest filled.
		expect(summary.statuses).toMatchObject({updated: 14, skipped: 16});
		for (const site of sites) {
			// Introspect, one list page, and per empty asset one GET and (but the editor's) one PATCH.
			const written = out.filter(row => row.siteId === site.id && row.status === 'updated').length;
			const read = out.filter(row => row.siteId === site.id && (row.status === 'updated' || row.error_message.includes('Written by an editor'))).length;
			expect(summary.sites![site.id]!.requests).toBe(2 + read + written);
		}
	});

	it('--prefetch without --tokens reads every site of the siteId column through WEBFLOW_TOKEN (a workspace token)', async () => {
		const sites = ['one', 'two'].map(label => makeSite({label: `workspace-prefetch-${label}`, count: 3}));
		const sandbox = await startSandbox({sites, rate: {count: 100, windowMs: 1000}});
		const dir = await tempDir();
		const [a, b] = sites.map(site => assetIds(site));
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['siteId', 'assetId', 'altText'],
			[sites[0]!.id, a![0]!, 'New alt'],
			[sites[1]!.id, b![0]!, 'New alt too'],
			// An asset of the first site filed under the second: not in that site, and nothing sent for it.
			[sites[1]!.id, a![1]!, 'Wrong site'],
			['', b![2]!, 'No site'],
		]);
		const summary = await runJob({input, apiBase: sandbox.url, prefetch: true});
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(row => [row.status, row.error_code])).toEqual([['updated', ''], ['updated', ''], ['failed', 'not_in_site'], ['invalid', 'no_site_id']]);
		// The row without a siteId counts under `default`: the sites add up to the total.
		expect(Object.keys(summary.sites!).sort()).toEqual([...sites.map(site => site.id), 'default'].sort());
		expect(summary.sites!.default).toMatchObject({statuses: {invalid: 1}, requests: 0});
		// One introspect for the token, one list page per site, two PATCHes.
		expect(summary.requests).toBe(5);
		expect(sandbox.requests.filter(r => r.method === 'GET' && r.path.endsWith('/introspect'))).toHaveLength(1);
	});

	it('--prefetch refuses a file without a siteId column, before anything is sent', async () => {
		const site = makeSite({label: 'prefetch-no-column', count: 1});
		const sandbox = await startSandbox({sites: [site]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [assetIds(site)[0]!, 'alt']]);
		await expect(runJob({input, apiBase: sandbox.url, prefetch: true})).rejects.toThrow(/siteId column/);
		expect(sandbox.requests).toHaveLength(0);
	});

	it('--site with --tokens runs the one site through its token from the file', async () => {
		const {sites, sandbox, dir, tokens} = await threeClients();
		const rows = sites.flatMap(site => assetIds(site).slice(0, 1).map(id => [site.id, id, 'Only this site']));
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...rows]);
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens, site: sites[2]!.id});
		const out = await results(`${input}.results.csv`);
		expect(out.map(row => [row.status, row.error_code])).toEqual([['failed', 'not_in_site'], ['failed', 'not_in_site'], ['updated', '']]);
		expect(Object.keys(summary.sites!)).toEqual([sites[2]!.id]);
		expect([...sitesTouchedByToken(sandbox).keys()]).toEqual(['token#2']);
	});

	it('--prefetch with a token that cannot reach its site stops only that site', async () => {
		const {sites, sandbox, dir, tokens} = await threeClients();
		// The second site's line names the first site's token: introspect says it can't reach it.
		const crossed = new Map(tokens);
		crossed.set(sites[1]!.id, tokens.get(sites[0]!.id)!);
		const rows = sites.flatMap(site => assetIds(site).map(id => [site.id, id, 'Fresh alt']));
		const input = await writeCsv(join(dir, 'jobs.csv'), [['siteId', 'assetId', 'altText'], ...rows]);
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens: crossed, prefetch: true});
		expect(summary.stopped).toBeUndefined();
		expect(summary.sites![sites[1]!.id]!.stopped).toMatchObject({reason: 'auth'});
		expect(summary.sites![sites[1]!.id]!.statuses.not_attempted).toBe(6);
		expect(summary.sites![sites[0]!.id]!.statuses.updated + summary.sites![sites[0]!.id]!.statuses.unchanged).toBe(6);
		expect(summary.sites![sites[2]!.id]!.statuses.updated + summary.sites![sites[2]!.id]!.statuses.unchanged).toBe(6);
		expect(sandbox.requests.some(r => r.path.includes(sites[1]!.id))).toBe(false);
	});
});

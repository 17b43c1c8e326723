import {readdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULTS} from '../src/config.js';
import {exportSite} from '../src/export.js';
import {silentLogger} from '../src/logger.js';
import {newAsset, objectId} from '../src/sandbox/state.js';
import {assetIds, makeSite, runCli, runJob, startSandbox, tempDir, writeCsv} from './helpers.js';
import {parseStrict} from './rfc4180.js';

const TOKEN = 'sandbox-token';
const FAST = {count: 2000, windowMs: 1000};

describe('results and exports are whole, quoted right, and safe to open', () => {
	it('quotes a cell holding a bare line break (Excel\'s Alt+Enter), so every reader sees one record per row', async () => {
		const dir = await tempDir();
		const id = objectId('files/alt-enter');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'note'], [id, 'Line one\nline two', 'a\rb'], [id, 'plain', 'x']]);
		const out = join(dir, 'out.csv');
		await runJob({input, out, dryRun: true, token: undefined});
		const records = parseStrict(await readFile(out, 'utf8'));
		expect(records).toHaveLength(3);
		expect(records[1]!.slice(0, 4)).toEqual(['2', id, 'Line one\nline two', 'a\rb']);
		expect(records[2]!.slice(0, 3)).toEqual(['3', id, 'plain']);
	});

	it('export writes every server cell that a spreadsheet would run as a formula with a leading quote, and running it back sends nothing', async () => {
		const site = makeSite({label: 'files-formula', count: 3});
		const hostile = [
			{displayName: '=HYPERLINK("http://evil.example","click")', altText: '@SUM(A1:A9)', fileName: '+cmd.png'},
			{displayName: '-2+3', altText: '\tTabbed', fileName: 'plain.png'},
		];
		for (const [i, fields] of hostile.entries()) {
			const asset = newAsset({site, id: objectId(`files-formula/hostile/${i}`), fileName: fields.fileName, altText: fields.altText, displayName: fields.displayName});
			asset.altText.set(site.primaryLocale, fields.altText);
		}

		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const file = join(dir, 'assets.csv');
		await exportSite({...DEFAULTS, site: site.id, locales: [], missingOnly: false, out: file, apiBase: sandbox.url, token: TOKEN, rate: undefined, backoffBaseMs: 20}, {logger: silentLogger()});
		const records = parseStrict((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
		for (const record of records.slice(1)) {
			for (const cell of record) {
				expect(cell).not.toMatch(/^[=+\-@\t\r]/);
			}
		}

		const first = records.find(r => r[0] === objectId('files-formula/hostile/0'))!;
		expect(first[2]).toBe('\'=HYPERLINK("http://evil.example","click")');
		expect(first[3]).toBe('\'@SUM(A1:A9)');
		expect(first[5]).toBe('\'+cmd.png');

		const before = sandbox.requests.length;
		const summary = await runJob({input: file, apiBase: sandbox.url, site: site.id});
		expect(sandbox.requests.slice(before).filter(r => r.method === 'PATCH')).toHaveLength(0);
		expect(summary.statuses.unchanged).toBe(5);
		expect(sandbox.asset(objectId('files-formula/hostile/0'))!.displayName).toBe('=HYPERLINK("http://evil.example","click")');
	});

	it('a jobs cell that is a quote before a formula start sends the value without the quote', async () => {
		const site = makeSite({label: 'files-unquote', count: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const [id] = assetIds(site);
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'displayName', 'altText'], [id!, '\'=1+1', '\'plain quote']]);
		await runJob({input, apiBase: sandbox.url});
		expect(sandbox.asset(id!)!.displayName).toBe('=1+1');
		expect(sandbox.asset(id!)!.altText.get(site.primaryLocale)).toBe('\'plain quote');
	});

	it('an export cut short by a file-size limit fails, leaves no temporary file and keeps the earlier export', async () => {
		const site = makeSite({label: 'files-short-write', count: 80});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const out = join(dir, 'assets.csv');
		await writeFile(out, 'the earlier export\r\n');
		const cut = await runCli(['export', '--site', site.id, '--out', out, '--api-base', sandbox.url, '--log-level', 'silent'], {env: {WEBFLOW_TOKEN: TOKEN}, fileSizeLimitKb: 8});
		expect(cut.code).not.toBe(0);
		expect(cut.stderr).toMatch(/EFBIG|too large/i);
		expect(cut.stderr).not.toMatch(/\n\s+at /);
		expect(await readFile(out, 'utf8')).toBe('the earlier export\r\n');
		expect((await readdir(dir)).filter(name => name.endsWith('.tmp'))).toEqual([]);

		const whole = await runCli(['export', '--site', site.id, '--out', out, '--api-base', sandbox.url, '--log-level', 'silent'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(whole.code).toBe(0);
		expect(parseStrict((await readFile(out, 'utf8')).replace(/^\uFEFF/, ''))).toHaveLength(81);
	});
});

import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ResultsJournal} from '../../src/files/csv/journal.js';
import {assetIds, makeSite, patchesSent, results, runCli, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';
import {parseStrict} from '../files/csv/rfc4180.js';

const TOKEN = 'sandbox-token';
const FAST = {count: 2000, windowMs: 1000};

describe('--resume keeps "the last row wins"', () => {
	it('a row redone on resume never overwrites a later row of the same asset and locale that succeeded', async () => {
		const site = makeSite({label: 'resume-last-wins', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const [id, other] = assetIds(site);
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [id!, 'older text'], [other!, 'other asset'], [id!, 'newer text']]);
		const out = join(dir, 'jobs.results.csv');
		sandbox.failNextFor(id!, 'error500', 'error500');
		const first = await runCli(['run', input, '--api-base', sandbox.url, '--max-attempts', '2'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(first.code).toBe(1);
		expect((await results(out)).map(r => r.status)).toEqual(['failed', 'updated', 'updated']);
		expect(sandbox.asset(id!)!.altText.get(site.primaryLocale)).toBe('newer text');

		const patches = patchesSent(sandbox).length;
		const resumed = await runCli(['run', input, '--api-base', sandbox.url, '--resume'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(resumed.code, resumed.stderr).toBe(0);
		expect(patchesSent(sandbox).length).toBe(patches);
		expect(sandbox.asset(id!)!.altText.get(site.primaryLocale)).toBe('newer text');
		const rows = await results(out);
		expect(rows.map(r => [r.row, r.status, r.error_code])).toEqual([['2', 'skipped', 'superseded'], ['3', 'updated', ''], ['4', 'updated', '']]);
		expect(rows[0]!.error_message).toContain('row 4');
	});

	it('a failed later row is redone, and an earlier row whose later row also failed is redone before it', async () => {
		const site = makeSite({label: 'resume-both-failed', count: 1});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const [id] = assetIds(site);
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [id!, 'first'], [id!, 'second']]);
		const out = join(dir, 'jobs.results.csv');
		sandbox.failNextFor(id!, 'error500', 'error500');
		await runCli(['run', input, '--api-base', sandbox.url, '--max-attempts', '1'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect((await results(out)).map(r => r.status)).toEqual(['failed', 'failed']);
		const resumed = await runCli(['run', input, '--api-base', sandbox.url, '--resume'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(resumed.code, resumed.stderr).toBe(0);
		expect((await results(out)).map(r => r.status)).toEqual(['updated', 'updated']);
		expect(sandbox.asset(id!)!.altText.get(site.primaryLocale)).toBe('second');
	});
});

describe('the journal streams', () => {
	it('on resume cuts a torn last line and appends; at the end each row\'s last line, in row order', async () => {
		const dir = await tempDir();
		const path = join(dir, 'out.csv');
		const header = ['row', 'assetId', 'altText', 'status'];
		await writeFile(path, 'row,assetId,altText,status\r\n3,b,two,failed\r\n2,a,"one\r\nline",updated\r\n4,c,th');
		const seen: string[][] = [];
		const journal = await ResultsJournal.resume({path, header, onRecord: fields => seen.push([...fields])});
		expect(seen).toEqual([['3', 'b', 'two', 'failed'], ['2', 'a', 'one\r\nline', 'updated']]);
		expect(await readFile(path, 'utf8')).toBe('row,assetId,altText,status\r\n3,b,two,failed\r\n2,a,"one\r\nline",updated\r\n');
		journal.write(['4', 'c', 'three', 'updated']);
		journal.write(['3', 'b', 'two', 'updated']);
		journal.finish({lastRow: 4});
		expect(await readFile(path, 'utf8')).toBe('row,assetId,altText,status\r\n2,a,"one\r\nline",updated\r\n3,b,two,updated\r\n4,c,three,updated\r\n');
	});

	it('on resume under another header moves each cell to its column, ours after an input column of the same name', async () => {
		const dir = await tempDir();
		const path = join(dir, 'out.csv');
		await writeFile(path, 'row,assetId,status,status\r\n2,a,mine,updated\r\n');
		const journal = await ResultsJournal.resume({path, header: ['row', 'assetId', 'note', 'status', 'status'], onRecord: () => undefined});
		journal.finish({lastRow: 2});
		expect(parseStrict(await readFile(path, 'utf8'))).toEqual([['row', 'assetId', 'note', 'status', 'status'], ['2', 'a', '', 'mine', 'updated']]);
	});

	it('--resume of a results file with many rows carries them over, redoes the rest, and the file ends whole and in order', async () => {
		const site = makeSite({label: 'resume-many', count: 300});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const ids = assetIds(site);
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText', 'note'], ...ids.map((id, i) => [id, `alt ${i}`, i % 7 === 0 ? 'two\nlines' : ''])]);
		const out = join(dir, 'jobs.results.csv');
		await runJob({input, out, apiBase: sandbox.url});
		// As a kill leaves it: some rows missing, some failed, rows out of order, a torn line at the end.
		const lines = parseStrict(await readFile(out, 'utf8'));
		const kept = lines.slice(1).filter((_, i) => i % 5 !== 0).map(r => (Number(r[0]) % 11 === 0 ? [...r.slice(0, 4), 'failed', ...r.slice(5)] : r)).reverse();
		const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
		await writeFile(out, `${[lines[0]!, ...kept].map(r => r.map(quote).join(',')).join('\r\n')}\r\n2,torn`);
		const before = patchesSent(sandbox).length;
		const summary = await runJob({input, out, apiBase: sandbox.url, resume: true});
		const redone = patchesSent(sandbox).length - before;
		const expected = ids.filter((_, i) => i % 5 === 0 || (i + 2) % 11 === 0).length;
		expect(redone).toBe(expected);
		expect(summary.statuses.updated).toBe(300);
		const rows = parseStrict(await readFile(out, 'utf8'));
		expect(rows.slice(1).map(r => Number(r[0]))).toEqual(ids.map((_, i) => i + 2));
		expect(rows.slice(1).every(r => r[4] === 'updated')).toBe(true);
	});
});

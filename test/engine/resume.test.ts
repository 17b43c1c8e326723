import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {REPLAY_ROWS} from '../../src/engine/carried.js';
import {ResultsJournal} from '../../src/files/csv/journal.js';
import {resultHeader} from '../../src/rows/result.js';
import {assetIds, makeSite, patchesSent, results, runCli, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';
import {parseStrict} from '../files/csv/rfc4180.js';

const TOKEN = 'sandbox-token';

/** A results file read, then continued, as a resume opens it. */
async function continued(path: string, header: readonly string[]): Promise<ResultsJournal> {
	return ResultsJournal.continue({path, header, earlier: await ResultsJournal.read({path, header, onRecord() {}})});
}
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
		const journal = await ResultsJournal.continue({path, header, earlier: await ResultsJournal.read({path, header, onRecord: fields => seen.push([...fields])})});
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
		const journal = await continued(path, ['row', 'assetId', 'note', 'status', 'status']);
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

	it('reading the input once (the rows to redo kept by the check) ends every row as reading it twice does', async () => {
		// Two sandboxes alike: one resume reads the input once, the other (with --report) twice.
		const label = 'resume-once';
		const sites = [makeSite({label, count: 90}), makeSite({label, count: 90}), makeSite({label, count: 90})];
		const [first, once, twice] = await Promise.all(sites.map(async site => startSandbox({sites: [site], rate: FAST})));
		const ids = assetIds(sites[0]!);
		const dir = await tempDir();
		// Alt texts shared across assets (duplicates on carried and redone rows alike), placeholders,
		// rows of one asset twice (the last wins), an invalid row, and a note column to edit.
		const alt = (i: number) => (i % 9 === 0 ? 'image' : i % 4 === 0 ? 'photo.jpg' : `alt ${i % 13}`);
		const jobs = [['assetId', 'altText', 'note'], ...ids.map((id, i) => [id, alt(i), `n${i}`]), [ids[3]!, 'alt 3 again', ''], ['not-an-id', 'x', ''], [ids[50]!, alt(7), 'again']];
		const input = await writeCsv(join(dir, 'jobs.csv'), jobs);
		const out = join(dir, 'jobs.results.csv');
		await runJob({input, out, apiBase: first!.url});
		// As a kill leaves it: rows missing, failed, out of order; then the input edited: notes (carried
		// with today's cells) and alt texts (redone).
		const lines = parseStrict(await readFile(out, 'utf8'));
		// Row 5 failed and its asset's later row done: row 5 is superseded.
		const failed = (row: number) => row % 8 === 0 || row === 5;
		const kept = lines.slice(1).filter((_, i) => i % 6 !== 1 || i >= ids.length).map(r => (failed(Number(r[0])) ? [...r.slice(0, 4), 'failed', ...r.slice(5)] : r)).reverse();
		const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
		const earlier = `${[lines[0]!, ...kept].map(r => r.map(quote).join(',')).join('\r\n')}\r\n2,torn`;
		const edited = jobs.map((row, i) => (i > 0 && i % 10 === 3 ? [row[0]!, row[1]!, 'edited note'] : i > 0 && i % 10 === 7 ? [row[0]!, `${row[1]!} edited`, row[2]!] : row));
		await writeCsv(input, edited);
		const outOnce = join(dir, 'once.results.csv');
		const outTwice = join(dir, 'twice.results.csv');
		await writeFile(outOnce, earlier);
		await writeFile(outTwice, earlier);
		const readOnce = await runJob({input, out: outOnce, apiBase: once!.url, resume: true});
		const readTwice = await runJob({input, out: outTwice, apiBase: twice!.url, resume: true, report: join(dir, 'report.html')});
		const facts = (summary: typeof readOnce) => ({statuses: summary.statuses, warnings: summary.warnings, errorCodes: summary.errorCodes, carriedOver: summary.carriedOver});
		expect(facts(readOnce)).toEqual(facts(readTwice));
		expect(readOnce.carriedOver).toBeGreaterThan(50);
		expect(readOnce.statuses.invalid).toBe(1);
		expect(readOnce.errorCodes.superseded ?? 0).toBeGreaterThan(0);
		expect(readOnce.warnings?.alt_duplicate ?? 0).toBeGreaterThan(10);
		const withoutTimes = async (path: string) => parseStrict(await readFile(path, 'utf8')).map(r => r.map((cell, i) => (i === lines[0]!.indexOf('finished_at') ? '' : cell)));
		const rows = await withoutTimes(outOnce);
		expect(rows).toEqual(await withoutTimes(outTwice));
		expect(rows.filter(r => r[3] === 'edited note').length).toBeGreaterThan(5);
		expect(patchesSent(once!).length).toBe(patchesSent(twice!).length);
	});

	it('with more rows to redo than the check keeps, reads the input a second time and ends every row', async () => {
		const dir = await tempDir();
		const count = REPLAY_ROWS + 500;
		const id = (i: number) => i.toString(16).padStart(24, '0');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...Array.from({length: count}, (_, i) => [id(i), `alt ${i}`])]);
		const out = join(dir, 'jobs.results.csv');
		const header = resultHeader(['assetId', 'altText']);
		// A dry run's results, killed after 100 rows: nothing done, every row to redo (a dry run sends nothing).
		const dry = (i: number) => header.map(name => (name === 'row' ? String(i + 2) : name === 'assetId' ? id(i) : name === 'altText' ? `alt ${i}` : name === 'status' ? 'would_update' : name === 'attempts' ? '0' : '')).join(',');
		await writeFile(out, `${header.join(',')}\r\n${Array.from({length: 100}, (_, i) => `${dry(i)}\r\n`).join('')}`);
		const summary = await runJob({input, out, dryRun: true, resume: true});
		expect(summary.carriedOver).toBe(0);
		expect(summary.statuses.would_update).toBe(count);
		const rows = parseStrict(await readFile(out, 'utf8'));
		expect(rows.slice(1).map(r => Number(r[0]))).toEqual(Array.from({length: count}, (_, i) => i + 2));
	});
});

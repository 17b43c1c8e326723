import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {assetIds, jobsFor, makeSite, patchesSent, results, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';
import {requestsDuringRetryAfter} from '../sandbox/retry-after.js';

const FAST = {count: 200, windowMs: 1000};

describe('altbatch run against the sandbox', () => {
	it('ends every row in the right status, results in input order, one per row', async () => {
		const site = makeSite({label: 'statuses', count: 3, locales: 1});
		const [a, b, c] = assetIds(site);
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'localeId', 'altText'],
			[a!, '', 'first'],
			['f'.repeat(24), '', 'no such asset'],
			[b!, 'e'.repeat(24), 'unknown locale'],
			['nope', '', 'bad id'],
			[c!, site.secondaryLocales[0]!, 'deuxième'],
		]);
		const summary = await runJob({input, apiBase: sandbox.url});
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => [r.row, r.status, r.http_status, r.error_code, r.attempts])).toEqual([
			['2', 'updated', '200', '', '1'],
			['3', 'failed', '404', 'resource_not_found', '1'],
			['4', 'failed', '400', 'validation_error', '1'],
			['5', 'invalid', '', 'invalid_asset_id', '0'],
			['6', 'updated', '200', '', '1'],
		]);
		expect(sandbox.asset(c!)!.altText.get(site.secondaryLocales[0]!)).toBe('deuxième');
		expect(summary.statuses).toMatchObject({updated: 2, failed: 2, invalid: 1});
		expect(summary.stopped).toBeUndefined();
	});

	it('applies rows of the same asset and locale in file order, so the last row wins', async () => {
		const site = makeSite({label: 'order', count: 1});
		const [a] = assetIds(site);
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const rows = Array.from({length: 12}, (_, i) => [a!, `version ${i}`]);
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...rows]);
		await runJob({input, apiBase: sandbox.url, concurrency: 8});
		expect(sandbox.asset(a!)!.altText.get(site.primaryLocale)).toBe('version 11');
		const patches = patchesSent(sandbox);
		expect(patches).toHaveLength(12);
	});

	it('changes nothing in a dry run and sends no request', async () => {
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ['a'.repeat(24), 'x'], ['zz', 'y']]);
		const summary = await runJob({input, dryRun: true, token: undefined, apiBase: 'http://127.0.0.1:9'});
		expect(summary.statuses).toMatchObject({would_update: 1, invalid: 1});
		expect(summary.requests).toBe(0);
	});

	it('stops at a refused token: that row failed, every other row not_attempted, nothing more sent', async () => {
		const site = makeSite({label: 'refused', count: 6});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url, token: 'wrong-token', concurrency: 1});
		expect(summary.stopped?.reason).toBe('auth');
		expect(summary.stopped?.message).toMatch(/refused \(401 not_authorized\)/);
		const rows = await results(`${input}.results.csv`);
		expect(rows).toHaveLength(6);
		expect(rows[0]).toMatchObject({status: 'failed', http_status: '401', error_code: 'not_authorized'});
		expect(rows.slice(1).every(r => r.status === 'not_attempted' && r.error_code === 'aborted')).toBe(true);
		expect(patchesSent(sandbox)).toHaveLength(1);
	});

	it('stops before any PATCH when introspect shows the token lacks assets:write', async () => {
		const site = makeSite({label: 'scope', count: 3});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'read-only', scopes: ['assets:read']}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url, token: 'read-only'});
		expect(summary.stopped?.reason).toBe('auth');
		expect(summary.stopped?.message).toMatch(/missing the assets:write scope/);
		expect(summary.statuses.not_attempted).toBe(3);
		expect(patchesSent(sandbox)).toHaveLength(0);
	});

	it('a dry run that reads the site with a token lacking assets:write predicts the real run\'s stop', async () => {
		const site = makeSite({label: 'scope-dry', count: 3});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'read-only', scopes: ['assets:read']}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		for (const extra of [{site: site.id}, {site: site.id, onlyMissing: true}]) {
			const dry = await runJob({input, out: join(dir, 'dry.csv'), apiBase: sandbox.url, token: 'read-only', dryRun: true, ...extra});
			const real = await runJob({input, apiBase: sandbox.url, token: 'read-only', ...extra});
			expect(dry.stopped).toEqual(real.stopped);
			expect(dry.stopped?.message).toMatch(/missing the assets:write scope/);
			expect(dry.statuses).toEqual(real.statuses);
			expect((await results(join(dir, 'dry.csv'))).map(r => [r.status, r.error_code])).toEqual((await results(`${input}.results.csv`)).map(r => [r.status, r.error_code]));
		}

		expect(patchesSent(sandbox)).toHaveLength(0);
	});

	it('stops before any PATCH when the token is not authorized for --site', async () => {
		const site = makeSite({label: 'site-access', count: 2});
		const sandbox = await startSandbox({sites: [site], rate: FAST, tokens: [{token: 'other', siteIds: ['0'.repeat(24)]}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url, token: 'other', site: site.id});
		expect(summary.stopped?.message).toMatch(new RegExp(`no access to site ${site.id}`));
		expect(patchesSent(sandbox)).toHaveLength(0);
	});

	it('works with a token for which introspect is refused, taking the budget from the first answer', async () => {
		const site = makeSite({label: 'no-introspect', count: 3});
		const sandbox = await startSandbox({sites: [site], rate: {count: 6000, windowMs: 60_000}, tokens: [{token: 'site-token', introspect: false}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url, token: 'site-token'});
		expect(summary.statuses.updated).toBe(3);
		expect(summary.rateSource).toBe('header');
		expect(summary.rateLimitPerMinute).toBe(6000);
	});

	it('waits out every 429 with no request inside a Retry-After, and applies every row', async () => {
		const site = makeSite({label: 'storm', count: 30});
		// Told 10x the limit, introspect refused, and no rate headers to burst by: spaced at the told
		// rate, it meets 429s. (With the headers the spent window is waited to a whole second and
		// the 1 s window here costs none: see the rate model's tests.)
		const sandbox = await startSandbox({sites: [site], rate: {count: 10, windowMs: 1000}, rateHeaders: false, tokens: [{token: 'sandbox-token', introspect: false}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url, rate: {count: 100, windowMs: 1000}, concurrency: 8});
		expect(summary.statuses.updated).toBe(30);
		expect(summary.tooManyRequests).toBeGreaterThan(0);
		expect(requestsDuringRetryAfter(sandbox)).toEqual([]);
		for (const id of assetIds(site)) {
			expect(sandbox.asset(id)!.altText.get(site.primaryLocale)).toBe('alt');
		}
	});

	it('reports the rate it sent at, never above a told pace, even for a run of a few requests', async () => {
		const site = makeSite({label: 'short-run', count: 4});
		const sandbox = await startSandbox({sites: [site], rate: {count: 10, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		// --rate below the budget is a speed: the requests are spaced at it.
		const summary = await runJob({input, apiBase: sandbox.url, rate: {count: 300, windowMs: 60_000}});
		expect(summary.requests).toBe(5);
		expect(summary.rateLimitPerMinute).toBe(300);
		expect(summary.effectiveRatePerMinute).toBeGreaterThan(150);
		expect(summary.effectiveRatePerMinute).toBeLessThanOrEqual(300);

		// A file with nothing to send costs the introspect alone, and one request has no rate.
		const empty = await writeCsv(join(dir, 'empty.csv'), [['assetId', 'altText']]);
		const nothing = await runJob({input: empty, apiBase: sandbox.url});
		expect(nothing.requests).toBe(1);
		expect(nothing.effectiveRatePerMinute).toBe(0);
	});

	it('--resume counts the alt-text warnings of the rows it carries over, as the first run did', async () => {
		const site = makeSite({label: 'resume-warnings', count: 3});
		const sandbox = await startSandbox({sites: [site], rate: FAST});
		const dir = await tempDir();
		const [a, b, c] = assetIds(site);
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [a!, 'image'], [b!, 'A red bicycle'], [c!, 'A red bicycle']]);
		const first = await runJob({input, apiBase: sandbox.url});
		expect(first.warnings).toEqual({alt_placeholder: 1, alt_duplicate: 1});
		const resumed = await runJob({input, apiBase: sandbox.url, resume: true});
		expect(resumed.statuses.updated).toBe(3);
		expect(resumed.warnings).toEqual(first.warnings);
	});

	it('two runs on one token without Redis share its budget through Remaining: at most a 429 a window, none sent inside one', async () => {
		const site = makeSite({label: 'two-runs', count: 160});
		const sandbox = await startSandbox({sites: [site], rate: {count: 20, windowMs: 1000}});
		const dir = await tempDir();
		const ids = assetIds(site);
		const inputs = await Promise.all([0, 1].map(async i => writeCsv(join(dir, `jobs-${i}.csv`), [['assetId', 'altText'], ...ids.slice(i * 80, (i + 1) * 80).map(id => [id, `alt ${i}`])])));
		const summaries = await Promise.all(inputs.map(async input => runJob({input, apiBase: sandbox.url})));
		expect(summaries.map(summary => summary.statuses.updated)).toEqual([80, 80]);
		// Each run sees the other only in X-RateLimit-Remaining: seeing it, neither races the other
		// for the window's budget (before: 2-7 429s in 300 rows, bursting both).
		expect(summaries[0]!.tooManyRequests + summaries[1]!.tooManyRequests).toBeLessThanOrEqual(2);
		// Each run waits out the Retry-After it was given (it can't hear of the other's: its rows are
		// other assets).
		for (const i of [0, 1]) {
			const own = new Set(ids.slice(i * 80, (i + 1) * 80).map(id => `/v2/assets/${id}`));
			expect(requestsDuringRetryAfter({requests: sandbox.requests.filter(r => own.has(r.path))})).toEqual([]);
		}
	});

	it('waits out 429s that are not the budget without learning a lower rate from them', async () => {
		const site = makeSite({label: 'stray-429', count: 60});
		const sandbox = await startSandbox({sites: [site], rate: {count: 50, windowMs: 1000}, faults: {limited: 0.1}, seed: 3});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url});
		expect(summary.statuses.updated).toBe(60);
		expect(summary.tooManyRequests).toBeGreaterThan(2);
		expect(summary.rateSource).toBe('introspect');
		expect(summary.rateLimitPerMinute).toBe(3000);
		expect(requestsDuringRetryAfter(sandbox)).toEqual([]);
	});

	it('retries each fault kind and ends the row updated', async () => {
		const site = makeSite({label: 'faults', count: 5});
		const sandbox = await startSandbox({sites: [site], rate: FAST, slowMs: 1500});
		for (const [i, fault] of (['error500', 'html503', 'drop', 'truncate', 'slow'] as const).entries()) {
			sandbox.failNextFor(assetIds(site)[i]!, fault);
		}

		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url, timeoutMs: 500, concurrency: 1});
		expect(summary.statuses.updated).toBe(5);
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => r.attempts)).toEqual(['2', '2', '2', '2', '2']);
	});

	it('ends every row right under faults at scale (8% 500, 4% HTML 503, 4% dropped, 3% truncated, 2% slow)', async () => {
		const site = makeSite({label: 'faults-at-scale', count: 300});
		const sandbox = await startSandbox({
			sites: [site],
			rate: {count: 500, windowMs: 1000},
			faults: {error500: 0.08, html503: 0.04, drop: 0.04, truncate: 0.03, slow: 0.02},
			slowMs: 1500,
			seed: 7,
		});
		const dir = await tempDir();
		const ids = assetIds(site);
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map(id => [id, `alt for ${id}`])]);
		const summary = await runJob({input, apiBase: sandbox.url, timeoutMs: 400, concurrency: 8});
		const rows = await results(`${input}.results.csv`);
		expect(rows).toHaveLength(300);
		expect(sandbox.requests.filter(r => r.fault !== undefined).length).toBeGreaterThan(40);
		for (const [i, row] of rows.entries()) {
			if (row.status === 'updated') {
				expect(sandbox.asset(ids[i]!)!.altText.get(site.primaryLocale)).toBe(`alt for ${ids[i]}`);
			} else {
				expect(row.status).toBe('failed');
				expect(['internal_error', 'service_unavailable', 'network_error', 'bad_response', 'timeout']).toContain(row.error_code);
				expect(row.attempts).toBe('5');
			}
		}

		expect(summary.statuses.updated + summary.statuses.failed).toBe(300);
		expect(summary.stopped).toBeUndefined();
	});

	it('fails a row with the fault code once --max-attempts run out', async () => {
		const site = makeSite({label: 'exhausted', count: 4});
		const sandbox = await startSandbox({sites: [site], rate: FAST, slowMs: 1500});
		sandbox.failNext('error500', 'error500', 'html503', 'html503', 'truncate', 'truncate', 'slow', 'slow');
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		await runJob({input, apiBase: sandbox.url, timeoutMs: 500, concurrency: 1, maxAttempts: 2});
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => [r.status, r.http_status, r.error_code, r.attempts])).toEqual([
			['failed', '500', 'internal_error', '2'],
			['failed', '503', 'service_unavailable', '2'],
			['failed', '200', 'bad_response', '2'],
			['failed', '', 'timeout', '2'],
		]);
	});

	it('stops with rate_limited rows when a Retry-After is longer than --max-wait', async () => {
		const site = makeSite({label: 'max-wait', count: 4});
		const sandbox = await startSandbox({sites: [site], rate: {count: 2, windowMs: 60_000}, tokens: [{token: 'sandbox-token', introspect: false}]});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const summary = await runJob({input, apiBase: sandbox.url, rate: {count: 10, windowMs: 1000}, maxWaitMs: 5000});
		expect(summary.stopped?.reason).toBe('max_wait');
		// The pause it stopped at was never waited.
		expect(summary.pausedSeconds).toBeLessThanOrEqual(summary.elapsedSeconds);
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => r.status)).toEqual(['updated', 'not_attempted', 'not_attempted', 'not_attempted']);
		expect(rows.slice(1).every(r => r.error_code === 'rate_limited')).toBe(true);
	});

	it('stops when the API is unreachable instead of trying row by row', async () => {
		const dir = await tempDir();
		const ids = Array.from({length: 20}, (_, i) => i.toString(16).padStart(24, '0'));
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...ids.map(id => [id, 'alt'])]);
		const summary = await runJob({input, apiBase: 'http://127.0.0.1:9', rate: {count: 1000, windowMs: 1000}, maxAttempts: 3});
		expect(summary.stopped?.reason).toBe('unreachable');
		const rows = await results(`${input}.results.csv`);
		expect(rows).toHaveLength(20);
		expect(rows.filter(r => r.status === 'not_attempted').length).toBeGreaterThan(10);
		expect(rows.every(r => r.error_code === 'network_error')).toBe(true);
	});

	it('on interrupt, finishes the request in flight and writes every row', async () => {
		const site = makeSite({label: 'interrupt', count: 20});
		const sandbox = await startSandbox({sites: [site], rate: {count: 10, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site, {altText: () => 'alt'}));
		const interrupt = new AbortController();
		const running = runJob({input, apiBase: sandbox.url}, {
			interrupt: interrupt.signal,
			onProgress(progress) {
				if (progress.done === 3) {
					interrupt.abort();
				}
			},
		});
		const summary = await running;
		expect(summary.stopped?.reason).toBe('interrupted');
		const rows = await results(`${input}.results.csv`);
		expect(rows.map(r => Number(r.row))).toEqual(Array.from({length: 20}, (_, i) => i + 2));
		const updated = rows.filter(r => r.status === 'updated');
		expect(updated.length).toBeGreaterThanOrEqual(3);
		expect(updated.length).toBe(sandbox.requests.filter(r => r.method === 'PATCH' && r.status === 200).length);
		expect(rows.filter(r => r.status === 'not_attempted').every(r => r.error_code === 'interrupted')).toBe(true);
	});
});

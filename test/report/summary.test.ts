import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {formatSummary} from '../../src/report/format.js';
import {jobsFor, makeSite, patchesSent, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

describe('the run summary as data', () => {
	it('with several tokens, paces at all of them together, each site with its own token\'s pace', async () => {
		const sites = ['a', 'b'].map(label => makeSite({label: `summary-${label}`, count: 4}));
		const sandbox = await startSandbox({sites, rate: {count: 10, windowMs: 1000}, tokens: sites.map((site, i) => ({token: `token-${i}`, siteIds: [site.id], rate: {count: 10, windowMs: 1000}}))});
		const [a, b] = sites.map(site => jobsFor(site, {siteId: site.id}));
		const input = await writeCsv(join(await tempDir(), 'jobs.csv'), [...a ?? [], ...b?.slice(1) ?? []]);
		const summary = await runJob({input, apiBase: sandbox.url, token: undefined, tokens: new Map(sites.map((site, i) => [site.id, `token-${i}`]))});
		expect(summary.statuses.updated).toBe(8);
		expect(patchesSent(sandbox)).toHaveLength(8);
		const paces = sites.map(site => summary.sites?.[site.id]?.rateLimitPerMinute ?? 0);
		expect(paces.every(pace => pace > 0)).toBe(true);
		expect(summary.rateLimitPerMinute).toBeCloseTo(paces[0]! + paces[1]!, 1);
		expect(summary.rateSource).not.toBe('none');
		expect(summary.budget).toEqual({kind: 'local'});
	});

	it('a dry run that reads nothing paces nothing: rate 0 from none, a local budget, no budget line', async () => {
		const input = await writeCsv(join(await tempDir(), 'jobs.csv'), [['assetId', 'altText'], ['a'.repeat(24), 'A red bicycle']]);
		const summary = await runJob({input, dryRun: true, token: undefined});
		expect(summary).toMatchObject({rateLimitPerMinute: 0, rateSource: 'none', budget: {kind: 'local'}, requests: 0});
		expect(formatSummary(summary)).not.toMatch(/budget/);
	});

	it('states the requests against the budget of the window they fell in, not a pace a burst seems to break, and a told --rate as a ceiling', () => {
		const summary = {input: 'in.csv', out: 'out.csv', dryRun: false, rows: 50, statuses: {updated: 50, unchanged: 0, skipped: 0, would_update: 0, invalid: 0, failed: 0, not_attempted: 0, conflict: 0}, errorCodes: {}, warnings: {}, requests: 51, listRequests: 0, estimatedRequests: undefined, tooManyRequests: 0, pausedSeconds: 0, elapsedSeconds: 2.5, effectiveRatePerMinute: 1232.9, rateLimitPerMinute: 600, rateSource: 'introspect', budget: {kind: 'local'}, sites: undefined, stopped: undefined} as const;
		const text = formatSummary(summary);
		expect(text).toContain('budget 600/min (introspect)');
		expect(text).not.toContain('paced to');
		// A 2.5 s burst is stated against the window it fell in, never as a per-minute pace above the budget.
		expect(text).not.toContain('/min sent');
		expect(formatSummary({...summary, window: {peak: 51, perWindow: 600, windowSeconds: 60}})).toContain('at most 51 of 600 in any minute, budget 600/min (introspect)');
		expect(formatSummary({...summary, rateSource: 'told', rateLimitPerMinute: 30})).toContain('at most 30/min (--rate)');
	});

	it('counts as coverage only alt text without a problem: writing "image" into five assets is not 100%', async () => {
		const site = makeSite({label: 'summary-coverage', count: 10});
		const sandbox = await startSandbox({sites: [site], rate: {count: 100, windowMs: 1000}});
		const input = await writeCsv(join(await tempDir(), 'jobs.csv'), jobsFor(site, {altText: (id, i) => i < 5 ? 'image' : `A real description of ${id}`}));
		const summary = await runJob({input, apiBase: sandbox.url, site: site.id});
		expect(summary.statuses.updated).toBe(10);
		expect(summary.coverage).toEqual([{site: site.id, locale: '', before: {total: 10, withAlt: 0, covered: 0}, after: {total: 10, withAlt: 10, covered: 5}}]);
		expect(formatSummary(summary)).toContain('alt-text coverage: 0% before, 50% after (5 of 10 with alt text without a problem; 10 with any)');
		// introspect, one list page, ten PATCHes: all in one minute of introspect's 6000/min.
		expect(summary.window).toEqual({peak: 12, perWindow: 6000, windowSeconds: 60});
	});

	it('says how a shared budget was kept, in words, from the budget\'s data', () => {
		const summary = {input: 'in.csv', out: 'out.csv', dryRun: false, rows: 0, statuses: {updated: 0, unchanged: 0, skipped: 0, would_update: 0, invalid: 0, failed: 0, not_attempted: 0, conflict: 0}, errorCodes: {}, warnings: {}, requests: 0, listRequests: 0, estimatedRequests: undefined, tooManyRequests: 0, pausedSeconds: 0, elapsedSeconds: 0, effectiveRatePerMinute: 0, rateLimitPerMinute: 60, rateSource: 'default', sites: undefined, stopped: undefined} as const;
		expect(formatSummary({...summary, budget: {kind: 'shared', peers: 1}})).toContain('budget: shared through Redis (1 other process seen)');
		expect(formatSummary({...summary, budget: {kind: 'fallback', share: 0.5, reason: 'connection closed'}})).toContain('budget: local after Redis went away (50% of the rate): connection closed');
		expect(formatSummary({...summary, budget: {kind: 'fallback', share: 1, reason: 'Redis unreachable at start (connect ECONNREFUSED 127.0.0.1:6390)'}})).toContain('budget: local, Redis not reached (100% of the rate): Redis unreachable at start (connect ECONNREFUSED');
	});

	it('counts list pages in words that agree with the number ("1 list page")', () => {
		const summary = {input: 'in.csv', out: 'out.csv', dryRun: true, rows: 1, statuses: {updated: 0, unchanged: 0, skipped: 0, would_update: 1, invalid: 0, failed: 0, not_attempted: 0, conflict: 0}, errorCodes: {}, warnings: {}, requests: 2, listRequests: 1, estimatedRequests: 3, tooManyRequests: 0, pausedSeconds: 0, elapsedSeconds: 0, effectiveRatePerMinute: 0, rateLimitPerMinute: 60, rateSource: 'introspect', budget: {kind: 'local'}, stopped: undefined} as const;
		const site = {statuses: summary.statuses, requests: 2, listRequests: 1, estimatedRequests: 3, conflicts: 0, tooManyRequests: 0, rateLimitPerMinute: 60, stopped: undefined};
		const text = formatSummary({...summary, sites: {s1: site}});
		expect(text).toContain('a real run would send 3 requests (1 list page included)');
		expect(text).toContain('site s1: would_update 1; 2 requests (1 list page), a real run would send 3');
		expect(formatSummary({...summary, listRequests: 2, sites: undefined})).toContain('(2 list pages included)');
	});
});

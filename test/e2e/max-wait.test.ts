import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {jobsFor, makeSite, results, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

describe('--max-wait with the budget\'s window spent', () => {
	it('stops before sending into the spent window (no 429 taken), exit 3, every row accounted for', async () => {
		const site = makeSite({label: 'max-wait-window', count: 8});
		// 5 requests a 30 s window: the introspect and 4 PATCHes spend it; the window opens again far past 2 s.
		const sandbox = await startSandbox({sites: [site], rate: {count: 5, windowMs: 30_000}});
		const dir = await tempDir();
		const jobs = await writeCsv(join(dir, 'jobs.csv'), jobsFor(site));
		const ran = await runCli(['run', jobs, '--api-base', sandbox.url, '--max-wait', '2s', '--json'], {env: {WEBFLOW_TOKEN: 'sandbox-token'}});
		expect(ran.code).toBe(3);
		expect(sandbox.requests.filter(request => request.status === 429)).toHaveLength(0);
		const summary = JSON.parse(ran.stdout) as {stopped: {reason: string; message: string}; statuses: Record<string, number>};
		expect(summary.stopped.reason).toBe('max_wait');
		expect(summary.stopped.message).toMatch(/longer than --max-wait \(2 s\)/);
		const rows = await results(join(dir, 'jobs.results.csv'));
		expect(rows).toHaveLength(8);
		expect(rows.filter(row => row.status === 'updated')).toHaveLength(4);
		expect(rows.filter(row => row.status === 'not_attempted').every(row => row.error_code === 'rate_limited')).toBe(true);
		expect(rows.filter(row => row.status === 'not_attempted')).toHaveLength(4);
	}, 120_000);
});

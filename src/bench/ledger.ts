/**
 * Bench cases on what the ledger costs: a 10,000-row run with and without it (time, bytes and
 * fsyncs per row), and settling pending writes (requests and time per pending write).
 */
import {statSync} from 'node:fs';
import {readdir, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {RunLedger} from '../ledger/ledger.js';
import {silentLogger} from '../logger.js';
import {run} from '../commands/run.js';
import {Sandbox} from '../sandbox/server.js';
import {benchDir, config, site, table, writeJobs} from './support.js';

/**
 * The ledger's cost on a 10,000-row run (no rate limit, concurrency 16, --site so every record
 * holds the value before): the same run without a ledger and with one, twice each, time and bytes
 * per row (records of rows in flight together share one fsync).
 */
export async function ledgerCost(): Promise<void> {
	const rows = 10_000;
	const times: Record<string, number> = {};
	for (const withLedger of [false, true, false, true]) {
		const dir = await benchDir();
		const s = site('ledger', rows);
		for (const asset of s.assets.values()) {
			asset.altText.set(s.primaryLocale, `Alt text before the run for ${asset.id}`);
		}

		const sandbox = new Sandbox({sites: [s], rate: {count: 1e9, windowMs: 1000}, tokens: [{token: 'bench', introspect: false}]});
		const url = await sandbox.listen();
		const input = join(dir, 'jobs.csv');
		await writeJobs(input, [...s.assets.keys()]);
		const ledger = withLedger ? join(dir, 'ledger') : undefined;
		const started = performance.now();
		const summary = await run(config({input, apiBase: url, site: s.id, rate: {count: 1e6, windowMs: 1000}, concurrency: 16, ledger}), {logger: silentLogger()});
		const seconds = (performance.now() - started) / 1000;
		await sandbox.close();
		const bytes = ledger === undefined ? 0 : (await readdir(join(ledger, 'runs'), {withFileTypes: true})).reduce((sum, entry) => sum + statSync(join(ledger, 'runs', entry.name)).size, 0);
		await rm(dir, {recursive: true, force: true});
		const key = withLedger ? 'with' : 'without';
		times[key] = Math.min(times[key] ?? Number.POSITIVE_INFINITY, seconds);
		table.push({
			case: `10,000-row run (--site, concurrency 16), ${withLedger ? 'with the ledger' : 'no ledger'}`,
			rows,
			updated: summary.statuses.updated,
			's': seconds.toFixed(2),
			'ms per row': (seconds * 1000 / rows).toFixed(3),
			'ledger bytes per row': withLedger ? (bytes / rows).toFixed(1) : '-',
			'time vs no ledger (best of 2)': withLedger && times.without !== undefined ? ((times.with ?? 0) / times.without).toFixed(2) : '-',
		});
	}
}

/**
 * Settling pending writes: 1,000 writes of a killed run on record with no answer (half of them
 * landed), then a one-row run on the site: the requests and time it takes to read them back, with
 * --site (the prefetch has them: no extra request) and without (one GET per asset and locale).
 */
export async function settleCost(): Promise<void> {
	const pendingWrites = 1000;
	for (const withSite of [true, false]) {
		const dir = await benchDir();
		const s = site('settle', pendingWrites + 1);
		const ids = [...s.assets.keys()];
		const sandbox = new Sandbox({sites: [s], rate: {count: 2000, windowMs: 1000}, tokens: [{token: 'bench'}]});
		const url = await sandbox.listen();
		const ledger = join(dir, 'ledger');
		const killed = RunLedger.open({dir: ledger, run: {command: ['run', 'big.csv'], apiBase: url, jobs: undefined, results: undefined, sites: [s.id], undo: false}});
		await killed.pending(ids.slice(0, pendingWrites).map((assetId, i) => ({target: {kind: 'asset', site: s.id, assetId, localeId: undefined}, field: 'altText', before: '', sent: `Sent ${i}`})));
		for (const [i, assetId] of ids.slice(0, pendingWrites / 2).entries()) {
			s.assets.get(assetId)?.altText.set(s.primaryLocale, `Sent ${i}`);
		}

		const input = join(dir, 'jobs.csv');
		await writeJobs(input, ids.slice(pendingWrites));
		const baseline = withSite ? Math.ceil((pendingWrites + 1) / 100) + 2 : 2; // list pages (or none) + introspect + the one PATCH
		const started = performance.now();
		const summary = await run(config({input, apiBase: url, site: withSite ? s.id : undefined, prefetch: false, ledger}), {logger: silentLogger()});
		const seconds = (performance.now() - started) / 1000;
		await sandbox.close();
		await rm(dir, {recursive: true, force: true});
		table.push({
			case: `settle 1,000 pending writes ${withSite ? 'with --site' : 'without --site'}`,
			settled: summary.settled?.writes ?? 0,
			'reads for them': summary.settled?.reads ?? 0,
			'extra requests per pending write': ((summary.requests - baseline) / pendingWrites).toFixed(3),
			's': seconds.toFixed(2),
		});
	}
}


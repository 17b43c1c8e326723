/**
 * `npm run bench [case…]`: how close to the rate limit the tool runs, what it wastes, and what it
 * costs. Prints a table of ratios (no timing assertions: the machines are shared and noisy), each
 * case's rows as it ends and every row by kind at the end. Names run only those cases (`--list`
 * lists them); a case that cannot measure what it says fails the bench (exit 1).
 */
import {loadavg} from 'node:os';
import {auditBench} from './audit-bench.js';
import {cmsBulk} from './cms.js';
import {agencies, killAndResume, nightly, threeSites, undoCost} from './costs.js';
import {ledgerCost, settleCost} from './ledger.js';
import {cmsLedgerCost, settleCmsCost} from './ledger-cms.js';
import {millionRows} from './million.js';
import {sheets} from './sheets.js';
import {burst, otherClient, paced, sharedBudget, unlimited} from './pacing.js';
import {CaseFailed, table, type Row} from './support.js';

const cases: Array<[string, () => Promise<void>]> = [
	['known', () => paced({name: 'known limit (introspect)', rows: 300, limit: {count: 50, windowMs: 1000}, introspect: true})],
	['told-exact', () => paced({name: 'known limit (told)', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 50, windowMs: 1000}, introspect: false})],
	['untold', () => paced({name: 'untold: told 2x the limit', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 100, windowMs: 1000}, introspect: false})],
	['sliding', () => paced({name: 'known limit, sliding window', rows: 300, limit: {count: 50, windowMs: 1000}, introspect: true, window: 'sliding'})],
	['burst-50', () => burst({rows: 50, window: 'fixed'})],
	['burst-150', () => burst({rows: 150, window: 'fixed'})],
	['burst-50-sliding', () => burst({rows: 50, window: 'sliding'})],
	['burst-150-sliding', () => burst({rows: 150, window: 'sliding'})],
	['minute-known', () => paced({name: 'per-minute limit scaled 1:10 (known)', rows: 150, limit: {count: 60, windowMs: 6000}, introspect: true})],
	['minute-untold', () => paced({name: 'per-minute limit scaled 1:10 (told 2x)', rows: 150, limit: {count: 60, windowMs: 6000}, told: {count: 20, windowMs: 1000}, introspect: false})],
	['untold-10x', () => paced({name: 'untold: told 10x the limit, introspect refused', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 500, windowMs: 1000}, introspect: false})],
	['minute-untold-10x', () => paced({name: 'per-minute limit scaled 1:10 (told 10x, introspect refused)', rows: 300, limit: {count: 60, windowMs: 6000}, told: {count: 100, windowMs: 1000}, introspect: false})],
	['no-headers-known', () => paced({name: 'known limit, no rate headers', rows: 300, limit: {count: 50, windowMs: 1000}, introspect: true, rateHeaders: false})],
	['no-headers-untold', () => paced({name: 'told 2x, no rate headers', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 100, windowMs: 1000}, introspect: false, rateHeaders: false})],
	['no-headers-untold3', () => paced({name: 'told 3x, no rate headers', rows: 300, limit: {count: 50, windowMs: 1000}, told: {count: 150, windowMs: 1000}, introspect: false, rateHeaders: false})],
	['other-stops', () => otherClient({name: 'another client for 3 s (introspect overstates)', rows: 300, limit: {count: 20, windowMs: 1000}, otherPerSecond: 10, otherForMs: 3000, reportedRateLimit: 1800})],
	['other-stays', () => otherClient({name: 'another client throughout', rows: 200, limit: {count: 20, windowMs: 1000}, otherPerSecond: 6, otherForMs: 600_000})],
	['unlimited', () => unlimited(3000)],
	['nightly', () => nightly()],
	['undo', () => undoCost()],
	['shared', () => sharedBudget({viaRedis: true})],
	['shared-no-redis', () => sharedBudget({viaRedis: false})],
	['shared-3', () => sharedBudget({viaRedis: true, processes: 3, rowsEach: 100})],
	['shared-3-no-redis', () => sharedBudget({viaRedis: false, processes: 3, rowsEach: 100})],
	['three-sites', () => threeSites()],
	['agencies', () => agencies()],
	['kill', () => killAndResume()],
	['ledger', () => ledgerCost()],
	['settle', () => settleCost()],
	['ledger-cms', () => cmsLedgerCost()],
	['settle-cms', () => settleCmsCost()],
	['million', () => millionRows()],
	['cms', () => cmsBulk()],
	['sheets', () => sheets()],
	['audit', async () => {
		table.push(await auditBench());
	}],
];

function load(): string {
	return loadavg().map(n => n.toFixed(2)).join(' ');
}

/** Rows by kind (the same columns), each kind one table. */
function printByKind(rows: readonly Row[]): void {
	const groups = new Map<string, Row[]>();
	for (const row of rows) {
		const shape = Object.keys(row).join('|');
		groups.set(shape, [...groups.get(shape) ?? [], row]);
	}

	for (const group of groups.values()) {
		console.table(group);
	}
}

async function main(): Promise<void> {
	const asked = process.argv.slice(2);
	if (asked.includes('--list')) {
		console.log(cases.map(([name]) => name).join('\n'));
		return;
	}

	const unknown = asked.filter(name => !cases.some(([known]) => known === name));
	if (unknown.length > 0) {
		console.error(`No bench case ${unknown.join(', ')}; the cases: ${cases.map(([name]) => name).join(' ')}`);
		process.exitCode = 2;
		return;
	}

	const chosen = cases.filter(([name]) => asked.length === 0 || asked.includes(name));
	console.log(`node ${process.version}; load average ${load()} (1, 5, 15 min) at the start`);
	const failed: string[] = [];
	for (const [name, bench] of chosen) {
		const before = table.length;
		const started = performance.now();
		try {
			await bench();
		} catch (error) {
			if (!(error instanceof CaseFailed)) {
				throw error;
			}

			failed.push(name);
			table.push({case: name, failed: error.message});
		}

		console.log(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s, load average ${load()}`);
		printByKind(table.slice(before));
	}

	if (chosen.length > 1) {
		console.log(`\nAll ${chosen.length} cases; load average ${load()} at the end`);
		printByKind(table);
	}

	if (failed.length > 0) {
		console.error(`Failed: ${failed.join(', ')}`);
		process.exitCode = 1;
	}
}

await main();

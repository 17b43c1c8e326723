/**
 * Bench cases on what a job costs: requests per changed row (nightly), per row put back (undo),
 * requests redone after kill -9 and --resume, and the time of several sites in one run against the
 * same sites one after another and as parallel processes (three sites, an agency's ten).
 */
import {spawn} from 'node:child_process';
import {createWriteStream} from 'node:fs';
import {rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {silentLogger} from '../logger.js';
import {run} from '../commands/run.js';
import {undo} from '../commands/undo.js';
import {Sandbox} from '../sandbox/server.js';
import {benchDir, CLI, cliRun, config, site, table, writeJobs, type CliSummary} from './support.js';

/** A nightly run over 1,000 assets of which 5% changed: requests per changed row, with and without --site. */
export async function nightly(): Promise<void> {
	const assets = 1000;
	for (const withSite of [false, true]) {
		const dir = await benchDir();
		const s = site('nightly', assets);
		const ids = [...s.assets.keys()];
		for (const asset of s.assets.values()) {
			asset.altText.set(s.primaryLocale, `Alt text for ${asset.id}`);
		}

		const changed = new Set(ids.filter((_, i) => i % 20 === 0));
		const sandbox = new Sandbox({sites: [s], rate: {count: 2000, windowMs: 1000}, tokens: [{token: 'bench'}]});
		const url = await sandbox.listen();
		const input = join(dir, 'jobs.csv');
		const stream = createWriteStream(input);
		stream.write('assetId,altText\n');
		for (const id of ids) {
			stream.write(`${id},${changed.has(id) ? 'A better description' : `Alt text for ${id}`}\n`);
		}

		await new Promise<void>(resolve => {
			stream.end(resolve);
		});
		const summary = await run(config({input, apiBase: url, site: withSite ? s.id : undefined}), {logger: silentLogger()});
		await sandbox.close();
		await rm(dir, {recursive: true, force: true});
		table.push({
			case: `nightly, 1,000 assets, 5% changed, ${withSite ? 'with --site' : 'without --site'}`,
			rows: assets,
			updated: summary.statuses.updated,
			unchanged: summary.statuses.unchanged,
			requests: summary.requests,
			'requests per changed row': (summary.requests / changed.size).toFixed(2),
		});
	}
}

/**
 * Undo of a 1,000-row run (every asset of the site changed): requests per row put back, with
 * `--site` (goal: ⌈assets/100⌉ list pages + one PATCH per row, plus the introspect) and without
 * (goal: one GET per asset and locale + one PATCH per row, plus the introspect).
 */
export async function undoCost(): Promise<void> {
	const assets = 1000;
	for (const withSite of [true, false]) {
		const dir = await benchDir();
		const s = site('undo', assets);
		for (const asset of s.assets.values()) {
			asset.altText.set(s.primaryLocale, `Alt text before the run for ${asset.id}`);
		}

		const sandbox = new Sandbox({sites: [s], rate: {count: 2000, windowMs: 1000}, tokens: [{token: 'bench'}]});
		const url = await sandbox.listen();
		const input = join(dir, 'jobs.csv');
		await writeJobs(input, [...s.assets.keys()]);
		const ran = await run(config({input, apiBase: url, site: s.id}), {logger: silentLogger()});
		const before = sandbox.requests.length;
		const summary = await undo(config({input: `${input}.results.csv`, out: join(dir, 'undo.csv'), apiBase: url, site: withSite ? s.id : undefined}), {logger: silentLogger()});
		const sent = sandbox.requests.slice(before);
		await sandbox.close();
		await rm(dir, {recursive: true, force: true});
		const rows = ran.statuses.updated;
		// Each site's assets have one locale here (the primary).
		const goal = withSite ? {formula: '⌈assets/100⌉ + rows + 1', requests: Math.ceil(assets / 100) + rows + 1} : {formula: 'assets × locales + rows + 1', requests: assets + rows + 1};
		table.push({
			case: `undo of a 1,000-row run, ${withSite ? 'with --site' : 'without --site'}`,
			rows,
			'put back': summary.statuses.updated,
			requests: summary.requests,
			'list pages': sent.filter(r => r.path.endsWith('/assets')).length,
			GETs: sent.filter(r => r.method === 'GET' && r.path.startsWith('/v2/assets/')).length,
			PATCHes: sent.filter(r => r.method === 'PATCH').length,
			'requests per row put back': (summary.requests / summary.statuses.updated).toFixed(3),
			'goal (lists or GETs + PATCHes + introspect)': `${goal.formula} = ${goal.requests} → ${(goal.requests / rows).toFixed(3)}`,
		});
	}
}

/** kill -9 of the real CLI mid-run, then --resume: requests sent again for rows already applied. */
export async function killAndResume(): Promise<void> {
	const rows = 200;
	const dir = await benchDir();
	const s = site('kill', rows);
	const sandbox = new Sandbox({sites: [s], rate: {count: 50, windowMs: 1000}, tokens: [{token: 'bench'}]});
	const url = await sandbox.listen();
	const input = join(dir, 'jobs.csv');
	await writeJobs(input, [...s.assets.keys()]);
	const env = {...process.env, WEBFLOW_TOKEN: 'bench'};
	const patches = () => sandbox.requests.filter(r => r.method === 'PATCH' && r.status === 200);
	const first = spawn(process.execPath, [CLI, 'run', input, '--api-base', url, '--log-level', 'silent'], {env, stdio: 'ignore'});
	while (patches().length < 100) {
		await new Promise(resolve => setTimeout(resolve, 5));
	}

	first.kill('SIGKILL');
	await new Promise(resolve => first.on('close', resolve));
	const second = spawn(process.execPath, [CLI, 'run', input, '--api-base', url, '--resume', '--log-level', 'silent'], {env, stdio: 'ignore'});
	const code = await new Promise(resolve => second.on('close', resolve));
	const applied = new Map<string, number>();
	for (const request of patches()) {
		applied.set(request.path, (applied.get(request.path) ?? 0) + 1);
	}

	await sandbox.close();
	await rm(dir, {recursive: true, force: true});
	table.push({
		case: 'kill -9 at ~100 of 200 rows, then --resume (concurrency 4)',
		rows,
		'resume exit code': String(code),
		'assets applied': applied.size,
		'requests redone': [...applied.values()].reduce((sum, n) => sum + n - 1, 0),
	});
}

type Measured = {seconds: number; requests: number; updated: number; tooMany: number; received: number};

/**
 * Several sites, each with its own token and budget, three ways, each the real CLI in processes of
 * its own against one sandbox: one run over one file, one run per site one after another, and one
 * run per site all at once (the baseline a user would try). `runs(url, way)` starts them.
 */
async function threeWays({sandbox, runs}: {sandbox: () => Sandbox; runs: (url: string, way: 'together' | 'one after another' | 'at once') => Promise<CliSummary[]>}): Promise<Record<'together' | 'one after another' | 'at once', Measured>> {
	const measured: Partial<Record<'together' | 'one after another' | 'at once', Measured>> = {};
	for (const way of ['together', 'one after another', 'at once'] as const) {
		const server = sandbox();
		const url = await server.listen();
		const started = performance.now();
		const summaries = await runs(url, way);
		const seconds = (performance.now() - started) / 1000;
		await server.close();
		measured[way] = {
			seconds,
			requests: summaries.reduce((sum, one) => sum + one.requests, 0),
			updated: summaries.reduce((sum, one) => sum + (one.statuses.updated ?? 0), 0),
			tooMany: summaries.reduce((sum, one) => sum + one.tooManyRequests, 0),
			received: server.requests.length,
		};
	}

	return measured as Record<'together' | 'one after another' | 'at once', Measured>;
}

async function writeSiteJobs(path: string, which: ReadonlyArray<ReturnType<typeof site>>, altText: (id: string, i: number) => string): Promise<void> {
	const stream = createWriteStream(path);
	stream.write('siteId,assetId,altText\n');
	for (const s of which) {
		for (const [i, id] of [...s.assets.keys()].entries()) {
			stream.write(`${s.id},${id},${altText(id, i)}\n`);
		}
	}

	await new Promise<void>(resolve => {
		stream.end(resolve);
	});
}

/** A file spanning three sites (own tokens, own limits) against the same sites one after another and at once. */
export async function threeSites(): Promise<void> {
	const rowsPerSite = 60;
	const limits = [10, 15, 20];
	const dir = await benchDir();
	const sites = limits.map((_, i) => site(`three-${i}`, rowsPerSite));
	const tokensFile = join(dir, 'tokens.txt');
	await writeFile(tokensFile, sites.map((s, i) => `${s.id}=t${i}\n`).join(''));
	// Each way writes new alt text (the sites keep the last way's), so every row is a change.
	const measured = await threeWays({
		sandbox: () => new Sandbox({sites, rate: {count: 10, windowMs: 1000}, tokens: limits.map((count, i) => ({token: `t${i}`, siteIds: [sites[i]?.id ?? ''], rate: {count, windowMs: 1000}}))}),
		async runs(url, way) {
			const altText = (id: string) => `Alt for ${id} (${way})`;
			if (way === 'together') {
				const all = join(dir, 'all.csv');
				await writeSiteJobs(all, sites, altText);
				return [await cliRun(['run', all, '--api-base', url, '--tokens', tokensFile], {})];
			}

			const singles = await Promise.all(sites.map(async (s, i) => {
				const single = join(dir, `site-${i}, ${way}.csv`);
				await writeSiteJobs(single, [s], altText);
				return single;
			}));
			const one = async (single: string) => cliRun(['run', single, '--api-base', url, '--tokens', tokensFile], {});
			if (way === 'at once') {
				return Promise.all(singles.map(one));
			}

			const summaries = [];
			for (const single of singles) {
				summaries.push(await one(single));
			}

			return summaries;
		},
	});
	await rm(dir, {recursive: true, force: true});
	for (const [way, m] of Object.entries(measured)) {
		table.push({
			case: `three sites (10, 15, 20/s), ${way === 'together' ? 'one run over one file' : `one run per site, ${way}`}`,
			rows: rowsPerSite * 3,
			updated: m.updated,
			'429s': m.tooMany,
			seconds: Math.round(m.seconds * 10) / 10,
			'one run is faster by': (m.seconds / measured.together.seconds).toFixed(2),
		});
	}
}

/**
 * An agency's nightly: 10 client sites × 1,000 assets, 5% changed, each site with its own token and
 * budget. One `run --tokens --prefetch` over one file against ten `run --site`, one after another
 * and all at once.
 */
export async function agencies(): Promise<void> {
	const siteCount = 10;
	const assets = 1000;
	const perSecond = 25;
	const dir = await benchDir();
	const sites = Array.from({length: siteCount}, (_, i) => site(`agency-${i}`, assets));
	for (const s of sites) {
		for (const asset of s.assets.values()) {
			asset.altText.set(s.primaryLocale, `Alt text for ${asset.id}`);
		}
	}

	const rate = {count: perSecond, windowMs: 1000};
	const tokens = new Map(sites.map((s, i) => [s.id, `agency-${i}`]));
	const tokensFile = join(dir, 'tokens.txt');
	await writeFile(tokensFile, [...tokens].map(([id, token]) => `${id}=${token}\n`).join(''));
	const write = async (path: string, which: typeof sites, round: string) => writeSiteJobs(path, which, (id, i) => i % 20 === 0 ? `A better description (${round})` : `Alt text for ${id}`);
	const measured = await threeWays({
		sandbox: () => new Sandbox({sites, rate, tokens: sites.map((s, i) => ({token: `agency-${i}`, siteIds: [s.id], rate}))}),
		async runs(url, way) {
			if (way === 'together') {
				const all = join(dir, 'all.csv');
				await write(all, sites, way);
				return [await cliRun(['run', all, '--api-base', url, '--tokens', tokensFile, '--prefetch'], {})];
			}

			const one = async (s: (typeof sites)[number]) => {
				const single = join(dir, `site-${s.id}, ${way}.csv`);
				await write(single, [s], way);
				return cliRun(['run', single, '--api-base', url, '--site', s.id], {WEBFLOW_TOKEN: tokens.get(s.id) ?? ''});
			};

			if (way === 'at once') {
				return Promise.all(sites.map(one));
			}

			const summaries = [];
			for (const s of sites) {
				summaries.push(await one(s));
			}

			return summaries;
		},
	});
	await rm(dir, {recursive: true, force: true});
	const names = {together: 'one run (--tokens --prefetch)', 'one after another': 'ten one-site runs (--site), one after another', 'at once': 'ten one-site runs (--site), all at once'};
	for (const [way, m] of Object.entries(measured)) {
		table.push({
			case: `agency, ${siteCount} sites × ${assets} assets, 5% changed, ${perSecond}/s per token: ${names[way as keyof typeof names]}`,
			updated: m.updated,
			requests: m.requests,
			'received by the server': m.received,
			'requests per site': m.requests / siteCount,
			'429s': m.tooMany,
			seconds: Math.round(m.seconds * 10) / 10,
			'one run is faster by': (m.seconds / measured.together.seconds).toFixed(2),
		});
	}
}

/**
 * A million rows, each pass in a process of its own: a bare csv-parse → csv-stringify pass over the
 * input (the ceiling), a dry run of it, and a `--resume` of a run killed 1,000 rows before its end.
 */
import {rm} from 'node:fs/promises';
import {join} from 'node:path';
import {resultHeader} from '../rows/result.js';
import {newAsset, newSite, objectId} from '../sandbox/state.js';
import {Sandbox} from '../sandbox/server.js';
import {benchDir, CaseFailed, runAlone, spawned, table, writeLines} from './support.js';

const MILLION = 1_000_000;
const millionId = (i: number) => i.toString(16).padStart(24, '0');

/** `BENCH_CPU_PROF=<folder>`: each run in its own process writes a CPU profile there. */
function profiling(): string[] {
	const folder = process.env.BENCH_CPU_PROF;
	return folder ? ['--cpu-prof', '--cpu-prof-dir', folder] : [];
}

/**
 * The libraries alone: the input through csv-parse (records as arrays, BOM stripped) into
 * csv-stringify and a file, no row looked at. It runs from the package's folder, where the
 * libraries resolve (our code reaches each through its one owner module; this pass is the
 * measure of that code, so it leaves it out).
 */
async function barePass(input: string, out: string): Promise<{seconds: number; cpuSeconds: number; maxRssKb: number}> {
	const script = `
		import {createReadStream, createWriteStream} from 'node:fs';
		import {pipeline} from 'node:stream/promises';
		import {parse} from 'csv-parse';
		import {stringify} from 'csv-stringify';
		const started = performance.now();
		await pipeline(createReadStream(${JSON.stringify(input)}), parse({bom: true, relax_column_count: true}), stringify({record_delimiter: '\\r\\n'}), createWriteStream(${JSON.stringify(out)}));
		const usage = process.resourceUsage();
		console.log(JSON.stringify({seconds: (performance.now() - started) / 1000, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssKb: usage.maxRSS}));
	`;
	const {code, stdout, stderr} = await spawned([...profiling(), '--input-type=module', '-e', script], {cwd: new URL('../../', import.meta.url).pathname});
	if (code !== 0) {
		throw new CaseFailed(`the bare csv-parse → csv-stringify pass failed (exit ${String(code)}): ${stderr.trim().slice(0, 500)}`);
	}

	return JSON.parse(stdout) as {seconds: number; cpuSeconds: number; maxRssKb: number};
}

/**
 * 1,000,000 rows, in processes of their own: the bare pass, a dry run, then a `--resume` of a real
 * run killed 1,000 rows before the end (the results file holds 999,000 rows `updated` and a torn
 * line): the resume carries those over and sends the last 1,000 to a sandbox. Goals: the dry run at
 * ≥ 0.5 of the bare pass's speed; the resume within 1.2× the dry run's time.
 */
export async function millionRows(): Promise<void> {
	const dir = await benchDir();
	const input = join(dir, 'million.csv');
	const inputHeader = ['assetId', 'localeId', 'displayName', 'altText', 'notes'];
	const cells = (i: number) => `${millionId(i)},,image-${i}.jpg,"A photo, number ${i}, of something worth describing well",batch ${i % 97}`;
	await writeLines(input, async write => {
		write(`${inputHeader.join(',')}\n`);
		for (let i = 0; i < MILLION; i++) {
			if (!write(`${cells(i)}\n`) && i % 1000 === 0) {
				await new Promise(resolve => setImmediate(resolve));
			}
		}
	});
	const barePassed = await barePass(input, join(dir, 'million.bare.csv'));
	const bare = barePassed.seconds;
	await rm(join(dir, 'million.bare.csv'), {force: true});
	table.push({case: 'bare csv-parse → csv-stringify, 1M rows (own process)', rows: MILLION, done: MILLION, sent: 0, seconds: bare.toFixed(1), 'CPU s': barePassed.cpuSeconds.toFixed(1), 'rows/s': (MILLION / bare).toFixed(0), 'peak RSS MB': (barePassed.maxRssKb / 1024).toFixed(0), 'speed of the bare pass (goal ≥ 0.5)': '1.00', 'on CPU': '1.00', 'time vs dry run (goal ≤ 1.2)': '-', 'CPU vs dry run': '-'});
	const dry = await runAlone({input, out: join(dir, 'million.dry-run.csv'), dryRun: true}, profiling());
	table.push({case: 'dry run, 1M rows (own process)', rows: dry.rows, done: dry.statuses.would_update ?? 0, sent: 0, seconds: dry.seconds.toFixed(1), 'CPU s': dry.cpuSeconds.toFixed(1), 'rows/s': (dry.rows / dry.seconds).toFixed(0), 'peak RSS MB': (dry.maxRssKb / 1024).toFixed(0), 'speed of the bare pass (goal ≥ 0.5)': (bare / dry.seconds).toFixed(2), 'on CPU': (barePassed.cpuSeconds / dry.cpuSeconds).toFixed(2), 'time vs dry run (goal ≤ 1.2)': '1.00', 'CPU vs dry run': '1.00'});

	const redo = 1000;
	const out = join(dir, 'million.results.csv');
	const header = resultHeader(inputHeader);
	const tail = () => {
		const result = ['updated', '200', '', '', '1', '2026-01-01T00:00:00.000Z', ''];
		return [...result, ...Array.from({length: header.length - 1 - inputHeader.length - result.length}, () => '')].join(',');
	};

	await writeLines(out, async write => {
		write(`${header.join(',')}\r\n`);
		for (let i = 0; i < MILLION - redo; i++) {
			if (!write(`${i + 2},${cells(i)},${tail()}\r\n`) && i % 1000 === 0) {
				await new Promise(resolve => setImmediate(resolve));
			}
		}

		write(`${MILLION - redo + 2},${millionId(MILLION - redo)},,ima`);
	});
	const resumeSite = newSite(objectId('million/site'), 0);
	for (let i = MILLION - redo; i < MILLION; i++) {
		newAsset({site: resumeSite, id: millionId(i), fileName: `image-${i}.jpg`});
	}

	const sandbox = new Sandbox({sites: [resumeSite], tokens: [{token: 'bench'}], rate: {count: 100_000, windowMs: 1000}});
	const url = await sandbox.listen();
	const resumed = await runAlone({input, out, resume: true, apiBase: url, token: 'bench', rate: {count: 100_000, windowMs: 1000}, concurrency: 16}, profiling());
	await sandbox.close();
	const sent = sandbox.requests.filter(r => r.method === 'PATCH').length;
	table.push({case: `--resume, 1M rows, last ${redo} to redo (own process)`, rows: resumed.rows, done: resumed.statuses.updated ?? 0, sent, seconds: resumed.seconds.toFixed(1), 'CPU s': resumed.cpuSeconds.toFixed(1), 'rows/s': (resumed.rows / resumed.seconds).toFixed(0), 'peak RSS MB': (resumed.maxRssKb / 1024).toFixed(0), 'speed of the bare pass (goal ≥ 0.5)': (bare / resumed.seconds).toFixed(2), 'on CPU': (barePassed.cpuSeconds / resumed.cpuSeconds).toFixed(2), 'time vs dry run (goal ≤ 1.2)': (resumed.seconds / dry.seconds).toFixed(2), 'CPU vs dry run': (resumed.cpuSeconds / dry.cpuSeconds).toFixed(2)});
	await rm(dir, {recursive: true, force: true});
}

import {fileURLToPath} from 'node:url';
import {defaultRunConfig, type RunConfig} from './config.js';
import type {Logger} from './logger.js';
import {run, type Summary} from './run.js';
import {Sandbox} from './sandbox/server.js';

/** Where the example job lives: beside the package, one level above `dist/`. */
export const EXAMPLE_JOBS = fileURLToPath(new URL('../jobs.example.csv', import.meta.url));

export type DemoStep = {readonly title: string; readonly command: string; readonly summary: Summary};

/**
 * `npm start`: the example job against an in-process sandbox (10 requests/s so it takes seconds),
 * the whole product offline: a dry run that previews, the real run, and a nightly re-run with
 * `--only-missing` that changes nothing an editor wrote.
 */
export async function demo({logger, out, interrupt}: {logger: Logger; out: string; interrupt?: AbortSignal}): Promise<{steps: DemoStep[]; sandbox: string}> {
	const sandbox = new Sandbox({rate: {count: 10, windowMs: 1000}, tokens: [{token: 'demo-token'}]});
	const url = await sandbox.listen();
	const site = [...sandbox.sites.keys()][0]!;
	const base: RunConfig = {...defaultRunConfig(EXAMPLE_JOBS), out, apiBase: url, token: 'demo-token', site};
	const plan: Array<[string, string, Partial<RunConfig>]> = [
		['Preview: what would change', `altbatch run jobs.example.csv --site ${site} --dry-run --out ${out.replace(/\.csv$/, '.preview.csv')}`, {dryRun: true, out: out.replace(/\.csv$/, '.preview.csv')}],
		['Apply', `altbatch run jobs.example.csv --site ${site} --out ${out}`, {}],
		['Nightly re-run: fill only missing alt text', `altbatch run jobs.example.csv --site ${site} --only-missing --out ${out.replace(/\.csv$/, '.nightly.csv')}`, {onlyMissing: true, out: out.replace(/\.csv$/, '.nightly.csv')}],
	];
	const steps: DemoStep[] = [];
	try {
		for (const [title, command, overrides] of plan) {
			const summary = await run({...base, ...overrides}, {logger, interrupt});
			steps.push({title, command, summary});
			if (summary.stopped) {
				break;
			}
		}

		return {steps, sandbox: url};
	} finally {
		await sandbox.close();
	}
}

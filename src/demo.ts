import {fileURLToPath} from 'node:url';
import {DEFAULTS, type RunConfig} from './config.js';
import type {Logger} from './logger.js';
import {run, type Summary} from './run.js';
import {Sandbox} from './sandbox/server.js';

/** Where the example job lives: beside the package, one level above `dist/`. */
export const EXAMPLE_JOBS = fileURLToPath(new URL('../jobs.example.csv', import.meta.url));

/**
 * `npm start`: the example job against an in-process sandbox (10 requests/s so it takes seconds),
 * the whole product offline.
 */
export async function demo({logger, out, interrupt}: {logger: Logger; out: string; interrupt?: AbortSignal}): Promise<{summary: Summary; sandbox: string}> {
	const sandbox = new Sandbox({rate: {count: 10, windowMs: 1000}, tokens: [{token: 'demo-token'}]});
	const url = await sandbox.listen();
	try {
		const config: RunConfig = {
			...DEFAULTS,
			input: EXAMPLE_JOBS,
			out,
			apiBase: url,
			token: 'demo-token',
			rate: undefined,
			dryRun: false,
			resume: false,
			site: undefined,
			onlyMissing: false,
			encoding: undefined,
		};
		const summary = await run(config, {logger, interrupt});
		return {summary, sandbox: url};
	} finally {
		await sandbox.close();
	}
}


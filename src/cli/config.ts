import {basename, dirname, extname, join, resolve} from 'node:path';
import {UsageError} from '../errors.js';
import {DEFAULTS} from './options.js';
import {assertTokenFor} from './tokens.js';
import {needsNetwork, type RunConfig} from '../engine/run-config.js';

export {DEFAULTS, LOG_LEVELS, type LogLevel} from './options.js';
export {needsNetwork, type RunConfig} from '../engine/run-config.js';

/** `<jobs>.results.csv` beside the input; a dry run's `<jobs>.dry-run.csv`, so it never lands on a real run's results. */
export function defaultOut(input: string, {dryRun = false}: {dryRun?: boolean} = {}): string {
	return beside(input, dryRun ? 'dry-run' : 'results');
}

/** `altbatch undo` writes `<results>.undo.csv` beside the results it undoes (`.undo.dry-run.csv` for a dry run). */
export function defaultUndoOut(results: string, {dryRun = false}: {dryRun?: boolean} = {}): string {
	return beside(results, dryRun ? 'undo.dry-run' : 'undo');
}

/** `<name>.<suffix>.csv` in the folder of `path` (its extension dropped). */
function beside(path: string, suffix: string): string {
	return join(dirname(path), `${basename(path, extname(path))}.${suffix}.csv`);
}

/** A run with every default: the one source of them (the CLI, tests, the demo and the bench start here). */
export function defaultRunConfig(input: string): RunConfig {
	return {
		input,
		out: defaultOut(input),
		apiBase: DEFAULTS.apiBase,
		token: undefined,
		redis: undefined,
		report: undefined,
		tokens: undefined,
		rate: undefined,
		concurrency: DEFAULTS.concurrency,
		maxAttempts: DEFAULTS.maxAttempts,
		timeoutMs: DEFAULTS.timeoutMs,
		dryRun: false,
		resume: false,
		site: undefined,
		prefetch: false,
		onlyMissing: false,
		force: false,
		stagedOnly: false,
		maxWaitMs: DEFAULTS.maxWaitMs,
		encoding: undefined,
		backoffBaseMs: DEFAULTS.backoffBaseMs,
	};
}

/** The rules between options of a run (`run()` checks them too, for callers other than the CLI). */
export function checkRunConfig(config: RunConfig): void {
	if (resolve(config.out) === resolve(config.input)) {
		throw new UsageError(`--out ${JSON.stringify(config.out)} is the input file itself; the results go to a file of their own`);
	}

	if (config.onlyMissing && config.site === undefined && config.prefetch !== true) {
		throw new UsageError('--only-missing needs --prefetch (every site of the file) or --site <id>: the current alt text is read from the site', 'only_missing_needs_site');
	}

	if (needsNetwork(config)) {
		assertTokenFor({token: config.token, tokens: config.tokens, site: config.site, why: config.undo ? ' (undo reads the site, even on a dry run)' : ''});
	}
}

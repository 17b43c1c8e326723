import {hostname} from 'node:os';
import {resolve} from 'node:path';
import type {RunConfig} from '../engine/run-config.js';
import {RunLedger} from './ledger.js';

/**
 * The ledger of a real run or undo, opened before its first request: in `config.ledger` (the CLI
 * always sets it: `--ledger`, `ALTBATCH_LEDGER`, the XDG folder); none when a caller of `run()`
 * gives no folder. Recorded with the API base it talks to, so a sandbox's runs stay apart.
 */
export function openRunLedger({config, hooks, siteIds, now}: {
	config: RunConfig;
	hooks: {readonly command?: readonly string[] | undefined; readonly pid?: number | undefined};
	siteIds: ReadonlySet<string> | undefined;
	now: () => number;
}): RunLedger | undefined {
	if (config.ledger === undefined) {
		return undefined;
	}

	const sites = [...new Set([...config.site === undefined ? [] : [config.site], ...siteIds ?? []])].sort();
	return RunLedger.open({
		dir: config.ledger,
		now: new Date(now()),
		run: {
			command: hooks.command ?? [config.undo ? 'undo' : 'run', config.input],
			apiBase: config.apiBase,
			jobs: config.undoOf === undefined ? resolve(config.input) : undefined,
			results: resolve(config.out),
			sites,
			undo: config.undo === true,
			undoOf: config.undoOf,
			pid: hooks.pid,
			host: hostname(),
		},
	});
}

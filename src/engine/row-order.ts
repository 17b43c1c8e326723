import type {Logger} from '../logger.js';
import type {Outcome} from '../rows/result.js';

/**
 * Rows of one key one after another, in file order, across every lane of the run (a target's key:
 * rows of one asset whatever their locale). Returns once the row's task has run.
 */
export function keyOrder(): (key: string, task: () => Promise<void>) => Promise<void> {
	const chains = new Map<string, Promise<void>>();
	return async (key, task) => {
		const before = chains.get(key);
		const mine = (async () => {
			await before;
			await task();
		})();
		chains.set(key, mine);
		try {
			await mine;
		} finally {
			if (chains.get(key) === mine) {
				chains.delete(key);
			}
		}
	};
}

/** A row whose work threw (a bug of ours): `failed` with the reason, and the run goes on. No token in the text. */
export function internalFailure({error, logger, row, secrets}: {error: unknown; logger: Logger; row: number; secrets: readonly string[]}): Outcome {
	const scrub = (text: string) => secrets.reduce((clean, secret) => clean.replaceAll(secret, '[redacted]'), text);
	const message = scrub(error instanceof Error ? error.message : String(error));
	logger.error({row, error: message, stack: error instanceof Error && error.stack ? scrub(error.stack) : undefined}, 'internal error on a row');
	return {status: 'failed', errorCode: 'internal_error', errorMessage: `internal error: ${message}`, attempts: 0};
}

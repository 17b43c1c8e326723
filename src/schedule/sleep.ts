import {setTimeout as delay} from 'node:timers/promises';

/** Thrown out of waits when the run stops; the row then ends `not_attempted`. */
export class StoppedError extends Error {
	constructor() {
		super('stopped');
		this.name = 'StoppedError';
	}
}

/** Thrown instead of sending when the budget's window opens again later than `--max-wait`: a request sent now would only take a 429. */
export class WaitTooLongError extends Error {
	readonly waitMs: number;

	constructor(waitMs: number) {
		super(`the budget's window opens again in ${Math.round(waitMs / 1000)} s`);
		this.name = 'WaitTooLongError';
		this.waitMs = waitMs;
	}
}

/** Sleeps `ms`, or throws `StoppedError` as soon as `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (signal?.aborted) {
		throw new StoppedError();
	}

	if (ms <= 0) {
		return;
	}

	try {
		await delay(ms, undefined, {signal});
	} catch {
		throw new StoppedError();
	}
}

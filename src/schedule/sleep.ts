import {setTimeout as delay} from 'node:timers/promises';

/** Thrown out of waits when the run stops; the row then ends `not_attempted`. */
export class StoppedError extends Error {
	constructor() {
		super('stopped');
		this.name = 'StoppedError';
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

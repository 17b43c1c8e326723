import {setMaxListeners} from 'node:events';
import Bottleneck from 'bottleneck';
import {StoppedError} from './sleep.js';

/**
 * Bottleneck, wrapped thinly: slots spaced `spacingMs` apart in this process (a budget shared
 * across processes is kept in Redis instead: shared-budget.ts). A slot is an empty job: the request
 * is sent by the pacer after it, so whatever Bottleneck does with the job later, a request is never
 * sent twice nor lost track of.
 */
export class Limiter {
	readonly #bottleneck: Bottleneck;
	#jobs = 0;
	readonly #retired = new AbortController();

	private constructor(bottleneck: Bottleneck) {
		this.#bottleneck = bottleneck;
		// Every request waiting for a slot listens: up to --concurrency of them.
		setMaxListeners(0, this.#retired.signal);
	}

	static local(spacingMs: number): Limiter {
		return new Limiter(new Bottleneck({maxConcurrent: null, minTime: spacingMs}));
	}

	/**
	 * Resolves when the next slot comes. Rejects when the limiter is retired (its waiting slots are
	 * dropped), and at once when `signal` aborts (the run stops: a queued slot must not hold the
	 * exit; the empty job left in Bottleneck is dropped when the limiter closes).
	 */
	async slot(signal?: AbortSignal): Promise<void> {
		const settled = new AbortController();
		const retired = new Promise<never>((_resolve, reject) => {
			const onRetired = () => {
				reject(new Error('the limiter was retired'));
			};

			const onStopped = () => {
				reject(new StoppedError());
			};

			if (this.#retired.signal.aborted) {
				onRetired();
			} else if (signal?.aborted) {
				onStopped();
			}

			this.#retired.signal.addEventListener('abort', onRetired, {once: true, signal: settled.signal});
			signal?.addEventListener('abort', onStopped, {once: true, signal: settled.signal});
		});
		try {
			await Promise.race([this.#bottleneck.schedule({id: `r${++this.#jobs}`}, async () => undefined), retired]);
		} finally {
			settled.abort();
		}
	}

	async setSpacing(spacingMs: number): Promise<void> {
		// Bottleneck's typings say updateSettings returns the limiter.
		await (this.#bottleneck.updateSettings({minTime: spacingMs}) as unknown);
	}

	/** Drops every waiting slot (their `slot()` rejects). */
	async retire(): Promise<void> {
		this.#retired.abort();
		await this.#bottleneck.stop({dropWaitingJobs: true});
	}

	async close(): Promise<void> {
		await this.#bottleneck.stop({dropWaitingJobs: true});
	}
}

import {randomUUID} from 'node:crypto';
import {setMaxListeners} from 'node:events';
import {setTimeout as delay} from 'node:timers/promises';
import Bottleneck from 'bottleneck';
import {StoppedError} from './sleep.js';

/** How long Redis has to answer at the start before the pacer carries on alone. */
const READY_TIMEOUT_MS = 5000;
/** Slots in Redis are forgotten after this long if the process that took them died. */
const SHARED_JOB_EXPIRATION_MS = 30_000;

/** Redis connection options from a `redis://` URL (Bottleneck creates the ioredis clients). */
function redisOptions(url: string): Record<string, unknown> {
	const parsed = new URL(url);
	return {
		host: parsed.hostname || '127.0.0.1',
		port: parsed.port === '' ? 6379 : Number(parsed.port),
		username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
		password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
		db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
		tls: parsed.protocol === 'rediss:' ? {} : undefined,
		// Fail fast while Redis is away: the pacer then carries on with a local budget.
		enableOfflineQueue: false,
		maxRetriesPerRequest: 0,
		connectTimeout: 2000,
		retryStrategy: () => null,
		lazyConnect: false,
	};
}

/**
 * Bottleneck, wrapped thinly: slots spaced `spacingMs` apart, in this process or, through Redis
 * (its datastore), across every process on the same key. A slot is an empty job: the request is
 * sent by the pacer after it, so whatever Bottleneck (or a Redis that went away) does with the job
 * later, a request is never sent twice nor lost track of.
 */
export class Limiter {
	readonly #bottleneck: Bottleneck;
	readonly #shared: boolean;
	/** Job ids must be unique in Redis while alive, across processes. */
	readonly #prefix = randomUUID();
	#jobs = 0;
	readonly #retired = new AbortController();

	private constructor(bottleneck: Bottleneck, shared: boolean) {
		this.#bottleneck = bottleneck;
		this.#shared = shared;
		// Every request waiting for a slot listens: up to --concurrency of them.
		setMaxListeners(0, this.#retired.signal);
	}

	static local(spacingMs: number): Limiter {
		return new Limiter(new Bottleneck({maxConcurrent: null, minTime: spacingMs}), false);
	}

	/**
	 * Joins the limiter kept in Redis under `key` (its spacing set to ours); throws if Redis does not
	 * answer. `onError`: Redis went away later; `onMessage`: another process published.
	 */
	static async redis({url, key, spacingMs, onError, onMessage}: {url: string; key: string; spacingMs: number; onError: (error: Error) => void; onMessage: (text: string) => void}): Promise<Limiter> {
		const bottleneck = new Bottleneck({id: key, datastore: 'ioredis', clientOptions: redisOptions(url), clearDatastore: false, maxConcurrent: null, minTime: spacingMs});
		// Until joined, Redis's first error (refused, auth) ends the wait at once: Bottleneck's
		// `ready()` never settles on its own when the connection fails, and a run must not wait on it.
		const joining = new AbortController();
		const failedToJoin = new Promise<never>((_resolve, reject) => {
			bottleneck.on('error', (error: Error) => {
				if (joining.signal.aborted) {
					onError(error);
				} else {
					reject(error);
				}
			});
		});
		try {
			const limiter = await Promise.race([
				(async () => {
					await bottleneck.ready();
					const joined = new Limiter(bottleneck, true);
					// Another process may have left a different spacing in Redis.
					await joined.setSpacing(spacingMs);
					return joined;
				})(),
				failedToJoin,
				// A Redis that accepts the connection and never answers: this timer keeps the process
				// alive until it gives up (unreferenced, an exit would come first, with nothing settled).
				delay(READY_TIMEOUT_MS, undefined, {signal: joining.signal}).then(() => {
					throw new Error(`no answer from Redis in ${READY_TIMEOUT_MS / 1000} s`);
				}),
			]);
			bottleneck.on('message', onMessage);
			return limiter;
		} catch (error) {
			bottleneck.removeAllListeners('error');
			// Errors of the connection being let go are of no interest any more.
			bottleneck.on('error', () => undefined);
			// Already failing: a failure to disconnect adds nothing.
			void bottleneck.disconnect(false).catch(() => undefined);
			throw error;
		} finally {
			// Joined or not: the timer is cleared, and later errors go to `onError`.
			joining.abort();
		}
	}

	get shared(): boolean {
		return this.#shared;
	}

	/**
	 * Resolves when the next slot comes. Rejects when the limiter is retired (its waiting slots are
	 * dropped) or Redis fails, and at once when `signal` aborts (the run stops: a queued slot must
	 * not hold the exit; the empty job left in Bottleneck is dropped when the limiter closes).
	 */
	async slot(signal?: AbortSignal): Promise<void> {
		const options = this.#shared ? {id: `${this.#prefix}-${++this.#jobs}`, expiration: SHARED_JOB_EXPIRATION_MS} : {id: `r${++this.#jobs}`};
		// A limiter whose Redis went away may never settle its waiting jobs, even stopped: retiring it
		// ends the wait for the slot here.
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
			await Promise.race([this.#bottleneck.schedule(options, async () => undefined), retired]);
		} finally {
			settled.abort();
		}
	}

	async setSpacing(spacingMs: number): Promise<void> {
		// Bottleneck's typings say updateSettings returns the limiter; with Redis it returns a promise.
		await (this.#bottleneck.updateSettings({minTime: spacingMs}) as unknown);
	}

	async publish(text: string): Promise<void> {
		await this.#bottleneck.publish(text);
	}

	/** Drops every waiting slot (their `slot()` rejects); with Redis, also lets go of the connection. */
	async retire(): Promise<void> {
		this.#retired.abort();
		try {
			await this.#bottleneck.stop({dropWaitingJobs: true});
		} finally {
			if (this.#shared) {
				await this.#bottleneck.disconnect(false);
			}
		}
	}

	/** Closes the Redis connection after writing what is pending (a normal end). */
	async close(): Promise<void> {
		if (this.#shared) {
			await this.#bottleneck.disconnect(true);
			return;
		}

		await this.#bottleneck.stop({dropWaitingJobs: true});
	}
}

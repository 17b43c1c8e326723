import {setTimeout as delay} from 'node:timers/promises';
import {Redis, type RedisOptions} from 'ioredis';
import {ANSWER, budgetChannel, budgetKeys, FLY_TTL_MS, KEY_TTL_MS, LONGEST_WINDOW_MS, readTake, TAKE, UNKNOWN_POLL_MS, type Take} from './redis-scripts.js';

/** How long Redis has to answer at the start before the pacer carries on alone. */
const READY_TIMEOUT_MS = 5000;
/** A command Redis does not answer in this long fails: Redis is taken as gone. */
const COMMAND_TIMEOUT_MS = 5000;

/** Connection options from a `redis://` (or `rediss://`) URL. */
function redisOptions(url: string): RedisOptions {
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
		commandTimeout: COMMAND_TIMEOUT_MS,
		retryStrategy: () => null,
		lazyConnect: true,
	};
}

/** What a grant's request came to, as the budget in Redis counts it. */
export type Answered = {readonly sent: boolean; readonly limit: number | undefined; readonly remaining: number | undefined; readonly windowMs: number | undefined};

/**
 * The ioredis owner: one token's budget in Redis (`TAKE` and `ANSWER`, see redis-scripts.ts) and its
 * messages (pub/sub on a second connection). Connects or throws; after that, every failure goes to
 * `onError` (Redis went away) and the calls reject.
 */
export class RedisLink {
	readonly #client: Redis;
	readonly #subscriber: Redis;
	readonly #keys: [string, string, string];
	readonly #channel: string;
	#closing = false;

	private constructor({client, subscriber, key}: {client: Redis; subscriber: Redis; key: string}) {
		this.#client = client;
		this.#subscriber = subscriber;
		this.#keys = budgetKeys(key);
		this.#channel = budgetChannel(key);
	}

	/**
	 * Connects both connections and subscribes to the budget's messages; throws Redis's first error
	 * (refused, auth) or, when Redis accepts the connection and never answers, after 5 s.
	 */
	static async connect({url, key, onError, onMessage}: {url: string; key: string; onError: (error: Error) => void; onMessage: (text: string) => void}): Promise<RedisLink> {
		const options = redisOptions(url);
		const client = new Redis(options);
		const subscriber = new Redis(options);
		const link = new RedisLink({client, subscriber, key});
		const joining = new AbortController();
		const failedToJoin = new Promise<never>((_resolve, reject) => {
			for (const connection of [client, subscriber]) {
				connection.on('error', (error: Error) => {
					if (joining.signal.aborted) {
						link.#lost(error);
					} else {
						reject(error);
					}
				});
				connection.on('end', () => {
					if (joining.signal.aborted) {
						link.#lost(new Error('the connection to Redis closed'));
					} else {
						reject(new Error('the connection to Redis closed'));
					}
				});
			}
		});
		try {
			await Promise.race([
				(async () => {
					await Promise.all([client.connect(), subscriber.connect()]);
					// Auth and the server itself are only proven by a command answered.
					await client.ping();
					await subscriber.subscribe(link.#channel);
				})(),
				failedToJoin,
				// A Redis that accepts the connection and never answers: this timer keeps the process
				// alive until it gives up (unreferenced, an exit would come first, with nothing settled).
				delay(READY_TIMEOUT_MS, undefined, {signal: joining.signal}).then(() => {
					throw new Error(`no answer from Redis in ${READY_TIMEOUT_MS / 1000} s`);
				}),
			]);
		} catch (error) {
			link.#closing = true;
			client.disconnect();
			subscriber.disconnect();
			throw error;
		} finally {
			joining.abort();
		}

		link.#onError = onError;
		subscriber.on('message', (channel: string, text: string) => {
			if (channel === link.#channel) {
				onMessage(text);
			}
		});
		return link;
	}

	#onError: ((error: Error) => void) | undefined;

	/** Asks the budget for a grant: `spaced`, one `spacingMs` after any process's last grant too. */
	async take({mode, limit, windowMs, spacingMs}: {mode: 'burst' | 'spaced'; limit: number | undefined; windowMs: number | undefined; spacingMs: number}): Promise<Take> {
		const answer = await this.#client.eval(TAKE, 3, ...this.#keys, mode, whole(limit), whole(windowMs), whole(spacingMs), FLY_TTL_MS, KEY_TTL_MS, LONGEST_WINDOW_MS, UNKNOWN_POLL_MS);
		return readTake(answer);
	}

	/** Hands a grant back: its request answered (or lost on the way), or never sent. Resolves to requests not ours seen. */
	async answer(grant: number, {sent, limit, remaining, windowMs}: Answered): Promise<number> {
		const seen = await this.#client.eval(ANSWER, 3, ...this.#keys, grant, sent ? 'sent' : 'unused', whole(limit), remaining ?? -1, whole(windowMs), KEY_TTL_MS);
		return typeof seen === 'number' ? seen : 0;
	}

	async publish(text: string): Promise<void> {
		await this.#client.publish(this.#channel, text);
	}

	/** Lets go of both connections: `graceful`, after what was sent is answered. */
	async close(graceful: boolean): Promise<void> {
		this.#closing = true;
		if (!graceful) {
			this.#client.disconnect();
			this.#subscriber.disconnect();
			return;
		}

		await Promise.all([this.#client.quit(), this.#subscriber.quit()]);
	}

	#lost(error: Error): void {
		if (!this.#closing) {
			this.#closing = true;
			this.#onError?.(error);
			this.#client.disconnect();
			this.#subscriber.disconnect();
		}
	}
}

/** A count or a time as Redis reads it: whole, 0 when not known. */
function whole(value: number | undefined): number {
	return value === undefined || !Number.isFinite(value) ? 0 : Math.max(0, Math.ceil(value));
}

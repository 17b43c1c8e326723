import {createHash, randomUUID} from 'node:crypto';
import {setTimeout as delay} from 'node:timers/promises';
import type {Logger} from '../logger.js';
import {RedisLink, type Answered} from './redis.js';
import type {Take} from './redis-scripts.js';
import type {PauseReason} from './rate.js';

/** How often each process says it is there, so the others can count it. */
const HEARTBEAT_MS = 2000;
/** A Redis that went away unnoticed may never answer the goodbye: the run ends anyway after this. */
const CLOSE_TIMEOUT_MS = 2000;

/** The Redis key for a token's shared budget: a hash of the token, never the token. */
export function budgetKey(token: string): string {
	return `altbatch:${createHash('sha256').update(token).digest('hex').slice(0, 24)}`;
}

/** `forMs`: a pause is published as a duration, never as a time (the machines' clocks may differ). */
type Message = {readonly t?: unknown; readonly id?: unknown; readonly forMs?: unknown; readonly reason?: unknown};

export type SharedBudgetEvents = {
	/** Processes on the budget changed (this one included). */
	readonly onPeers: (processes: number) => void;
	/** Another process paused every request for `forMs` from now. */
	readonly onPause: (forMs: number, reason: PauseReason | undefined) => void;
	/** Redis went away: the budget is this process's alone from now on. */
	readonly onLost: (reason: string) => void;
};

/**
 * One token's budget shared through Redis with every process using the same key: one window's
 * budget for all, taken a grant at a time (see redis-scripts.ts), a heartbeat to count the
 * processes, and every pause published to all.
 */
export class SharedBudget {
	readonly #link: RedisLink;
	readonly #self = randomUUID();
	/** Other processes heard from, and when last. */
	readonly #peers = new Map<string, number>();
	readonly #heartbeat: NodeJS.Timeout;
	readonly #logger: Logger;
	readonly #events: SharedBudgetEvents;
	readonly #now: () => number;
	#lost = false;

	private constructor({link, logger, events, now}: {link: RedisLink; logger: Logger; events: SharedBudgetEvents; now: () => number}) {
		this.#link = link;
		this.#logger = logger;
		this.#events = events;
		this.#now = now;
		this.#hello();
		this.#heartbeat = setInterval(() => {
			this.#hello();
		}, HEARTBEAT_MS);
		this.#heartbeat.unref();
	}

	/** Joins the budget kept in Redis under `key`; throws if Redis cannot be reached. */
	static async join({url, key, logger, now, events}: {url: string; key: string; logger: Logger; now: () => number; events: SharedBudgetEvents}): Promise<SharedBudget> {
		// The link's events reach the budget once it exists; before, a failure is thrown from here.
		const joined: {budget?: SharedBudget} = {};
		const link = await RedisLink.connect({
			url,
			key,
			onError(error) {
				joined.budget?.fail(`Redis error: ${error.message}`);
			},
			onMessage(text) {
				if (joined.budget) {
					joined.budget.#onMessage(text);
				}
			},
		});
		joined.budget = new SharedBudget({link, logger, events, now});
		return joined.budget;
	}

	/** Processes on this budget, this one included. */
	get processes(): number {
		return this.#peers.size + 1;
	}

	/** A grant from the budget in Redis, or how long to wait for one. Rejects when Redis fails. */
	async take(asked: Parameters<RedisLink['take']>[0]): Promise<Take> {
		return this.#link.take(asked);
	}

	/**
	 * Hands a grant back (answered, lost on the way, or never sent). Not awaited by the sender: the
	 * connection keeps the order, so this process's next grant is taken after it. A failure is
	 * Redis gone.
	 */
	answer(grant: number, answered: Answered): void {
		if (this.#lost) {
			return;
		}

		this.#link.answer(grant, answered).then(foreign => {
			if (foreign > 0) {
				this.#logger.debug({foreign}, 'the server counted requests of another client in this window: left to it');
			}
		}, (error: unknown) => {
			this.fail(`Redis error: ${(error as Error).message}`);
		});
	}

	/** Tells every other process to pause for `forMs` from now. */
	publishPause(forMs: number, reason: PauseReason): void {
		this.#publish({t: 'pause', id: this.#self, forMs, reason});
	}

	async close(): Promise<void> {
		clearInterval(this.#heartbeat);
		if (!this.#lost) {
			const closing = this.#link.close(true);
			const timeout = new AbortController();
			const gaveUp = await Promise.race([closing.then(() => false), delay(CLOSE_TIMEOUT_MS, true, {signal: timeout.signal})]);
			timeout.abort();
			if (gaveUp) {
				this.#logger.debug('Redis did not answer the disconnect in time; the run ends without it');
				await this.#link.close(false);
			}
		}
	}

	/** Redis is gone (an error, or a call that failed): said once, and the connections let go. */
	fail(reason: string): void {
		if (this.#lost) {
			return;
		}

		this.#lost = true;
		clearInterval(this.#heartbeat);
		this.#events.onLost(reason);
		this.#link.close(false).catch((error: unknown) => {
			this.#logger.debug({err: error}, 'the Redis connection did not close cleanly after Redis went away');
		});
	}

	#hello(): void {
		this.#publish({t: 'hello', id: this.#self});
	}

	#publish(message: Message): void {
		// A message lost while Redis is away is not retried: a failing Redis is noticed by the budget's calls.
		this.#link.publish(JSON.stringify(message)).catch((error: unknown) => {
			this.#logger.debug({err: error, type: message.t}, 'a message to the other processes was not published');
		});
	}

	#onMessage(text: string): void {
		let message: Message;
		try {
			message = JSON.parse(text) as Message;
		} catch {
			this.#logger.debug('an unreadable message on the shared budget was ignored');
			return;
		}

		if (typeof message.id !== 'string' || message.id === this.#self) {
			return;
		}

		const known = this.#peers.has(message.id);
		this.#peers.set(message.id, this.#now());
		if (!known) {
			this.#events.onPeers(this.processes);
			// A newcomer hears of this process at once, not at the next heartbeat: a run may be short.
			this.#hello();
		}

		if (message.t === 'pause' && typeof message.forMs === 'number' && message.forMs > 0) {
			this.#events.onPause(message.forMs, peerReason(message.reason));
		}
	}
}

/** A pause's reason as another process published it (a process of another version may say anything): one of ours, else none. */
function peerReason(reason: unknown): PauseReason | undefined {
	return reason === '429' || reason === 'remaining' ? reason : undefined;
}

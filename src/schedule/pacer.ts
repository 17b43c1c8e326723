import {EventEmitter, once} from 'node:events';
import {setTimeout as delay} from 'node:timers/promises';
import type {Logger} from '../logger.js';
import {Limiter} from './limiter.js';
import {RateModel, type BudgetMode, type Decision, type ModelStats, type Rate, type RateReply, type RateSource, type RateTimeline} from './rate.js';
import {SharedBudget} from './shared-budget.js';
import {sleep, StoppedError, WaitTooLongError} from './sleep.js';

export type RateStats = ModelStats & {readonly budget: BudgetMode};

/** A request waiting at the gate looks at it again at least this often. */
const GATE_RECHECK_MS = 1000;
/** While bursting with no credit, a request waits for the next answer, or this long at most. */
const CREDIT_WAIT_MS = 250;

/**
 * Applies the rate model's decisions: waits at the gate, takes a slot from the limiter (Bottleneck,
 * shared through Redis with `share`), asks the model once more just before sending, and hands it
 * every answer. All the waiting is here; all the deciding is in `RateModel`.
 */
export class Pacer {
	readonly #model: RateModel;
	readonly #now: () => number;
	readonly #logger: Logger;
	readonly #onPause: ((untilMs: number, reason: string) => void) | undefined;
	#limiter: Limiter;
	#shared: SharedBudget | undefined;
	#budget: BudgetMode = {kind: 'local'};
	#onBudgetChange: ((mode: BudgetMode) => void) | undefined;
	/** Emits `answer` whenever an answer came back: requests waiting for credit look again. */
	readonly #answers = new EventEmitter();

	constructor({rate, source, maxWaitMs, now = Date.now, logger, onPause}: {rate: Rate; source: RateSource; maxWaitMs: number; now?: () => number; logger: Logger; onPause?: (untilMs: number, reason: string) => void}) {
		this.#model = new RateModel({rate, source, maxWaitMs});
		this.#now = now;
		this.#logger = logger;
		this.#onPause = onPause;
		this.#limiter = Limiter.local(this.#model.spacingMs);
		// Every request waiting for credit listens: up to --concurrency of them.
		this.#answers.setMaxListeners(0);
	}

	get rate(): Rate {
		return this.#model.rate;
	}

	get pausedUntil(): number {
		return this.#model.pausedUntil;
	}

	timeline(): RateTimeline {
		return this.#model.timeline();
	}

	stats(): RateStats {
		return {...this.#model.stats(this.#now()), budget: this.#budget};
	}

	/**
	 * Shares the budget through Redis with every process using the same key: one spacing for all
	 * and every pause published to all. If Redis cannot be reached, or goes away later, this process
	 * carries on with a local limiter at a conservative share.
	 */
	async share({url, key, onChange}: {url: string; key: string; onChange: (mode: BudgetMode) => void}): Promise<void> {
		this.#onBudgetChange = onChange;
		// Shared, the budget is spaced evenly (set before joining: the limiter in Redis takes this spacing).
		this.#model.share(1);
		try {
			this.#shared = await SharedBudget.join({
				url,
				key,
				spacingMs: this.#model.spacingMs,
				logger: this.#logger,
				now: this.#now,
				events: {
					onPeers: processes => {
						this.#model.share(processes);
						this.#budget = {kind: 'shared', peers: processes - 1};
					},
					onPause: (forMs, reason) => {
						this.#apply(this.#model.pausedByPeer(forMs, reason, this.#now()));
					},
					onLost: reason => {
						this.#fallBack(reason);
					},
				},
			});
		} catch (error) {
			this.#apply(this.#model.leaveShared(1));
			this.#setBudget({kind: 'fallback', share: 1, reason: `Redis unreachable at start (${(error as Error).message})`});
			return;
		}

		this.#model.share(this.#shared.processes);
		this.#replaceLimiter(this.#shared.limiter);
		this.#setBudget({kind: 'shared', peers: 0});
	}

	/** Sets the rate (from `introspect`, say), unless a lower one was told. */
	setRate(rate: Rate, source: RateSource): void {
		this.#apply(this.#model.setRate(rate, source));
	}

	/**
	 * Sends through the pacer: waits for the gate, takes the next slot, checks the gate again and
	 * sends. Throws `StoppedError` if `signal` aborts before the request leaves.
	 */
	async send<T>({request, describe, signal}: {request: () => Promise<T>; describe: (reply: T) => RateReply; signal: AbortSignal}): Promise<T> {
		for (;;) {
			const overlong = this.#model.overlongWaitMs;
			if (overlong !== undefined) {
				throw new WaitTooLongError(overlong);
			}

			await this.#waitForGate(signal);
			const limiter = this.#limiter;
			try {
				await limiter.slot(signal);
			} catch (error) {
				if (error instanceof StoppedError) {
					throw error;
				}

				if (limiter !== this.#limiter) {
					continue; // Retired (a rate change, Redis lost): its waiting slots were dropped.
				}

				if (!limiter.shared) {
					throw error;
				}

				this.#shared?.fail(`Redis error: ${(error as Error).message}`);
				continue;
			}

			if (signal.aborted) {
				throw new StoppedError();
			}

			if (limiter !== this.#limiter) {
				continue;
			}

			// The gate is checked again in the same tick as the send: nothing leaves while it is closed.
			const now = this.#now();
			if (!this.#model.maySend(now)) {
				if (this.#model.spacingMs === 0 && now >= this.#model.openAt) {
					// No slot spacing to wait on while bursting: wait for an answer to bring credit.
					await this.#nextAnswer(signal);
				}

				continue;
			}

			const sequence = this.#model.sent(now);
			let reply: T;
			try {
				reply = await request();
			} catch (error) {
				this.#model.lost(sequence);
				this.#answers.emit('answer');
				throw error;
			}

			this.#apply(this.#model.observe(describe(reply), sequence, this.#now()));
			this.#answers.emit('answer');
			return reply;
		}
	}

	async close(): Promise<void> {
		const shared = this.#shared;
		this.#shared = undefined;
		try {
			await (shared ? shared.close() : this.#limiter.close());
		} catch (error) {
			this.#logger.debug({err: error}, 'the rate limiter did not close cleanly');
		}
	}

	#apply(decision: Decision): void {
		const {rate, pause} = decision;
		if (rate) {
			if (this.#shared || !rate.faster) {
				// With Redis: one spacing for every process on this budget, kept there.
				this.#limiter.setSpacing(this.#model.spacingMs).catch((error: unknown) => {
					this.#logger.debug({err: error}, 'the new spacing was not stored');
				});
			} else {
				// Bottleneck keeps the next slot it computed at the old pace: a new limiter (the model
				// spaces its first slot from the last request sent).
				this.#replaceLimiter(Limiter.local(this.#model.spacingMs));
			}
		}

		if (pause) {
			if (pause.publish) {
				this.#shared?.publishPause(pause.until - this.#now(), pause.reason);
			}

			this.#onPause?.(pause.until, pause.reason);
		}
	}

	/** Puts a new limiter in place; slots waiting on the old one are dropped and taken again. */
	#replaceLimiter(limiter: Limiter): void {
		const old = this.#limiter;
		this.#limiter = limiter;
		old.retire().catch((error: unknown) => {
			this.#logger.debug({err: error}, 'the old rate limiter did not stop cleanly');
		});
	}

	/** Redis went away: a local limiter at 1/(processes seen) of the rate, said once. */
	#fallBack(reason: string): void {
		const shared = this.#shared;
		if (!shared) {
			return;
		}

		this.#shared = undefined;
		const share = 1 / shared.processes;
		// The shared limiter is retired by the shared budget itself.
		this.#limiter = Limiter.local(this.#model.spacingMs);
		this.#apply(this.#model.leaveShared(share));
		this.#setBudget({kind: 'fallback', share, reason});
	}

	#setBudget(mode: BudgetMode): void {
		this.#budget = mode;
		this.#onBudgetChange?.(mode);
	}

	/** Waits for the next answer, or `CREDIT_WAIT_MS` (a timer that keeps the process alive meanwhile). */
	async #nextAnswer(signal: AbortSignal): Promise<void> {
		const done = new AbortController();
		const stop = () => {
			done.abort();
		};

		signal.addEventListener('abort', stop, {once: true, signal: done.signal});
		try {
			await Promise.race([once(this.#answers, 'answer', {signal: done.signal}), delay(CREDIT_WAIT_MS, undefined, {signal: done.signal})]);
		} catch {
			// Aborted by the run: thrown below.
		} finally {
			done.abort();
		}

		if (signal.aborted) {
			throw new StoppedError();
		}
	}

	async #waitForGate(signal: AbortSignal): Promise<void> {
		// Looked at again every second at least: the gate may open sooner (a rate learned meanwhile).
		for (let wait = this.#model.openAt - this.#now(); wait > 0; wait = this.#model.openAt - this.#now()) {
			await sleep(Math.min(wait, GATE_RECHECK_MS), signal);
		}

		if (signal.aborted) {
			throw new StoppedError();
		}
	}
}

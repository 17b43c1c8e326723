import {EventEmitter, once} from 'node:events';
import {setTimeout as delay} from 'node:timers/promises';
import type {Logger} from '../logger.js';
import {Limiter} from './limiter.js';
import {RateModel, type BudgetMode, type Decision, type PauseReason, type ModelStats, type Rate, type RateReply, type RateSource, type RateTimeline} from './rate.js';
import {SharedBudget} from './shared-budget.js';
import {sleep, StoppedError, WaitTooLongError} from './sleep.js';

export type RateStats = ModelStats & {readonly budget: BudgetMode};

/** A request waiting at the gate looks at it again at least this often. */
const GATE_RECHECK_MS = 1000;
/** While bursting with no credit, a request waits for the next answer, or this long at most. */
const CREDIT_WAIT_MS = 250;

/**
 * Applies the rate model's decisions: waits at the gate, takes a slot from the limiter (Bottleneck;
 * shared with `share`, a grant from the budget in Redis instead), asks the model once more just
 * before sending, and hands it (and Redis) every answer. All the waiting is here; all the deciding
 * is in `RateModel` and, across processes, in Redis's scripts.
 */
export class Pacer {
	readonly #model: RateModel;
	readonly #now: () => number;
	readonly #logger: Logger;
	readonly #onPause: ((untilMs: number, reason: PauseReason) => void) | undefined;
	#limiter: Limiter;
	#shared: SharedBudget | undefined;
	#budget: BudgetMode = {kind: 'local'};
	#onBudgetChange: ((mode: BudgetMode) => void) | undefined;
	/** Emits `answer` whenever an answer came back: requests waiting for credit look again. */
	readonly #answers = new EventEmitter();

	constructor({rate, source, maxWaitMs, now = Date.now, logger, onPause}: {rate: Rate; source: RateSource; maxWaitMs: number; now?: () => number; logger: Logger; onPause?: (untilMs: number, reason: PauseReason) => void}) {
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
	 * Shares the budget through Redis with every process using the same key: one window's budget
	 * for all, granted a request at a time, and every pause published to all. If Redis cannot be
	 * reached, or goes away later, this process carries on with a local limiter at a conservative share.
	 */
	async share({url, key, onChange}: {url: string; key: string; onChange: (mode: BudgetMode) => void}): Promise<void> {
		this.#onBudgetChange = onChange;
		this.#model.share(1);
		try {
			this.#shared = await SharedBudget.join({
				url,
				key,
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
		this.#setBudget({kind: 'shared', peers: 0});
	}

	/** Sets the rate (from `introspect`, say), unless a lower one was told. */
	setRate(rate: Rate, source: RateSource): void {
		this.#apply(this.#model.setRate(rate, source));
	}

	/**
	 * Sends through the pacer: waits for the gate, takes the next slot (or a grant from Redis),
	 * checks the gate again and sends. Throws `StoppedError` if `signal` aborts before the request leaves.
	 */
	async send<T>({request, describe, signal}: {request: () => Promise<T>; describe: (reply: T) => RateReply; signal: AbortSignal}): Promise<T> {
		for (;;) {
			const overlong = this.#model.overlongWaitMs;
			if (overlong !== undefined) {
				throw new WaitTooLongError(overlong);
			}

			await this.#waitForGate(signal);
			const shared = this.#shared;
			const slot = shared ? await this.#grant(shared, signal) : await this.#slot(signal);
			if (slot === 'again') {
				continue;
			}

			const grant = typeof slot === 'number' && shared ? {shared, grant: slot} : undefined;
			const unused = () => {
				grant?.shared.answer(grant.grant, {sent: false, limit: undefined, remaining: undefined, windowMs: undefined});
			};

			if (signal.aborted) {
				unused();
				throw new StoppedError();
			}

			// Redis joined or lost meanwhile: the slot belongs to a budget no longer kept.
			if (grant?.shared !== this.#shared) {
				unused();
				continue;
			}

			// The gate is checked again in the same tick as the send: nothing leaves while it is closed.
			const now = this.#now();
			if (!this.#model.maySend(now)) {
				unused();
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
				grant?.shared.answer(grant.grant, {sent: true, limit: undefined, remaining: undefined, windowMs: undefined});
				this.#answers.emit('answer');
				throw error;
			}

			const said = describe(reply);
			grant?.shared.answer(grant.grant, {sent: true, limit: said.limit, remaining: said.remaining, windowMs: this.#model.sharedWindow?.windowMs});
			this.#apply(this.#model.observe(said, sequence, this.#now()));
			this.#answers.emit('answer');
			return reply;
		}
	}

	/**
	 * The next slot of the local limiter: `'slot'`, or `'again'` when the limiter was replaced meanwhile.
	 * Bursting there is no spacing to keep (the credit in the model decides), and a Bottleneck slot
	 * costs about 2.5 ms of its timers, one job after another: a burst would be held to ~400
	 * requests a second. A change to a spacing is kept by the model (`openAt`) for its first request.
	 */
	async #slot(signal: AbortSignal): Promise<'slot' | 'again'> {
		if (this.#model.spacingMs === 0) {
			return 'slot';
		}

		const limiter = this.#limiter;
		try {
			await limiter.slot(signal);
		} catch (error) {
			if (error instanceof StoppedError || limiter === this.#limiter) {
				throw error;
			}

			return 'again'; // Retired (a rate change, Redis lost): its waiting slots were dropped.
		}

		return limiter === this.#limiter ? 'slot' : 'again';
	}

	/**
	 * A grant from the budget in Redis, or `'again'` after waiting for one (Redis says how long, up
	 * to a second: the gate may close meanwhile) or after Redis failed (the budget is local from then on).
	 */
	async #grant(shared: SharedBudget, signal: AbortSignal): Promise<number | 'again'> {
		const now = this.#now();
		if (!this.#model.maySend(now)) {
			// The first answer is not in yet (it tells the budget): wait for it, not for Redis.
			if (now >= this.#model.openAt) {
				await this.#nextAnswer(signal);
			}

			return 'again';
		}

		const window = this.#model.sharedWindow;
		let taken;
		try {
			taken = await shared.take({mode: this.#model.spaced ? 'spaced' : 'burst', limit: window?.limit, windowMs: window?.windowMs, spacingMs: this.#model.spacingMs});
		} catch (error) {
			shared.fail(`Redis error: ${(error as Error).message}`);
			return 'again';
		}

		if (taken.granted) {
			return taken.grant;
		}

		await sleep(Math.min(taken.waitMs, GATE_RECHECK_MS), signal);
		return 'again';
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
		this.#model.leaveShared(share);
		// A limiter of its own from now on, at this process's share (slots at the old spacing are dropped).
		this.#replaceLimiter(Limiter.local(this.#model.spacingMs));
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

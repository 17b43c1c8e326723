import {createHash, randomUUID} from 'node:crypto';
import Bottleneck from 'bottleneck';
import {SendHistory} from './history.js';
import {sleep, StoppedError} from './sleep.js';

/** A rate: `count` requests per `windowMs`. */
export type Rate = {readonly count: number; readonly windowMs: number};

/** Where the current rate came from; only a guessed rate is replaced by the first `X-RateLimit-Limit`. */
export type RateSource = 'told' | 'introspect' | 'default' | 'header' | 'learned';

export type RateReply = {
	readonly limit: number | undefined;
	readonly remaining: number | undefined;
	readonly status: number | undefined;
	readonly retryAfterMs: number | undefined;
};

/** Requests over time (per second) and the pauses, for the report. */
export type RateTimeline = {
	readonly sent: ReadonlyMap<number, number>;
	readonly limited: ReadonlyMap<number, number>;
	readonly pauses: ReadonlyArray<{readonly from: number; readonly until: number; readonly reason: string}>;
};

/** How the budget is kept: by this process alone, through Redis with others, or alone again after Redis went away. */
export type BudgetMode = {readonly kind: 'local'} | {readonly kind: 'shared'; readonly peers: number} | {readonly kind: 'fallback'; readonly share: number; readonly reason: string};

export type RateStats = {
	readonly requests: number;
	readonly tooManyRequests: number;
	readonly pauses: number;
	readonly pausedMs: number;
	readonly rate: Rate;
	readonly source: RateSource;
	readonly budget: BudgetMode;
	/** When the first and the last request were sent (undefined before the first). */
	readonly sentSpan: {readonly first: number; readonly last: number} | undefined;
};

/** One stretch of answers watched for headroom after learning down. */
type Watch = {since: number; fewest: number; othersSeen: boolean};
type Recovery = {readonly ceiling: Rate; readonly ceilingSource: RateSource; watch: Watch};

function freshWatch(since: number): Watch {
	return {since, fewest: Number.POSITIVE_INFINITY, othersSeen: false};
}

type SharedState = {
	readonly limiter: Bottleneck;
	readonly self: string;
	readonly peers: Map<string, number>;
	readonly heartbeat: NodeJS.Timeout;
};

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

/** The Redis key for a token's shared budget: a hash of the token, never the token. */
export function budgetKey(token: string): string {
	return `altbatch:${createHash('sha256').update(token).digest('hex').slice(0, 24)}`;
}

/** Requests are spaced this much wider than the rate, so arrival jitter never tips a window over. */
const MARGIN = 1.02;
/** Requests left unused at the end of a window that others spend too: a 429 would cost more. */
const OTHERS_RESERVE = 1;

export function ratePerMinute(rate: Rate): number {
	return rate.count * 60_000 / rate.windowMs;
}

/**
 * Paces requests for one token: evenly spaced at the rate (Bottleneck's `minTime`), and a gate —
 * one "not before" time — that a 429's `Retry-After` or `X-RateLimit-Remaining: 0` closes for
 * every request. The gate is checked again inside the scheduled job just before sending, so no
 * request leaves while it is closed. The rate learns down from 429s.
 */
export class RateGovernor {
	#rate: Rate;
	#source: RateSource;
	#current: {limiter: Bottleneck; replaced: Promise<void>; resolve: () => void};
	#notBefore = 0;
	/** After a new limiter: not before one spacing after the last request. */
	#spacedFrom = 0;
	#burst: number | undefined;
	readonly #history = new SendHistory();
	#requests = 0;
	#tooMany = 0;
	#pauses = 0;
	#pausedMs = 0;
	#jobId = 0;
	readonly #sent = new Map<number, number>();
	readonly #limited = new Map<number, number>();
	readonly #pauseLog: Array<{from: number; until: number; reason: string}> = [];
	readonly #now: () => number;
	readonly #onPause: ((untilMs: number, reason: string) => void) | undefined;
	#shared: SharedState | undefined;
	/** The latest `X-RateLimit-Remaining` (by send order) and when it was heard. */
	#credit: {remaining: number; sequence: number; at: number} | undefined;
	#budget: BudgetMode = {kind: 'local'};
	/**
	 * The latest `X-RateLimit-Remaining` in send order, when a window was last seen to begin (the
	 * answer after which more remained than before), and whether requests not ours were counted in it.
	 */
	#heard: {sequence: number; remaining: number; windowFrom: number | undefined; others: boolean} | undefined;
	/** After learning a lower rate: what is watched to take the rate back up (see `#climbBack`). */
	#recovery: Recovery | undefined;
	#onBudgetChange: ((mode: BudgetMode) => void) | undefined;

	constructor({rate, source, now = Date.now, onPause}: {rate: Rate; source: RateSource; now?: () => number; onPause?: (untilMs: number, reason: string) => void}) {
		this.#rate = rate;
		this.#source = source;
		this.#now = now;
		this.#onPause = onPause;
		let resolve = () => {};
		const replaced = new Promise<void>(r => {
			resolve = r;
		});
		this.#current = {limiter: new Bottleneck({maxConcurrent: null, minTime: this.#spacing()}), replaced, resolve};
	}

	get rate(): Rate {
		return this.#rate;
	}

	get pausedUntil(): number {
		return this.#notBefore;
	}

	timeline(): RateTimeline {
		return {sent: this.#sent, limited: this.#limited, pauses: this.#pauseLog};
	}

	stats(): RateStats {
		return {requests: this.#requests, tooManyRequests: this.#tooMany, pauses: this.#pauses, pausedMs: this.#pausedMs, rate: this.#rate, source: this.#source, budget: this.#budget, sentSpan: this.#history.span};
	}

	/**
	 * Shares the budget through Redis with every process using the same key: one spacing for all
	 * (Bottleneck's Redis datastore) and every pause published to all. If Redis cannot be reached,
	 * or goes away later, this process carries on with a local limiter at a conservative share.
	 */
	async share({url, key, jobExpirationMs, onChange}: {url: string; key: string; jobExpirationMs: number; onChange: (mode: BudgetMode) => void}): Promise<void> {
		this.#onBudgetChange = onChange;
		this.#jobExpirationMs = jobExpirationMs;
		const limiter = new Bottleneck({
			id: key,
			datastore: 'ioredis',
			clientOptions: redisOptions(url),
			clearDatastore: false,
			maxConcurrent: null,
			minTime: this.#spacing(),
		});
		limiter.on('error', (error: Error) => {
			this.#fallBack(`Redis error: ${error.message}`);
		});
		try {
			await Promise.race([limiter.ready(), sleep(5000).then(() => {
				throw new Error('no answer from Redis in 5 s');
			})]);
			await limiter.updateSettings({minTime: this.#spacing()});
		} catch (error) {
			void limiter.disconnect(false);
			this.#budget = {kind: 'fallback', share: 1, reason: `Redis unreachable at start (${(error as Error).message})`};
			onChange(this.#budget);
			return;
		}

		const self = randomUUID();
		const peers = new Map<string, number>();
		limiter.on('message', (text: string) => {
			this.#onSharedMessage(text, self, peers);
		});
		const hello = () => {
			limiter.publish(JSON.stringify({t: 'hello', id: self})).catch(() => undefined);
		};

		hello();
		const heartbeat = setInterval(hello, 2000);
		heartbeat.unref();
		this.#shared = {limiter, self, peers, heartbeat};
		const old = this.#replaceLimiter(limiter);
		void old.stop({dropWaitingJobs: true}).catch(() => undefined);
		this.#budget = {kind: 'shared', peers: 0};
		onChange(this.#budget);
	}

	#jobExpirationMs = 60_000;

	#onSharedMessage(text: string, self: string, peers: Map<string, number>): void {
		let message: {t?: string; id?: string; until?: number; reason?: string};
		try {
			message = JSON.parse(text) as typeof message;
		} catch {
			return;
		}

		if (message.id === self || typeof message.id !== 'string') {
			return;
		}

		peers.set(message.id, this.#now());
		this.#budget = {kind: 'shared', peers: peers.size};
		if (message.t === 'pause' && typeof message.until === 'number') {
			this.#closeGate(message.until, `${message.reason ?? 'pause'} (another process)`, false);
		}
	}

	/** Redis went away: a local limiter at 1/(processes seen) of the rate, said once. */
	#fallBack(reason: string): void {
		const shared = this.#shared;
		if (!shared) {
			return;
		}

		this.#shared = undefined;
		clearInterval(shared.heartbeat);
		const share = 1 / (shared.peers.size + 1);
		this.#rate = {count: this.#rate.count * share, windowMs: this.#rate.windowMs};
		this.#replaceLimiter(new Bottleneck({maxConcurrent: null, minTime: this.#spacing()}));
		void Promise.resolve(shared.limiter.stop({dropWaitingJobs: true})).catch(() => undefined).then(() => shared.limiter.disconnect(false)).catch(() => undefined);
		this.#budget = {kind: 'fallback', share, reason};
		this.#onBudgetChange?.(this.#budget);
	}

	/** Sets the rate (from `introspect`, say), unless a lower one was told. */
	setRate(rate: Rate, source: RateSource): void {
		if (source !== 'learned' && this.#source === 'told' && ratePerMinute(rate) >= ratePerMinute(this.#rate)) {
			return;
		}

		const faster = ratePerMinute(rate) > ratePerMinute(this.#rate);
		this.#rate = rate;
		this.#source = source;
		if (this.#shared) {
			// One spacing for every process on this budget, kept in Redis.
			// (Bottleneck's typings say updateSettings returns the limiter; it returns a promise.)
			Promise.resolve(this.#shared.limiter.updateSettings({minTime: this.#spacing()}) as unknown).catch(() => undefined);
			return;
		}

		if (!faster) {
			this.#current.limiter.updateSettings({minTime: this.#spacing()});
			return;
		}

		// Bottleneck keeps the next slot it computed at the old pace: start a new limiter (its
		// waiting jobs are handed over by `send`), spaced from the last request sent.
		const old = this.#replaceLimiter(new Bottleneck({maxConcurrent: null, minTime: this.#spacing()}));
		void old.stop({dropWaitingJobs: true}).catch(() => undefined);
		this.#spacedFrom = this.#history.lastSentAt + this.#spacing();
	}

	/**
	 * Sends through the pacer: waits for the gate, takes the next slot, checks the gate again and
	 * sends. Throws `StoppedError` if `signal` aborts before the request leaves.
	 */
	async send<T>({request, describe, signal}: {request: () => Promise<T>; describe: (reply: T) => RateReply; signal: AbortSignal}): Promise<T> {
		for (;;) {
			await this.#waitForGate(signal);
			const {limiter, replaced} = this.#current;
			const options = this.#shared?.limiter === limiter ? {id: `${this.#shared.self}-${++this.#jobId}`, expiration: this.#jobExpirationMs} : {id: `r${++this.#jobId}`};
			// The request is made inside the job, but its answer is kept here: whatever Bottleneck
			// (or a Redis that went away) does with the job afterwards, a request sent is never sent twice.
			let sending: Promise<{reply: T; sequence: number}> | undefined;
			let began = () => {};
			const beginning = new Promise<void>(resolve => {
				began = resolve;
			});
			const job = async (): Promise<void> => {
				if (limiter !== this.#current.limiter || signal.aborted || this.#now() < this.#nextAllowed() || this.#outOfCredit()) {
					return;
				}

				const at = this.#now();
				const sequence = this.#history.sent(at);
				this.#requests++;
				const second = Math.floor(at / 1000);
				this.#sent.set(second, (this.#sent.get(second) ?? 0) + 1);
				sending = request().then(reply => ({reply, sequence}));
				began();
				await sending;
			};

			const scheduled = limiter.schedule(options, job).catch((error: unknown) => {
				if (this.#shared?.limiter === limiter) {
					this.#fallBack(`Redis error: ${(error as Error).message}`);
				}
			});
			// A limiter replaced (a rate change, Redis lost) may never run its waiting jobs: stop waiting
			// on it. Once the request is out, only its answer matters, not Bottleneck's bookkeeping.
			await Promise.race([scheduled, replaced, beginning]);
			const sent = sending === undefined ? undefined : await sending;
			if (sent === undefined) {
				if (signal.aborted) {
					throw new StoppedError();
				}

				continue;
			}

			this.#observe(describe(sent.reply), sent.sequence);
			return sent.reply;
		}
	}

	/** Puts a new limiter in place; jobs waiting in the old one are scheduled again on it. */
	#replaceLimiter(limiter: Bottleneck): Bottleneck {
		const old = this.#current;
		let resolve = () => {};
		const replaced = new Promise<void>(r => {
			resolve = r;
		});
		this.#current = {limiter, replaced, resolve};
		old.resolve();
		return old.limiter;
	}

	async #waitForGate(signal: AbortSignal): Promise<void> {
		for (let wait = this.#nextAllowed() - this.#now(); wait > 0; wait = this.#nextAllowed() - this.#now()) {
			await sleep(wait, signal);
		}

		if (signal.aborted) {
			throw new StoppedError();
		}
	}

	/**
	 * The server said how many requests are left; those sent since count against it. At none left,
	 * wait for an answer (or a window) rather than send: jitter can bunch requests into one window.
	 */
	#outOfCredit(): boolean {
		const credit = this.#credit;
		if (credit === undefined) {
			return false;
		}

		// Only for a short while: a slow answer must not hold back sends for a whole window.
		const burst = this.#burst ?? this.#rate.count;
		const serverWindowMs = this.#rate.windowMs * burst / this.#rate.count;
		if (this.#now() - credit.at > Math.min(serverWindowMs, Math.max(4 * this.#spacing(), 250))) {
			this.#credit = undefined;
			return false;
		}

		return credit.remaining - (this.#history.sequence - credit.sequence) <= 0;
	}

	#nextAllowed(): number {
		return Math.max(this.#notBefore, this.#spacedFrom);
	}

	#spacing(): number {
		return this.#rate.windowMs / this.#rate.count * MARGIN;
	}

	#closeGate(until: number, reason: string, publish = true): void {
		const now = this.#now();
		if (until <= this.#notBefore || until <= now) {
			return;
		}

		if (publish && this.#shared) {
			this.#shared.limiter.publish(JSON.stringify({t: 'pause', id: this.#shared.self, until, reason})).catch(() => undefined);
		}

		this.#pausedMs += until - Math.max(now, this.#notBefore);
		this.#pauses++;
		if (this.#pauseLog.length < 10_000) {
			this.#pauseLog.push({from: Math.max(now, this.#notBefore), until, reason});
		}

		this.#notBefore = until;
		this.#onPause?.(until, reason);
	}

	#observe(reply: RateReply, sequence: number): void {
		const now = this.#now();
		this.#history.answered(sequence, now);
		if (reply.limit !== undefined && reply.limit > 0) {
			this.#burst = reply.limit;
			if (this.#source === 'default') {
				// The header is per minute (Webflow's documented meaning): the first answer tells the budget.
				this.setRate({count: reply.limit, windowMs: 60_000}, 'header');
			}
		}

		if (reply.status === 429) {
			this.#tooMany++;
			const second = Math.floor(now / 1000);
			this.#limited.set(second, (this.#limited.get(second) ?? 0) + 1);
			const retryAfter = reply.retryAfterMs ?? this.#rate.windowMs;
			const until = now + retryAfter;
			if (this.#spentBudget(reply, sequence)) {
				// Whole seconds are rounded up by the server: the window really ends within the last second.
				this.#learnFrom429(sequence, retryAfter >= 1000 && retryAfter % 1000 === 0 ? until - 500 : until);
			}

			this.#closeGate(until, '429');
			if (this.#recovery) {
				// Headroom is watched from when sending resumes: a pause would look like budget to spare.
				this.#recovery.watch = freshWatch(Math.max(until, this.#notBefore));
			}

			return;
		}

		const {remaining} = reply;
		if (remaining === undefined) {
			return;
		}

		const othersNow = this.#hear(sequence, remaining, now);
		this.#climbBack(remaining, othersNow, now);
		if (this.#credit === undefined || sequence > this.#credit.sequence) {
			// At none left the hold below takes over; the credit would only block after it.
			this.#credit = remaining > 0 ? {remaining, sequence, at: now} : undefined;
		}

		// Others spend this window too (without Redis we only see them in Remaining): they may take
		// the last request any moment, and a 429 costs a whole Retry-After, so the last one is left.
		const othersSince = !this.#shared && this.#heard?.others ? this.#heard.windowFrom : undefined;
		if (remaining === 0 || (othersSince !== undefined && remaining <= OTHERS_RESERVE)) {
			// The budget is spent: the next slot frees a window after the first request it counted.
			// With a shared budget our sends are 1/processes of all. When we have not sent that many
			// (the budget was spent by others), wait a whole window.
			const burst = this.#burst ?? this.#rate.count;
			const serverWindowMs = this.#rate.windowMs * burst / this.#rate.count;
			const processes = this.#shared ? this.#shared.peers.size + 1 : 1;
			// The window began no later than the server counted that request, and that was no later
			// than its answer came back: timing from its answer, not its send, is safe whatever the
			// latency or its jitter (a request sent on time can arrive late and open the window late).
			const first = this.#history.answeredBefore(sequence, Math.ceil((burst - 1) / processes));
			// With others in the window our own oldest request says little of when it began; it began
			// no later than the answer that first showed it.
			const until = Math.max((first ?? now) + serverWindowMs, othersSince === undefined ? 0 : othersSince + serverWindowMs);
			this.#closeGate(until, 'remaining');
		}
	}

	/**
	 * Follows Remaining in send order (answers out of order teach nothing); returns whether requests
	 * not ours were counted since the previous answer: it fell by more than we sent in between.
	 */
	#hear(sequence: number, remaining: number, now: number): boolean {
		const last = this.#heard;
		if (last === undefined) {
			this.#heard = {sequence, remaining, windowFrom: undefined, others: false};
			return false;
		}

		if (sequence <= last.sequence) {
			return false;
		}

		if (remaining > last.remaining) {
			this.#heard = {sequence, remaining, windowFrom: now, others: false};
			return false;
		}

		const others = last.remaining - remaining > sequence - last.sequence;
		this.#heard = {sequence, remaining, windowFrom: last.windowFrom, others: last.others || others};
		return others;
	}

	/**
	 * Whether a 429 says the budget is spent (and so teaches a rate): not when the answer itself says
	 * requests remain, nor when an earlier answer left room for this request. Either is a 429 for
	 * another reason, waited out but not learned from.
	 */
	#spentBudget(reply: RateReply, sequence: number): boolean {
		if (reply.remaining !== undefined && reply.remaining > 0) {
			return false;
		}

		const credit = this.#credit;
		return credit === undefined || credit.sequence >= sequence || credit.remaining - (sequence - credit.sequence) < 0;
	}

	/** A 429 while pacing at our rate means the server's rate is lower: `burst` requests per observed window. */
	#learnFrom429(sequence: number, resetAt: number): void {
		const current = this.#rate;
		let learned: Rate;
		const burst = this.#burst;
		if (burst !== undefined && sequence <= burst) {
			return; // Fewer requests than the budget sent so far: the budget was spent by someone else.
		}

		const first = burst === undefined ? undefined : this.#history.sentBefore(sequence, burst);
		if (burst !== undefined && first !== undefined) {
			// With a shared budget, our last `burst` sends span the others' too: scale the window back.
			const processes = this.#shared ? this.#shared.peers.size + 1 : 1;
			learned = {count: burst, windowMs: Math.max(1, (resetAt - first) / processes)};
		} else {
			learned = {count: current.count, windowMs: current.windowMs * 2};
		}

		const floor = ratePerMinute(current) / 4;
		if (ratePerMinute(learned) < ratePerMinute(current)) {
			this.#recovery ??= {ceiling: current, ceilingSource: this.#source, watch: freshWatch(this.#now())};
			this.setRate(ratePerMinute(learned) < floor ? {count: current.count, windowMs: current.windowMs * 4} : learned, 'learned');
		}
	}

	/**
	 * After learning down, the rate climbs back once the budget is ours alone again (another client
	 * that spent part of it has stopped, say): for two whole windows, no answer showed requests that
	 * were not ours (Remaining fell by exactly as many as we sent between two answers) and at least a
	 * tenth of the budget was always left. The new rate is what we sent in the last window plus the
	 * fewest remaining, less one, never above the rate known before; with the window taken long, each step
	 * falls short of the budget and the steps close in on it. While others still spend the budget the
	 * learned rate stays. Not with a shared budget: there the spacing and the headroom are every process's.
	 */
	#climbBack(remaining: number, othersNow: boolean, now: number): void {
		const recovery = this.#recovery;
		const burst = this.#burst;
		if (!recovery || burst === undefined || this.#shared) {
			return;
		}

		const {watch} = recovery;
		watch.othersSeen ||= othersNow;
		watch.fewest = Math.min(watch.fewest, remaining);
		// The server's window, taken long rather than short (a rate from a longer window is lower):
		// the time `burst` requests take at the rate before learning or at the rate now, whichever is longer.
		const windowMs = Math.max(recovery.ceiling.windowMs / recovery.ceiling.count, this.#rate.windowMs / this.#rate.count) * burst;
		if (now - watch.since < 2 * windowMs) {
			return;
		}

		if (!watch.othersSeen && watch.fewest >= Math.max(2, Math.ceil(burst / 10))) {
			// Ours in the window (counted, or at the pace we were set to, whichever is fewer) plus what
			// remained, less one for counting across the window's edge.
			const ours = Math.min(this.#history.sentSince(now - windowMs), windowMs / this.#spacing());
			const freed = {count: ours + watch.fewest - 1, windowMs};
			if (ratePerMinute(freed) >= ratePerMinute(recovery.ceiling)) {
				this.#recovery = undefined;
				this.setRate(recovery.ceiling, recovery.ceilingSource);
				return;
			}

			if (ratePerMinute(freed) > ratePerMinute(this.#rate)) {
				this.setRate(freed, 'learned');
			}
		}

		recovery.watch = freshWatch(now);
	}

	async close(): Promise<void> {
		const shared = this.#shared;
		this.#shared = undefined;
		if (shared) {
			clearInterval(shared.heartbeat);
			await shared.limiter.disconnect(true).catch(() => undefined);
			return;
		}

		await this.#current.limiter.stop({dropWaitingJobs: true}).catch(() => undefined);
	}
}

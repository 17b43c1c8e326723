import {RateModel, type Decision, type Rate, type RateReply, type RateSource} from '../../src/schedule/rate.js';

/** A server's budget as the sandbox counts it: `count` per `windowMs`, fixed from its first request or sliding. */
export type ServerBudget = {
	readonly count: number;
	readonly windowMs: number;
	readonly window?: 'fixed' | 'sliding';
	readonly headers?: boolean;
	/** These requests (counting from 1, any client) get a 429 that is not the budget: Retry-After 1 s, Remaining as it is. */
	readonly limited?: readonly number[];
};

/** The sandbox's budget, over simulated time: Retry-After in whole seconds, rounded up. */
export class FakeServer {
	readonly #budget: ServerBudget;
	#windowStart: number | undefined;
	#used = 0;
	readonly #log: number[] = [];
	#requests = 0;

	constructor(budget: ServerBudget) {
		this.#budget = budget;
	}

	spend(at: number): RateReply {
		const {count, windowMs} = this.#budget;
		const headers = this.#budget.headers !== false;
		if (this.#budget.limited?.includes(++this.#requests)) {
			return {limit: headers ? count : undefined, remaining: headers ? count - this.#used : undefined, status: 429, retryAfterMs: 1000};
		}

		let remaining: number;
		let retryAfterMs: number | undefined;
		if (this.#budget.window === 'sliding') {
			while (this.#log.length > 0 && this.#log[0]! <= at - windowMs) {
				this.#log.shift();
			}

			if (this.#log.length >= count) {
				retryAfterMs = this.#log[0]! + windowMs - at;
				remaining = 0;
			} else {
				this.#log.push(at);
				remaining = count - this.#log.length;
			}
		} else {
			this.#windowStart ??= at;
			if (at - this.#windowStart >= windowMs) {
				this.#windowStart = at - ((at - this.#windowStart) % windowMs);
				this.#used = 0;
			}

			if (this.#used >= count) {
				retryAfterMs = this.#windowStart + windowMs - at;
				remaining = 0;
			} else {
				this.#used++;
				remaining = count - this.#used;
			}
		}

		return {
			limit: headers ? count : undefined,
			remaining: headers ? remaining : undefined,
			status: retryAfterMs === undefined ? 200 : 429,
			retryAfterMs: retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(retryAfterMs / 1000)) * 1000,
		};
	}
}

/** Another client on the same token: one request every `everyMs` from `fromMs` until `untilMs`. */
export type OtherClient = {readonly everyMs: number; readonly fromMs?: number; readonly untilMs: number};

export type Simulated = {
	readonly model: RateModel;
	/** When each of our requests left, and its status. */
	readonly sent: ReadonlyArray<{readonly at: number; readonly status: number}>;
	readonly tooMany: number;
	/** Our requests sent after we heard a 429 and before its Retry-After ended. */
	readonly sentDuringRetryAfter: number;
	/** When the last row was done (undefined if not by `untilMs`). */
	readonly finishedAt: number | undefined;
	/** Rates the model set, in order (per minute). */
	readonly rates: readonly number[];
};

/**
 * Drives the model as the pacer does, over simulated milliseconds: up to `concurrency` rows in flight,
 * each request through the gate and a limiter slot (Bottleneck's `minTime`: a slot `spacingMs` after
 * the previous one; a faster rate starts a fresh limiter), answered `latencyMs` later. A 429'd row is
 * sent again. Deterministic: no clock, no sockets.
 */
export function simulate({rate, source, server, rows, concurrency = 4, latencyMs = 5, lateFirstMs = 0, others, processes, startAt = 0, untilMs = 120_000, prime}: {
	rate: Rate;
	source: RateSource;
	server: ServerBudget;
	rows: number;
	concurrency?: number;
	latencyMs?: number;
	/** The first request reaches the server this much late (and so its answer comes late too). */
	lateFirstMs?: number;
	others?: OtherClient;
	processes?: number;
	startAt?: number;
	untilMs?: number;
	/** Called with the model before the first request (introspect's rate, say). */
	prime?: (model: RateModel) => Decision | void;
}): Simulated {
	const model = new RateModel({rate, source});
	if (processes !== undefined) {
		model.share(processes);
	}

	const fake = new FakeServer(server);
	const rates: number[] = [];
	let nextSlot = 0;
	const onDecision = (decision: Decision | void, now: number) => {
		if (decision?.rate) {
			rates.push(Math.round(decision.rate.rate.count * 60_000 / decision.rate.rate.windowMs));
			if (decision.rate.faster && processes === undefined) {
				nextSlot = now;
			}
		}
	};

	onDecision(prime?.(model), startAt);
	let pending = rows;
	let inFlight = 0;
	let done = 0;
	const arrivals = new Map<number, Array<{sequence: number; index: number}>>();
	const answers = new Map<number, Array<{sequence: number; index: number; reply: RateReply}>>();
	const sent: Array<{at: number; status: number}> = [];
	let tooMany = 0;
	let retryUntil = 0;
	let sentDuringRetryAfter = 0;
	const push = <T>(map: Map<number, T[]>, at: number, item: T) => {
		map.set(at, [...map.get(at) ?? [], item]);
	};

	for (let t = startAt; t <= untilMs; t++) {
		if (others && t >= (others.fromMs ?? 0) && t < others.untilMs && (t - (others.fromMs ?? 0)) % others.everyMs === 0) {
			fake.spend(t);
		}

		for (const arrival of arrivals.get(t) ?? []) {
			const reply = fake.spend(t);
			push(answers, t + Math.floor(latencyMs / 2), {...arrival, reply});
		}

		arrivals.delete(t);
		for (const {sequence, index, reply} of answers.get(t) ?? []) {
			inFlight--;
			sent[index] = {at: sent[index]!.at, status: reply.status ?? 0};
			if (reply.status === 429) {
				tooMany++;
				retryUntil = Math.max(retryUntil, t + (reply.retryAfterMs ?? 0));
				pending++;
			} else {
				done++;
			}

			onDecision(model.observe(reply, sequence, t), t);
		}

		answers.delete(t);
		if (done === rows) {
			return {model, sent, tooMany, sentDuringRetryAfter, finishedAt: t, rates};
		}

		while (pending > 0 && inFlight < concurrency && t >= model.openAt && t >= nextSlot) {
			nextSlot = t + model.spacingMs;
			if (!model.maySend(t)) {
				break;
			}

			const sequence = model.sent(t);
			if (t < retryUntil) {
				sentDuringRetryAfter++;
			}

			pending--;
			inFlight++;
			sent.push({at: t, status: 0});
			push(arrivals, t + Math.ceil(latencyMs / 2) + (sequence === 1 ? lateFirstMs : 0), {sequence, index: sent.length - 1});
		}
	}

	return {model, sent, tooMany, sentDuringRetryAfter, finishedAt: undefined, rates};
}

/** Our accepted requests per millisecond from the first to the last, as a fraction of the server's rate. */
export function utilisation(run: Simulated, server: ServerBudget): number {
	const accepted = run.sent.filter(s => s.status !== 429);
	const span = accepted.at(-1)!.at - accepted[0]!.at;
	return (accepted.length - 1) / span / (server.count / server.windowMs);
}

import {retryAfterSeconds} from './budget.js';
import {errorBody, json, type Answer, type Delivery} from './wire.js';

/**
 * What can go wrong with a PATCH on its way: `error500`, `html503` (a proxy's HTML page), `drop`
 * (the connection closes), `truncate` (half a JSON body), `slow` (the answer comes late), `limited`
 * (a 429 with `Retry-After: 1` that is not the budget: a proxy's, say).
 */
export type FaultKind = 'error500' | 'html503' | 'drop' | 'truncate' | 'slow' | 'limited';
export type FaultRates = Partial<Record<FaultKind, number>>;

/** A small seeded generator, so that a run with random faults can be repeated. */
export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d_2b_79_f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

/** Which fault the next PATCH gets: scripted ones first (for its asset, then for any), then by share. */
export class Faults {
	rates: FaultRates;
	readonly #random: () => number;
	readonly #scripted: FaultKind[] = [];
	readonly #scriptedFor = new Map<string, FaultKind[]>();

	constructor(rates: FaultRates, seed: number) {
		this.rates = rates;
		this.#random = mulberry32(seed);
	}

	failNext(faults: readonly FaultKind[]): void {
		this.#scripted.push(...faults);
	}

	failNextFor(assetId: string, faults: readonly FaultKind[]): void {
		this.#scriptedFor.set(assetId, [...this.#scriptedFor.get(assetId) ?? [], ...faults]);
	}

	pick(assetId: string): FaultKind | undefined {
		const scripted = this.#scriptedFor.get(assetId)?.shift() ?? this.#scripted.shift();
		if (scripted) {
			return scripted;
		}

		let roll = this.#random();
		for (const [kind, share] of Object.entries(this.rates) as Array<[FaultKind, number]>) {
			if (roll < share) {
				return kind;
			}

			roll -= share;
		}

		return undefined;
	}
}

const HTML_503 = '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>';

/** A fault answered instead of the request (which then changes nothing); `undefined` for the faults that spoil an answer. */
export function instead(fault: FaultKind, headers: Readonly<Record<string, string>>): Delivery | undefined {
	switch (fault) {
		case 'drop': {
			return {kind: 'drop'};
		}

		case 'limited': {
			// The rate headers still tell the truth: this 429 is not the budget.
			return json({status: 429, body: errorBody('too_many_requests', 'Too many requests')}, {...headers, 'retry-after': String(retryAfterSeconds(1000))});
		}

		case 'error500': {
			return json({status: 500, body: errorBody('internal_error', 'An Internal Error occurred')}, headers);
		}

		case 'html503': {
			return {kind: 'text', status: 503, contentType: 'text/html', text: HTML_503, headers};
		}

		default: {
			return undefined;
		}
	}
}

/** How a fault spoils an answer the request did get (the change it made stays made), and the fault if it took effect. */
export function spoiled(fault: FaultKind | undefined, answer: Answer, headers: Readonly<Record<string, string>>, slowMs: number): {delivery: Delivery; fault?: FaultKind} {
	if (fault === 'truncate' && answer.status === 200) {
		const text = JSON.stringify(answer.body);
		return {delivery: {kind: 'text', status: 200, contentType: 'application/json; charset=utf-8', text: text.slice(0, Math.floor(text.length / 2)), headers}, fault};
	}

	if (fault === 'slow') {
		return {delivery: {kind: 'late', ms: slowMs, then: json(answer, headers)}, fault};
	}

	return {delivery: json(answer, headers)};
}

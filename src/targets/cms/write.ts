import type {Attempted} from '../../schedule/attempts.js';
import {ITEMS_PER_WRITE, type ItemUpdate, type WebflowClient} from '../../webflow/client.js';
import type {Request} from './read.js';

/**
 * Bulk CMS writes: up to 100 items a request. A batch refused for some of its items (400, 404, 409)
 * fails only those: the items the error's details name (`items[<i>]`, or an item's id in the
 * message) are taken out and the rest sent again; where the details name none, the batch is split
 * in halves until the bad item is alone — unless both halves are refused with the very error of
 * the whole (a batch-level refusal: every item ends with it). Every other end (token refused, stop, retries spent)
 * is the whole batch's.
 */

/** One item variant to write, keyed as the caller knows it. */
export type ItemWrite = ItemUpdate & {readonly key: string};

/**
 * How a request ended, for the ledger: its attempt (undefined: never sent), and whether any try may
 * have reached the server without its answer coming back whole (a timeout, a dropped connection,
 * a truncated body: the server may have applied it).
 */
export type SendEnd = (attempted: Attempted | undefined, uncertain: boolean) => void;

/**
 * Before each request leaves: `beforeSend` resolves once the batch is on record (the ledger's
 * pending records, synced), to what is told how the request ended. A rejection sends nothing: the
 * batch's items end stopped (the hook stops the run).
 */
export type WriteHooks = {
	readonly beforeSend?: (batch: readonly ItemWrite[], live: boolean) => Promise<SendEnd | undefined>;
};

const NOT_SENT: Attempted = {kind: 'stopped', reply: undefined, attempts: 0};

/** The answers that can be about single items of a batch (the rest are about the request or the token). */
const ITEM_STATUSES = new Set([400, 404, 409]);

/** A refusal that may be about single items of the batch (400, 404, 409), or `undefined`. */
function itemRefusal(attempted: Attempted): {status: number; code: string; message: string} | undefined {
	const reply = attempted.kind === 'failed' ? attempted.reply : undefined;
	return reply?.kind === 'error' && ITEM_STATUSES.has(reply.status) ? {status: reply.status, code: reply.code, message: reply.message} : undefined;
}

/** The items of `batch` an error message names: by place (`items[3]`) or by id. */
export function namedItems(message: string, batch: readonly ItemWrite[]): Set<number> {
	const named = new Set<number>();
	for (const match of message.matchAll(/items\[(\d+)]/g)) {
		const at = Number(match[1]);
		if (at < batch.length) {
			named.add(at);
		}
	}

	const lower = message.toLowerCase();
	for (const [i, item] of batch.entries()) {
		if (lower.includes(item.id)) {
			named.add(i);
		}
	}

	return named;
}

/** Runs `tasks` with at most `limit` at once. */
async function limited<T>(tasks: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
	const results: T[] = [];
	let next = 0;
	const worker = async () => {
		for (let task = tasks[next]; task !== undefined; task = tasks[next]) {
			const i = next++;
			results[i] = await task();
		}
	};

	await Promise.all(Array.from({length: Math.max(1, Math.min(limit, tasks.length))}, worker));
	return results;
}

/**
 * Writes every item (staged, or with `live` the live items) of one collection, 100 a request;
 * resolves to each item's end by its key.
 */
export async function writeItems({client, request, collectionId, live, writes, concurrency, hooks = {}}: {
	client: WebflowClient;
	request: Request;
	collectionId: string;
	live: boolean;
	writes: readonly ItemWrite[];
	concurrency: number;
	hooks?: WriteHooks;
}): Promise<Map<string, Attempted>> {
	const ends = new Map<string, Attempted>();
	const endAll = (batch: readonly ItemWrite[], attempted: Attempted) => {
		for (const item of batch) {
			ends.set(item.key, attempted);
		}
	};

	/** One request for the batch (on record first); `undefined`: not sent, its items ended. */
	const sendOnce = async (batch: readonly ItemWrite[]): Promise<Attempted | undefined> => {
		let ended: SendEnd | undefined;
		try {
			ended = await hooks.beforeSend?.(batch, live);
		} catch {
			endAll(batch, NOT_SENT);
			return undefined;
		}

		let uncertain = false;
		const attempted = await request(async signal => {
			const reply = await client.updateItems({collectionId, live, items: batch}, signal);
			uncertain ||= reply.kind === 'transport';
			return reply;
		}, 'write');
		ended?.(attempted, uncertain);
		return attempted;
	};

	/** A batch's answer: its items' ends, or — refused for some of its items — the rest sent again. */
	const settle = async (batch: readonly ItemWrite[], attempted: Attempted | undefined): Promise<void> => {
		if (attempted === undefined) {
			return;
		}

		const refusal = itemRefusal(attempted);
		if (batch.length === 1 || refusal === undefined) {
			endAll(batch, attempted);
			return;
		}

		const named = namedItems(refusal.message, batch);
		if (named.size > 0 && named.size < batch.length) {
			for (const [i, item] of batch.entries()) {
				if (named.has(i)) {
					ends.set(item.key, attempted);
				}
			}

			const rest = batch.filter((_, i) => !named.has(i));
			await settle(rest, await sendOnce(rest));
			return;
		}

		const half = Math.ceil(batch.length / 2);
		const halves = await Promise.all([batch.slice(0, half), batch.slice(half)].map(async one => ({batch: one, attempted: await sendOnce(one)})));
		// Both halves refused as the whole was, naming no item: the request is wrong, not an item
		// (a CMS locale the site lacks, a collection gone); halving further would only spend budget.
		const same = halves.every(({batch: one, attempted}) => {
			const again = attempted === undefined ? undefined : itemRefusal(attempted);
			return again !== undefined && again.status === refusal.status && again.code === refusal.code && again.message === refusal.message && namedItems(again.message, one).size === 0;
		});
		if (same) {
			for (const {batch: one, attempted} of halves) {
				if (attempted !== undefined) {
					endAll(one, attempted);
				}
			}

			return;
		}

		await Promise.all(halves.map(async ({batch: one, attempted}) => settle(one, attempted)));
	};

	const send = async (batch: readonly ItemWrite[]) => settle(batch, await sendOnce(batch));

	const batches = Array.from({length: Math.ceil(writes.length / ITEMS_PER_WRITE)}, (_, i) => writes.slice(i * ITEMS_PER_WRITE, (i + 1) * ITEMS_PER_WRITE));
	await limited(batches.map(batch => async () => send(batch)), concurrency);
	return ends;
}

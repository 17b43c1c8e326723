import type {Attempted} from '../../schedule/attempts.js';
import {ITEMS_PER_WRITE, type ItemUpdate, type WebflowClient} from '../../webflow/client.js';
import type {Request} from './read.js';

/**
 * Bulk CMS writes: up to 100 items a request. A batch refused for some of its items (400, 404, 409)
 * fails only those: the items the error's details name (`items[<i>]`, or an item's id in the
 * message) are taken out and the rest sent again; where the details name none, the batch is split
 * in halves until the bad item is alone. Every other end (token refused, stop, retries spent)
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
	const send = async (batch: readonly ItemWrite[]): Promise<void> => {
		let ended: SendEnd | undefined;
		try {
			ended = await hooks.beforeSend?.(batch, live);
		} catch {
			for (const item of batch) {
				ends.set(item.key, NOT_SENT);
			}

			return;
		}

		let uncertain = false;
		const attempted = await request(async signal => {
			const reply = await client.updateItems({collectionId, live, items: batch}, signal);
			uncertain ||= reply.kind === 'transport';
			return reply;
		}, 'write');
		ended?.(attempted, uncertain);
		const reply = attempted.kind === 'failed' ? attempted.reply : undefined;
		if (batch.length === 1 || reply?.kind !== 'error' || !ITEM_STATUSES.has(reply.status)) {
			for (const item of batch) {
				ends.set(item.key, attempted);
			}

			return;
		}

		const named = namedItems(reply.message, batch);
		if (named.size > 0 && named.size < batch.length) {
			for (const [i, item] of batch.entries()) {
				if (named.has(i)) {
					ends.set(item.key, attempted);
				}
			}

			await send(batch.filter((_, i) => !named.has(i)));
			return;
		}

		const half = Math.ceil(batch.length / 2);
		await Promise.all([send(batch.slice(0, half)), send(batch.slice(half))]);
	};

	const batches = Array.from({length: Math.ceil(writes.length / ITEMS_PER_WRITE)}, (_, i) => writes.slice(i * ITEMS_PER_WRITE, (i + 1) * ITEMS_PER_WRITE));
	await limited(batches.map(batch => async () => send(batch)), concurrency);
	return ends;
}

import type {ApiReply} from '../../engine/reply.js';
import type {Session} from '../../engine/session.js';
import type {SiteShare} from '../../engine/share.js';
import type {Attempted} from '../../schedule/attempts.js';
import {ITEMS_PER_WRITE as PAGE, type WebflowClient} from '../../webflow/client.js';
import type {FieldType, ItemState} from './merge.js';
import {laterPages, pageFacts} from '../../webflow/paging.js';

/**
 * Reading the CMS through a token's pacing: a site's collections, a collection's fields, and its
 * items staged and live, 100 a request per CMS locale (the first page tells the total, the rest go
 * side by side; webflow/paging.ts). Every call goes through `request` (the lane's budget, retries and counts).
 */

export type Request = (send: (signal: AbortSignal | undefined) => Promise<ApiReply>, kind: 'list' | 'read' | 'write') => Promise<Attempted>;

/** Requests through a lane's share of its token (its budget, retries and counts; list pages counted as such). */
export function shareRequest(share: SiteShare, session: Session): Request {
	return async (send, kind) => share.request(async () => {
		if (kind === 'list') {
			share.listRequests++;
		}

		return send(session.abort);
	});
}

export type CollectionInfo = {readonly id: string; readonly displayName: string; readonly slug: string};

/** A collection as read: its fields, and its items per CMS locale (key `itemId/cmsLocaleId`, '' the primary). */
export type CollectionState = {
	readonly id: string;
	readonly displayName: string;
	readonly slug: string;
	readonly fields: ReadonlyMap<string, FieldType>;
	readonly staged: Map<string, ItemState>;
	readonly live: Map<string, ItemState>;
	/** CMS locales the collection refused to list (400), with Webflow's message. */
	readonly badLocales: Map<string, string>;
};

export type ReadFailure = {readonly failure: Attempted};

export const variantKey = (itemId: string, cmsLocaleId: string | undefined) => `${itemId}/${cmsLocaleId ?? ''}`;

const text = (value: unknown) => typeof value === 'string' ? value : undefined;

function readItem(raw: unknown): ItemState | undefined {
	const item = raw as {id?: unknown; isDraft?: unknown; lastPublished?: unknown; fieldData?: unknown} | null;
	const id = text(item?.id);
	if (id === undefined || typeof item?.fieldData !== 'object' || item.fieldData === null) {
		return undefined;
	}

	return {id: id.toLowerCase(), isDraft: item.isDraft === true, lastPublished: text(item.lastPublished) ?? null, fieldData: item.fieldData as Record<string, unknown>};
}

/** An answer that is not what the call promises, as a failure the row can carry. */
function badBody(attempted: Attempted & {kind: 'ok'}, what: string): ReadFailure {
	return {failure: {kind: 'failed', reply: {kind: 'transport', code: 'bad_body', message: `the ${what} answer is not what Webflow describes`, status: attempted.reply.status, rate: attempted.reply.rate}, attempts: attempted.attempts}};
}

/** A site's collections (list-collections). */
export async function readCollections({client, request, siteId}: {client: WebflowClient; request: Request; siteId: string}): Promise<CollectionInfo[] | ReadFailure> {
	const attempted = await request(async signal => client.listCollections({siteId}, signal), 'read');
	if (attempted.kind !== 'ok') {
		return {failure: attempted};
	}

	const list = (attempted.reply.body as {collections?: unknown}).collections;
	if (!Array.isArray(list)) {
		return badBody(attempted, 'collection list');
	}

	return list.flatMap((c: {id?: unknown; displayName?: unknown; slug?: unknown}) => text(c.id) === undefined ? [] : [{id: String(c.id).toLowerCase(), displayName: text(c.displayName) ?? '', slug: text(c.slug) ?? ''}]);
}

/** Every item of one list (staged or live) in one CMS locale. 'refused': the locale is not the site's (400 on the first page). */
async function readItems({client, request, collectionId, live, cmsLocaleId}: {client: WebflowClient; request: Request; collectionId: string; live: boolean; cmsLocaleId: string | undefined}): Promise<ItemState[] | ReadFailure | {refused: string}> {
	const page = async (offset: number) => {
		const attempted = await request(async signal => client.listItems({collectionId, live, cmsLocaleId, offset, limit: PAGE}, signal), 'list');
		if (attempted.kind !== 'ok') {
			return {failure: attempted};
		}

		const body = attempted.reply.body as {items?: unknown; pagination?: {total?: unknown}};
		if (!Array.isArray(body.items)) {
			return badBody(attempted, 'item list');
		}

		return {items: body.items.map(readItem).filter((item): item is ItemState => item !== undefined), facts: pageFacts(body, 'items')};
	};

	const first = await page(0);
	if ('failure' in first) {
		const {failure} = first;
		if (live && failure.kind === 'failed' && failure.reply.kind === 'error' && failure.reply.status === 404) {
			return []; // list-collection-items-live answers 404 (the description lists it) where nothing is live.
		}

		return failure.kind === 'failed' && failure.reply.kind === 'error' && failure.reply.status === 400 && cmsLocaleId !== undefined ? {refused: failure.reply.message} : first;
	}

	// Offsets by the items each page held as sent (webflow/paging.ts), never by a fixed 100.
	const rest = await laterPages<ItemState[], ReadFailure>({first: first.facts, asked: PAGE, ask: async offset => {
		const next = await page(offset);
		return 'failure' in next ? {failure: next} : {page: next.items, facts: next.facts};
	}});
	return 'failure' in rest ? rest.failure : [...first.items, ...rest.pages.flat()];
}

/**
 * A collection's fields (collection-details) and its items in these CMS locales, staged and (with
 * `live`) live. A collection the token cannot see (404, or 400 for its id) is `undefined`: its rows
 * are `not_in_collection`.
 */
export async function readCollection({client, request, collectionId, locales, live, itemsWhen}: {
	client: WebflowClient;
	request: Request;
	collectionId: string;
	locales: ReadonlySet<string | undefined>;
	live: boolean;
	/** Read the items only when the fields say so (a collection without an image field has no image to find); else the state has none. */
	itemsWhen?: (fields: ReadonlyMap<string, FieldType>) => boolean;
}): Promise<CollectionState | ReadFailure | undefined> {
	const attempted = await request(async signal => client.getCollection({collectionId}, signal), 'read');
	if (attempted.kind === 'failed' && attempted.reply.kind === 'error' && (attempted.reply.status === 404 || attempted.reply.status === 400)) {
		return undefined;
	}

	if (attempted.kind !== 'ok') {
		return {failure: attempted};
	}

	const body = attempted.reply.body as {displayName?: unknown; slug?: unknown; fields?: unknown};
	if (!Array.isArray(body.fields)) {
		return badBody(attempted, 'collection');
	}

	const fields = new Map<string, FieldType>();
	for (const field of body.fields as Array<{slug?: unknown; type?: unknown}>) {
		if (typeof field.slug === 'string') {
			fields.set(field.slug, field.type === 'Image' || field.type === 'MultiImage' ? field.type : 'other');
		}
	}

	const state: CollectionState = {id: collectionId, displayName: text(body.displayName) ?? '', slug: text(body.slug) ?? '', fields, staged: new Map(), live: new Map(), badLocales: new Map()};
	if (itemsWhen?.(fields) === false) {
		return state;
	}

	const lists = [...locales].flatMap(cmsLocaleId => [false, ...live ? [true] : []].map(isLive => ({cmsLocaleId, isLive})));
	const read = await Promise.all(lists.map(async ({cmsLocaleId, isLive}) => ({cmsLocaleId, isLive, items: await readItems({client, request, collectionId, live: isLive, cmsLocaleId})})));
	for (const {cmsLocaleId, isLive, items} of read) {
		if ('failure' in items) {
			return items;
		}

		if ('refused' in items) {
			state.badLocales.set(cmsLocaleId ?? '', items.refused);
			continue;
		}

		for (const item of items) {
			(isLive ? state.live : state.staged).set(variantKey(item.id, cmsLocaleId), item);
		}
	}

	return state;
}

/**
 * Only items, no fields: the lists asked for (a CMS locale, staged or live) of one collection, 100
 * a request. Keys `live|staged` + `/` + `variantKey`. Settling pending writes reads these.
 */
export async function readItemLists({client, request, collectionId, lists}: {client: WebflowClient; request: Request; collectionId: string; lists: ReadonlyArray<{cmsLocaleId: string | undefined; live: boolean}>}): Promise<Map<string, ItemState> | ReadFailure> {
	const found = new Map<string, ItemState>();
	for (const {cmsLocaleId, live} of lists) {
		const items = await readItems({client, request, collectionId, live, cmsLocaleId});
		if ('failure' in items) {
			return items;
		}

		if ('refused' in items) {
			continue;
		}

		for (const item of items) {
			found.set(`${live ? 'live' : 'staged'}/${variantKey(item.id, cmsLocaleId)}`, item);
		}
	}

	return found;
}

/**
 * `--only-missing`: the collection's items read again (the same lists: staged, and live unless
 * `--staged-only`, per CMS locale), its fields kept from the first read.
 */
export async function readAgain({client, request, state, locales, live}: {client: WebflowClient; request: Request; state: CollectionState; locales: ReadonlySet<string | undefined>; live: boolean}): Promise<CollectionState | ReadFailure> {
	const lists = [...locales].filter(cmsLocaleId => !state.badLocales.has(cmsLocaleId ?? '')).flatMap(cmsLocaleId => [false, ...live ? [true] : []].map(isLive => ({cmsLocaleId, live: isLive})));
	const items = await readItemLists({client, request, collectionId: state.id, lists});
	if ('failure' in items) {
		return items;
	}

	const fresh: CollectionState = {...state, staged: new Map(), live: new Map()};
	for (const [key, item] of items) {
		const slash = key.indexOf('/');
		(key.slice(0, slash) === 'live' ? fresh.live : fresh.staged).set(key.slice(slash + 1), item);
	}

	return fresh;
}

/** A collection read staged only (looking for image URLs: targets/cms/by-url.ts), with its live items now (primary CMS locale). */
export async function withLiveItems({client, request, state}: {client: WebflowClient; request: Request; state: CollectionState}): Promise<CollectionState | ReadFailure> {
	const items = await readItemLists({client, request, collectionId: state.id, lists: [{cmsLocaleId: undefined, live: true}]});
	if ('failure' in items) {
		return items;
	}

	return {...state, live: new Map([...items].map(([key, item]) => [key.slice('live/'.length), item]))};
}

import type {Attempted} from '../../schedule/attempts.js';
import type {SiteShare} from '../../engine/share.js';
import {listAssets} from '../../targets/assets/read.js';
import {AS_GIVEN, readCmsLocales} from '../../targets/cms/locales.js';
import type {Request} from '../../targets/cms/read.js';
import type {ApiReply, AssetSummary} from '../../webflow/client.js';
import {laterPages} from '../../webflow/paging.js';
import {readCollections, readComponents, readDom, readImageFields, readItems, readPages, readProperties, type CollectionInfo, type ComponentInfo, type DomNode, type ImageField, type ItemImages, type Listed, type PageInfo, type PropertyValue} from '../../webflow/pages.js';

/**
 * What an audit reads of one site, on its token's budget: list pages of assets (per locale),
 * pages, components; one DOM read per static page and locale (more only past 100 nodes); per
 * component and locale its DOM and its properties. Nothing per image. A part the token may not
 * read (403: no `pages:read` or `components:read`) or that fails is left out and named.
 */

export const PAGE_SIZE = 100;

/** One site's assets as the audit needs them: alt per locale ('' = primary), URL, file name. */
export type AuditAsset = {readonly id: string; readonly hostedUrl: string | undefined; readonly originalFileName: string | undefined; readonly altText: Map<string, string | null>};

export type PageRead = {readonly page: PageInfo; readonly nodes: ReadonlyMap<string, readonly DomNode[]>};
/** A collection with image fields, and its live items per locale (what renders: published items). */
export type CollectionRead = {readonly collection: CollectionInfo; readonly fields: readonly ImageField[]; readonly items: ReadonlyMap<string, readonly ItemImages[]>};

export type ComponentRead = {readonly component: ComponentInfo; readonly nodes: ReadonlyMap<string, readonly DomNode[]>; readonly properties: ReadonlyMap<string, readonly PropertyValue[]>};

/** A part of the site not read, and why (a missing scope, a failure). */
export type Unread = {readonly part: 'pages' | 'components' | 'cms'; readonly reason: string};

/** Requests by what they read, for the summary and the bench. */
export type ReadCounts = {assets: number; pages: number; dom: number; components: number; cms: number};

export type SiteRead = {
	readonly assets: ReadonlyMap<string, AuditAsset>;
	readonly pages: readonly PageRead[];
	readonly components: readonly ComponentRead[];
	readonly collections: readonly CollectionRead[];
	readonly unread: Unread[];
	readonly counts: ReadCounts;
	/** Locales the site refused (400 on their first asset page). */
	readonly badLocales: ReadonlyMap<string, string>;
};

/** Why a part could not be read, from its failed call; `undefined` when the call was only stopped (the session says why). */
export function unreadReason(attempted: Attempted, scope: string): string | undefined {
	const reply = attempted.reply;
	if (attempted.kind === 'stopped' || attempted.kind === 'too_long' || reply === undefined) {
		return undefined;
	}

	if (reply.kind === 'error' && reply.status === 403) {
		return `the token lacks ${scope} (403 ${reply.code}: ${reply.message})`;
	}

	if (reply.kind === 'ok') {
		return 'an unreadable answer';
	}

	return reply.kind === 'error' ? `${reply.status} ${reply.code}: ${reply.message}` : `${reply.code}: ${reply.message}`;
}

/** Runs `tasks` with at most `width` at a time (the pacer spaces them; this bounds what waits in memory). */
export async function inParallel<T>(tasks: ReadonlyArray<() => Promise<T>>, width: number): Promise<T[]> {
	const out: T[] = Array.from({length: tasks.length});
	let next = 0;
	await Promise.all(Array.from({length: Math.min(width, tasks.length)}, async () => {
		while (next < tasks.length) {
			const i = next++;
			const task = tasks[i];
			if (task) {
				out[i] = await task();
			}
		}
	}));
	return out;
}

class PartFailed extends Error {
	constructor(readonly attempted: Attempted) {
		super('part failed');
	}
}

/**
 * Every item of a paged list (webflow/paging.ts: offsets by what each page held as sent, with a
 * total side by side, without one until a short page). Throws `PartFailed`.
 */
async function allPages<T>(ask: (offset: number) => Promise<Attempted>, read: (body: unknown) => Listed<T> | undefined): Promise<T[]> {
	const one = async (offset: number): Promise<Listed<T>> => {
		const attempted = await ask(offset);
		const page = attempted.kind === 'ok' ? read(attempted.reply.body) : undefined;
		if (!page) {
			throw new PartFailed(attempted.kind === 'ok' ? {kind: 'failed', reply: badBody(attempted.reply), attempts: attempted.attempts} : attempted);
		}

		return page;
	};

	const first = await one(0);
	const rest = await laterPages<Listed<T>, never>({first: first.facts, asked: PAGE_SIZE, ask: async offset => {
		const page = await one(offset);
		return {page, facts: page.facts};
	}});
	return [first, ...'pages' in rest ? rest.pages : []].flatMap(page => page.items);
}

function badBody(reply: ApiReply): ApiReply {
	return {kind: 'transport', code: 'bad_body', message: 'the answer has not the list it should', status: reply.status, rate: reply.rate};
}

/** `--locale` as asked ('' = the primary locale). */
const localeParam = (locale: string) => locale === '' ? undefined : locale;

export async function readSite({share, siteId, locales, width}: {share: SiteShare; siteId: string; locales: readonly string[]; width: number}): Promise<SiteRead | {failed: Attempted}> {
	const {session} = share;
	const client = session.client;
	const counts: ReadCounts = {assets: 0, pages: 0, dom: 0, components: 0, cms: 0};
	const call = (kind: keyof ReadCounts, send: () => Promise<ApiReply>) => share.request(async () => {
		counts[kind]++;
		return send();
	});

	const assets = new Map<string, AuditAsset>();
	const listed = await listAssets(share, {
		siteId,
		locales,
		onPage({localeId, assets: page}) {
			for (const summary of page) {
				assets.set(summary.id, withLocale(assets.get(summary.id), summary, localeId));
			}
		},
	});
	counts.assets = share.listRequests;
	if ('attempted' in listed) {
		return {failed: listed.attempted};
	}

	const unread: Unread[] = [];
	const part = async <T>(name: Unread['part'], scope: string, read: () => Promise<T>): Promise<T | undefined> => {
		try {
			return await read();
		} catch (error) {
			if (!(error instanceof PartFailed)) {
				throw error;
			}

			const reason = unreadReason(error.attempted, scope);
			unread.push({part: name, reason: reason ?? 'the audit was stopped before it was read'});
			return undefined;
		}
	};

	const pages = await part('pages', 'pages:read', async () => {
		const all = await allPages(async offset => call('pages', async () => client.listPages({siteId, localeId: undefined, offset, limit: PAGE_SIZE}, session.abort)), readPages);
		// A CMS template page has no static DOM; an archived page renders nowhere.
		const statics = all.filter(page => page.collectionId === undefined && !page.archived);
		return inParallel(statics.map(page => async (): Promise<PageRead> => {
			const nodes = new Map<string, readonly DomNode[]>();
			for (const locale of locales) {
				nodes.set(locale, await allPages(async offset => call('dom', async () => client.getPageDom({pageId: page.id, localeId: localeParam(locale), offset, limit: PAGE_SIZE}, session.abort)), readDom));
			}

			return {page, nodes};
		}), width);
	}) ?? [];

	const components = await part('components', 'components:read', async () => {
		const all = await allPages(async offset => call('components', async () => client.listComponents({siteId, offset, limit: PAGE_SIZE}, session.abort)), readComponents);
		return inParallel(all.map(component => async (): Promise<ComponentRead> => {
			const nodes = new Map<string, readonly DomNode[]>();
			const properties = new Map<string, readonly PropertyValue[]>();
			for (const locale of locales) {
				const ask = (which: 'dom' | 'properties') => async (offset: number) => call('components', async () => client.getComponent({siteId, componentId: component.id, part: which, localeId: localeParam(locale), offset, limit: PAGE_SIZE}, session.abort));
				nodes.set(locale, await allPages(ask('dom'), readDom));
				properties.set(locale, await allPages(ask('properties'), readProperties));
			}

			return {component, nodes, properties};
		}), width);
	}) ?? [];

	const collections = await part('cms', 'cms:read', async () => {
		// The CMS takes its own locale ids: `--locale` (a site locale) mapped by get-site, once.
		const cmsRequest: Request = async send => call('cms', async () => send(session.abort));
		const cmsLocales = locales.some(locale => locale !== '') ? await readCmsLocales({client, request: cmsRequest, siteId}) : AS_GIVEN;
		// list-collections is not paged: one request holds them all.
		const listed = await call('cms', async () => client.listCollections({siteId}, session.abort));
		const all = listed.kind === 'ok' ? readCollections(listed.reply.body)?.items : undefined;
		if (!all) {
			throw new PartFailed(listed.kind === 'ok' ? {kind: 'failed', reply: badBody(listed.reply), attempts: listed.attempts} : listed);
		}

		const read = await inParallel(all.map(collection => async (): Promise<CollectionRead | undefined> => {
			const details = await call('cms', async () => client.getCollection({collectionId: collection.id}, session.abort));
			const fields = details.kind === 'ok' ? readImageFields(details.reply.body) : undefined;
			if (!fields) {
				throw new PartFailed(details);
			}

			if (fields.length === 0) {
				return undefined; // No image field: nothing of it renders an image.
			}

			const items = new Map<string, readonly ItemImages[]>();
			for (const locale of locales) {
				// The live items: what the site renders (a draft never published renders nowhere).
				const live = await allPages(async offset => call('cms', async () => client.listItems({collectionId: collection.id, live: true, cmsLocaleId: cmsLocales.toCms(localeParam(locale)), offset, limit: PAGE_SIZE}, session.abort)), readItems).catch((error: unknown) => {
					// The live list answers 404 (the description lists it) where nothing is live: nothing renders.
					if (error instanceof PartFailed && error.attempted.kind === 'failed' && error.attempted.reply.kind === 'error' && error.attempted.reply.status === 404) {
						return [];
					}

					throw error;
				});
				items.set(locale, live.filter(item => !item.isArchived));
			}

			return {collection, fields, items};
		}), width);
		return read.filter((one): one is CollectionRead => one !== undefined);
	}) ?? [];

	return {assets, pages, components, collections, unread, counts, badLocales: listed.badLocales};
}

function withLocale(known: AuditAsset | undefined, summary: AssetSummary, localeId: string): AuditAsset {
	const asset = known ?? {id: summary.id, hostedUrl: summary.hostedUrl, originalFileName: summary.originalFileName, altText: new Map()};
	asset.altText.set(localeId, summary.altText ?? null);
	return asset;
}

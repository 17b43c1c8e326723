import {applyBulk, bulkProblems, collectionJson, itemJson, MAX_ITEMS_PER_WRITE, publish, type BulkItem, type FieldData, type SandboxCollection} from './cms.js';
import {cmsLocaleIdOf, localeOfCms, type SandboxSite} from './state.js';
import {hasScope, reaches, type SandboxToken} from './tokens.js';
import {errorBody, paged, type Answer, type Paging} from './wire.js';

/** The CMS endpoints the sandbox serves (list-collections, collection-details, list/update items staged and live, publish-item). */
export type CmsRoute =
	| {readonly name: 'collections'; readonly siteId: string}
	| {readonly name: 'collection'; readonly collectionId: string}
	| {readonly name: 'items' | 'update-items'; readonly collectionId: string; readonly live: boolean}
	| {readonly name: 'publish'; readonly collectionId: string};

export type CmsContext = {
	readonly token: SandboxToken;
	readonly sites: ReadonlyMap<string, SandboxSite>;
	readonly query: URLSearchParams;
	readonly body: string;
	/** Items every bulk write refuses (tests: a 400 for one item of a batch). */
	readonly refused: ReadonlySet<string>;
	/** Whether a refused batch names its bad items in `details`; without, a client must split the batch to find them. */
	readonly errorDetails: boolean;
	/** How lists page. @default Webflow's: 100 a page, with a total */
	readonly paging?: Paging;
};

const HEX24 = /^[\da-f]{24}$/;

export function cmsRouteOf(method: string, path: string): CmsRoute | undefined {
	const site = /^\/v2\/sites\/([^/]+)\/collections\/?$/.exec(path)?.[1];
	if (site !== undefined) {
		return method === 'GET' ? {name: 'collections', siteId: site} : undefined;
	}

	const match = /^\/v2\/collections\/([^/]+)(\/items(?:\/(live|publish))?)?\/?$/.exec(path);
	if (!match) {
		return undefined;
	}

	const [, collectionId = '', items, which] = match;
	if (items === undefined) {
		return method === 'GET' ? {name: 'collection', collectionId} : undefined;
	}

	if (which === 'publish') {
		return method === 'POST' ? {name: 'publish', collectionId} : undefined;
	}

	const live = which === 'live';
	return method === 'GET' ? {name: 'items', collectionId, live} : method === 'PATCH' ? {name: 'update-items', collectionId, live} : undefined;
}

/** Whether the route takes a body (read before answering). */
export function cmsHasBody(route: CmsRoute): boolean {
	return route.name === 'update-items' || route.name === 'publish';
}

export function cmsAnswer(route: CmsRoute, context: CmsContext): Answer {
	const refused = missingScope(context.token, route.name === 'update-items' || route.name === 'publish' ? 'cms:write' : 'cms:read');
	if (refused) {
		return refused;
	}

	if (route.name === 'collections') {
		if (!HEX24.test(route.siteId)) {
			return invalid('site_id', 'Provided ID is invalid');
		}

		const site = context.sites.get(route.siteId);
		if (!site || !reaches(context.token, site.id)) {
			return NOT_FOUND;
		}

		return {status: 200, body: {collections: [...site.collections.values()].map(c => collectionJson(c, false))}};
	}

	if (!HEX24.test(route.collectionId)) {
		return invalid('collection_id', 'Provided ID is invalid');
	}

	const found = findCollection(context.sites, route.collectionId);
	if (!found || !reaches(context.token, found.site.id)) {
		return NOT_FOUND;
	}

	switch (route.name) {
		case 'collection': {
			return {status: 200, body: collectionJson(found.collection, true)};
		}

		case 'items': {
			return listItems(found, route.live, context.query, context.paging);
		}

		case 'update-items': {
			return updateItems(found, route.live, context);
		}

		default: {
			return publishItems(found, context.body);
		}
	}
}

export function findCollection(sites: ReadonlyMap<string, SandboxSite>, id: string): {site: SandboxSite; collection: SandboxCollection} | undefined {
	for (const site of sites.values()) {
		const collection = site.collections.get(id);
		if (collection) {
			return {site, collection};
		}
	}

	return undefined;
}

/**
 * The CMS locale a request names (a `cmsLocaleId`, as listed by `GET /v2/sites/{id}`; a site locale
 * id is not one) as the site locale its items are kept under, or the primary one; `undefined` for
 * a CMS locale the site lacks.
 */
export function cmsLocaleOf(site: SandboxSite, cmsLocaleId: string | null | undefined): string | undefined {
	return localeOfCms(site, cmsLocaleId);
}

function missingScope(token: SandboxToken, scope: string): Answer | undefined {
	return hasScope(token, scope) ? undefined : {status: 403, body: errorBody('missing_scopes', `OAuthForbidden: You are missing the following scopes - ${scope}`)};
}

function invalid(param: string, description: string): Answer {
	return {status: 400, body: errorBody('validation_error', 'Validation Error', [{param, description}])};
}

const NOT_FOUND: Answer = {status: 404, body: errorBody('resource_not_found', 'Requested resource not found')};

function listItems({site, collection}: {site: SandboxSite; collection: SandboxCollection}, live: boolean, query: URLSearchParams, paging: Paging | undefined): Answer {
	const locale = cmsLocaleOf(site, query.get('cmsLocaleId'));
	if (locale === undefined) {
		return invalid('cmsLocaleId', 'Unknown locale for this site');
	}

	const all = [...collection.items.values()].filter(item => {
		const variant = item.variants.get(locale);
		return variant !== undefined && (!live || variant.live !== undefined);
	});
	if (live && all.length === 0) {
		// list-collection-items-live lists a 404: a collection with nothing published in this locale.
		return NOT_FOUND;
	}

	const {items, pagination} = paged(all, query, paging);
	return {status: 200, body: {items: items.map(item => ({...itemJson(item, locale, live), cmsLocaleId: cmsLocaleIdOf(site, locale)})), pagination}};
}

/**
 * update-items / update-items-live: at most 100 items, all checked before any is applied. A batch
 * with a bad item is refused whole (400 `validation_error`; 409 `conflict` when every bad item is a
 * live write to an item never published), its `details` naming each bad item as Webflow does,
 * `{param: "items[<i>]…", description}` (unless `errorDetails` is off). `skipInvalidFiles` (query,
 * default true): an invalid image is skipped and the rest written; `false`: the batch is refused.
 */
function updateItems({site, collection}: {site: SandboxSite; collection: SandboxCollection}, live: boolean, {body, query, refused, errorDetails}: CmsContext): Answer {
	let parsed: unknown;
	try {
		parsed = JSON.parse(body);
	} catch {
		return {status: 400, body: errorBody('bad_request', 'Request body must be JSON')};
	}

	const list = (parsed as {items?: unknown} | null)?.items;
	if (!Array.isArray(list) || list.length === 0) {
		return invalid('items', 'items must be a non-empty array');
	}

	if (list.length > MAX_ITEMS_PER_WRITE) {
		return invalid('items', `at most ${MAX_ITEMS_PER_WRITE} items per request (got ${list.length})`);
	}

	const items: BulkItem[] = [];
	for (const [index, entry] of list.entries()) {
		const {id, cmsLocaleId, fieldData} = (entry ?? {}) as {id?: unknown; cmsLocaleId?: unknown; fieldData?: unknown};
		const locale = cmsLocaleId === undefined || typeof cmsLocaleId === 'string' ? cmsLocaleOf(site, cmsLocaleId) : undefined;
		if (typeof id !== 'string' || locale === undefined || typeof fieldData !== 'object' || fieldData === null || Array.isArray(fieldData)) {
			return invalid(`items[${index}]`, 'each item needs an id, a known cmsLocaleId (or none) and a fieldData object');
		}

		items.push({id, cmsLocaleId: locale, fieldData: fieldData as FieldData});
	}

	const skip = query.get('skipInvalidFiles');
	const problems = bulkProblems({collection, items, live, refused, skipInvalidFiles: skip === null || skip !== 'false'});
	if (problems.length > 0) {
		const details = errorDetails ? problems.map(({param, description}) => ({param, description})) : [];
		return problems.every(problem => problem.status === 409)
			? {status: 409, body: errorBody('conflict', 'Conflict with server data. Item not published', details)}
			: {status: 400, body: errorBody('validation_error', 'Validation Error', details)};
	}

	const written = applyBulk({collection, items, live});
	return {status: 200, body: {items: written.map(({item, cmsLocaleId}) => ({...itemJson(item, cmsLocaleId, live), cmsLocaleId: cmsLocaleIdOf(site, cmsLocaleId)}))}};
}

/** publish-item: `{itemIds}` or `{items: [{id, cmsLocaleIds}]}`; the staged items become the live ones. */
function publishItems({site, collection}: {site: SandboxSite; collection: SandboxCollection}, body: string): Answer {
	let parsed: {itemIds?: unknown; items?: unknown};
	try {
		parsed = (JSON.parse(body) ?? {}) as typeof parsed;
	} catch {
		return {status: 400, body: errorBody('bad_request', 'Request body must be JSON')};
	}

	const asked = Array.isArray(parsed.itemIds)
		? parsed.itemIds.map(id => ({id, locales: undefined}))
		: Array.isArray(parsed.items) ? parsed.items.map(entry => ({id: (entry as {id?: unknown}).id, locales: (entry as {cmsLocaleIds?: string[]}).cmsLocaleIds})) : undefined;
	if (!asked) {
		return invalid('itemIds', 'itemIds or items is required');
	}

	const publishedItemIds: string[] = [];
	const errors: string[] = [];
	for (const {id, locales} of asked) {
		const item = typeof id === 'string' ? collection.items.get(id) : undefined;
		if (item) {
			publish(item, locales?.map(locale => cmsLocaleOf(site, locale) ?? locale));
			publishedItemIds.push(item.id);
		} else {
			errors.push(`Item ${String(id)} not found`);
		}
	}

	return {status: 202, body: {publishedItemIds, errors}};
}

import type {SandboxRate} from './budget.js';
import {editAsset, localeOf, siteJson, type AssetEdit, type SandboxAsset, type SandboxSite} from './state.js';
import {answerPages, isPageRoute, pageRouteOf, type PageRoute} from './pages.js';
import {hasScope, reaches, scopesOf, type SandboxToken} from './tokens.js';
import {errorBody, paged, type Answer, type Paging} from './wire.js';

/** The endpoints the sandbox serves, from Webflow's description of them. */
export type Route =
	| {readonly name: 'introspect'}
	| {readonly name: 'list' | 'site'; readonly siteId: string}
	| {readonly name: 'get' | 'patch'; readonly assetId: string}
	| PageRoute;

/** What a route reads: who asks, what is there, the query and (for a PATCH) the body. */
export type RouteContext = {
	readonly token: SandboxToken;
	readonly rate: SandboxRate;
	readonly sites: ReadonlyMap<string, SandboxSite>;
	readonly query: URLSearchParams;
	readonly body: string;
	/** How lists page. @default Webflow's: 100 a page, with a total */
	readonly paging?: Paging;
};

const HEX24 = /^[\da-f]{24}$/;

export function routeOf(method: string, path: string): Route | undefined {
	if (method === 'GET' && path === '/v2/token/introspect') {
		return {name: 'introspect'};
	}

	const list = /^\/v2\/sites\/([^/]+)\/assets\/?$/.exec(path)?.[1];
	if (method === 'GET' && list !== undefined) {
		return {name: 'list', siteId: list};
	}

	const site = /^\/v2\/sites\/([^/]+)\/?$/.exec(path)?.[1];
	if (method === 'GET' && site !== undefined) {
		return {name: 'site', siteId: site};
	}

	const asset = /^\/(?:v2|beta)\/assets\/([^/]+)\/?$/.exec(path)?.[1];
	if (asset !== undefined && (method === 'GET' || method === 'PATCH')) {
		return {name: method === 'GET' ? 'get' : 'patch', assetId: asset};
	}

	return pageRouteOf(method, path);
}

export function noRoute(method: string, path: string): Answer {
	return {status: 404, body: errorBody('route_not_found', `No route for ${method} ${path}`)};
}

export function answer(route: Route, context: RouteContext): Answer {
	if (isPageRoute(route)) {
		return answerPages(route, context);
	}

	switch (route.name) {
		case 'introspect': {
			return introspect(context);
		}

		case 'list': {
			return listAssets(route.siteId, context);
		}

		case 'site': {
			return getSite(route.siteId, context);
		}

		default: {
			return assetCall(route.name, route.assetId, context);
		}
	}
}

export function findAsset(sites: ReadonlyMap<string, SandboxSite>, id: string): SandboxAsset | undefined {
	for (const site of sites.values()) {
		const asset = site.assets.get(id);
		if (asset) {
			return asset;
		}
	}

	return undefined;
}

function missingScope(token: SandboxToken, scope: string): Answer | undefined {
	return hasScope(token, scope) ? undefined : {status: 403, body: errorBody('missing_scopes', `OAuthForbidden: You are missing the following scopes - ${scope}`)};
}

function invalid(field: string, message: string): Answer {
	return {status: 400, body: errorBody('validation_error', 'Validation Error', [{param: field, description: message}])};
}

/** No such resource, or one this token may not see: Webflow answers both alike. */
const NOT_FOUND: Answer = {status: 404, body: errorBody('resource_not_found', 'Requested resource not found')};

function introspect({token, rate, sites}: RouteContext): Answer {
	if (token.introspect === false) {
		return {status: 403, body: errorBody('forbidden', 'Access to this endpoint requires a bearer token from a Data Client App')};
	}

	return {status: 200, body: {
		authorization: {
			id: '55818d58616600637b9a5786',
			createdOn: '2025-01-01T00:00:00.000Z',
			lastUsed: new Date().toISOString(),
			grantType: 'authorization_code',
			rateLimit: token.reportedRateLimit ?? Math.round(rate.count * 60_000 / rate.windowMs),
			scope: scopesOf(token).join(','),
			authorizedTo: {siteIds: token.siteIds ?? [...sites.keys()], workspaceIds: ['52f3b1f7eafac55d0c64ef91'], userIds: ['545bbecb7bdd6769632504a7']},
		},
	}};
}

/** `get-site` (scope `sites:read`): the site with its locales, each with its `cmsLocaleId`. */
function getSite(siteId: string, {token, sites}: RouteContext): Answer {
	const refused = missingScope(token, 'sites:read');
	if (refused) {
		return refused;
	}

	if (!HEX24.test(siteId)) {
		return invalid('site_id', 'Provided ID is invalid');
	}

	const site = sites.get(siteId);
	return site && reaches(token, siteId) ? {status: 200, body: siteJson(site)} : NOT_FOUND;
}

function listAssets(siteId: string, {token, sites, query, paging}: RouteContext): Answer {
	const refused = missingScope(token, 'assets:read');
	if (refused) {
		return refused;
	}

	if (!HEX24.test(siteId)) {
		return invalid('site_id', 'Provided ID is invalid');
	}

	const site = sites.get(siteId);
	if (!site || !reaches(token, siteId)) {
		return NOT_FOUND;
	}

	const locale = localeOf(site, query.get('localeId'));
	if (locale === undefined) {
		return invalid('localeId', 'Unknown locale for this site');
	}

	const {items, pagination} = paged([...site.assets.values()], query, paging);
	return {status: 200, body: {assets: items.map(a => assetJson(a, locale)), pagination}};
}

function assetCall(route: 'get' | 'patch', id: string, {token, sites, query, body}: RouteContext): Answer {
	const refused = missingScope(token, route === 'patch' ? 'assets:write' : 'assets:read');
	if (refused) {
		return refused;
	}

	if (!HEX24.test(id)) {
		return invalid('asset_id', 'Provided ID is invalid');
	}

	const asset = findAsset(sites, id);
	const site = asset && reaches(token, asset.siteId) ? sites.get(asset.siteId) : undefined;
	if (!asset || !site) {
		return NOT_FOUND;
	}

	const locale = localeOf(site, query.get('localeId'));
	if (locale === undefined) {
		return invalid('localeId', 'Unknown locale for this site');
	}

	if (route === 'patch') {
		const refusal = patchAsset(asset, locale, body);
		if (refusal) {
			return refusal;
		}
	}

	return {status: 200, body: assetJson(asset, locale)};
}

/** `{displayName?, altText?}`, both strings when given; `undefined` when the edit was made. */
function patchAsset(asset: SandboxAsset, locale: string, body: string): Answer | undefined {
	let patch: unknown;
	try {
		patch = JSON.parse(body);
	} catch {
		return {status: 400, body: errorBody('bad_request', 'Request body must be JSON')};
	}

	const {displayName, altText} = (patch ?? {}) as {displayName?: unknown; altText?: unknown};
	const wrong = Object.entries({displayName, altText}).filter(([, value]) => value !== undefined && typeof value !== 'string');
	if (typeof patch !== 'object' || patch === null || wrong.length > 0) {
		return {status: 400, body: errorBody('validation_error', 'Validation Error', wrong.map(([field]) => ({param: field, description: 'must be a string'})))};
	}

	editAsset(asset, locale, {displayName, altText} as AssetEdit);
	return undefined;
}

function assetJson(asset: SandboxAsset, locale: string) {
	return {
		id: asset.id,
		contentType: asset.contentType,
		size: asset.size,
		siteId: asset.siteId,
		hostedUrl: asset.hostedUrl,
		originalFileName: asset.originalFileName,
		displayName: asset.displayName,
		lastUpdated: asset.lastUpdated,
		createdOn: asset.createdOn,
		variants: [],
		altText: asset.altText.get(locale) ?? null,
		folderId: asset.folderId,
	};
}

import http from 'node:http';
import https from 'node:https';
import got, {type Got, type RequestError} from 'got';
import {apiCode} from '../errors.js';
import type {ApiReply, RateHeaders} from '../engine/reply.js';
import {pageFacts, type PageFacts} from './paging.js';

export type {ApiReply, RateHeaders} from '../engine/reply.js';

export type AssetPatch = {
	readonly assetId: string;
	readonly localeId: string | undefined;
	readonly displayName: string | undefined;
	readonly altText: string | undefined;
};

/** One item of a bulk CMS write. */
export type ItemUpdate = {readonly id: string; readonly cmsLocaleId: string | undefined; readonly fieldData: Readonly<Record<string, unknown>>};

export type Introspection = {
	readonly rateLimit: number | undefined;
	readonly scopes: readonly string[] | undefined;
	readonly siteIds: readonly string[] | undefined;
};

export type AssetSummary = {
	readonly id: string;
	readonly displayName: string | undefined;
	readonly altText: string | null | undefined;
	readonly hostedUrl: string | undefined;
	readonly originalFileName: string | undefined;
	readonly contentType: string | undefined;
	readonly lastUpdated: string | undefined;
	readonly folderId: string | null | undefined;
};

/** Most items one bulk CMS write takes (update-items, update-items-live): Webflow's documented limit. */
export const ITEMS_PER_WRITE = 100;

const STATUS_CODES: Readonly<Record<number, string>> = {
	400: 'bad_request',
	401: 'not_authorized',
	403: 'forbidden',
	404: 'resource_not_found',
	409: 'conflict',
	429: 'too_many_requests',
	500: 'internal_error',
	502: 'service_unavailable',
	503: 'service_unavailable',
	504: 'service_unavailable',
};

function headerNumber(value: string | string[] | undefined): number | undefined {
	const text = Array.isArray(value) ? value[0] : value;
	if (text === undefined || text.trim() === '') {
		return undefined;
	}

	const n = Number(text);
	return Number.isFinite(n) ? n : undefined;
}

/** `Retry-After` as seconds or an HTTP date → milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
	if (value === undefined || value.trim() === '') {
		return undefined;
	}

	const seconds = Number(value);
	if (Number.isFinite(seconds)) {
		return Math.max(0, seconds * 1000);
	}

	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorBody(text: string): {code?: string; message?: string; details?: unknown[]} | undefined {
	try {
		const body = JSON.parse(text) as unknown;
		return typeof body === 'object' && body !== null ? body as {code?: string; message?: string} : undefined;
	} catch {
		return undefined;
	}
}

/**
 * One entry of an error's `details` as people read it: Webflow sends `{param, description}`
 * (`items[3].fieldData.gallery: Invalid file`); `{field, message}`, a string or any other value is
 * taken as it comes (an object as its JSON).
 */
function describeDetail(detail: unknown): string {
	if (typeof detail === 'string') {
		return detail;
	}

	if (typeof detail !== 'object' || detail === null) {
		return String(detail);
	}

	const {param, field, description, message} = detail as Record<string, unknown>;
	const where = typeof param === 'string' ? param : typeof field === 'string' ? field : undefined;
	const what = typeof description === 'string' ? description : typeof message === 'string' ? message : undefined;
	if (where === undefined && what === undefined) {
		return JSON.stringify(detail);
	}

	return [where, what].filter(part => part !== undefined && part !== '').join(': ');
}

function describeDetails(details: unknown[] | undefined): string {
	if (!Array.isArray(details) || details.length === 0) {
		return '';
	}

	return ` (${details.map(describeDetail).join('; ')})`;
}

/**
 * The Webflow Data API v2, as the calls this tool makes. The one importer of got: no retries
 * here (the scheduler owns them), explicit timeouts, keep-alive capped at the concurrency, and
 * errors reduced to code and message so the token on got's error objects never travels further.
 */
export class WebflowClient {
	readonly #got: Got;

	constructor({apiBase, token, timeoutMs, concurrency}: {apiBase: string; token: string; timeoutMs: number; concurrency: number}) {
		this.#got = got.extend({
			prefixUrl: apiBase.replace(/\/+$/, ''),
			headers: {authorization: `Bearer ${token}`, 'user-agent': 'altbatch', accept: 'application/json'},
			retry: {limit: 0},
			throwHttpErrors: false,
			followRedirect: false,
			timeout: {request: timeoutMs},
			responseType: 'text',
			agent: {
				http: new http.Agent({keepAlive: true, maxSockets: concurrency + 1}),
				https: new https.Agent({keepAlive: true, maxSockets: concurrency + 1}),
			},
		});
	}

	patchAsset(patch: AssetPatch, signal?: AbortSignal): Promise<ApiReply> {
		const body: Record<string, string> = {};
		if (patch.displayName !== undefined) {
			body.displayName = patch.displayName;
		}

		if (patch.altText !== undefined) {
			body.altText = patch.altText;
		}

		return this.#request({method: 'PATCH', path: `v2/assets/${patch.assetId}`, query: {localeId: patch.localeId}, json: body, signal});
	}

	getAsset({assetId, localeId}: {assetId: string; localeId: string | undefined}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/assets/${assetId}`, query: {localeId}, signal});
	}

	listAssets({siteId, localeId, offset, limit}: {siteId: string; localeId: string | undefined; offset: number; limit: number}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/sites/${siteId}/assets`, query: {localeId, offset: String(offset), limit: String(limit)}, signal});
	}

	/** get-site (scope sites:read): the site, with its locales' ids and `cmsLocaleId`s. */
	getSite({siteId}: {siteId: string}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/sites/${siteId}`, query: {}, signal});
	}

	/** list-collections: a site's collections (no fields). */
	listCollections({siteId}: {siteId: string}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/sites/${siteId}/collections`, query: {}, signal});
	}

	/** collection-details: a collection with its fields (slug, type). */
	getCollection({collectionId}: {collectionId: string}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/collections/${collectionId}`, query: {}, signal});
	}

	/** list-collection-items (staged) or list-collection-items-live: one page, at most 100 items, in one CMS locale (none: the primary). */
	listItems({collectionId, live, cmsLocaleId, offset, limit}: {collectionId: string; live: boolean; cmsLocaleId: string | undefined; offset: number; limit: number}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/collections/${collectionId}/items${live ? '/live' : ''}`, query: {cmsLocaleId, offset: String(offset), limit: String(limit)}, signal});
	}

	/**
	 * update-items (staged) or update-items-live: at most 100 items a request, each with only the
	 * fields it changes (`cmsLocaleId` left out for the primary locale). `skipInvalidFiles=false`:
	 * Webflow's default (true) answers 200 while dropping an image it finds invalid; refused, the
	 * batch's 400 fails the rows instead of a silent loss.
	 */
	updateItems({collectionId, live, items}: {collectionId: string; live: boolean; items: readonly ItemUpdate[]}, signal?: AbortSignal): Promise<ApiReply> {
		const body = {items: items.map(({id, cmsLocaleId, fieldData}) => cmsLocaleId === undefined ? {id, fieldData} : {id, cmsLocaleId, fieldData})};
		return this.#request({method: 'PATCH', path: `v2/collections/${collectionId}/items${live ? '/live' : ''}`, query: {skipInvalidFiles: 'false'}, json: body, signal});
	}

	/** `list-pages` (scope pages:read). */
	listPages({siteId, localeId, offset, limit}: {siteId: string; localeId: string | undefined; offset: number; limit: number}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/sites/${siteId}/pages`, query: {localeId, offset: String(offset), limit: String(limit)}, signal});
	}

	/** `get-page-content`: one page of a static page's nodes (scope pages:read). */
	getPageDom({pageId, localeId, offset, limit}: {pageId: string; localeId: string | undefined; offset: number; limit: number}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/pages/${pageId}/dom`, query: {localeId, offset: String(offset), limit: String(limit)}, signal});
	}

	/** `list-components` (scope components:read). */
	listComponents({siteId, offset, limit}: {siteId: string; offset: number; limit: number}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/sites/${siteId}/components`, query: {offset: String(offset), limit: String(limit)}, signal});
	}

	/** `get-component-content` and `get-component-properties` (scope components:read). */
	getComponent({siteId, componentId, part, localeId, offset, limit}: {siteId: string; componentId: string; part: 'dom' | 'properties'; localeId: string | undefined; offset: number; limit: number}, signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: `v2/sites/${siteId}/components/${encodeURIComponent(componentId)}/${part}`, query: {localeId, offset: String(offset), limit: String(limit)}, signal});
	}

	introspect(signal?: AbortSignal): Promise<ApiReply> {
		return this.#request({method: 'GET', path: 'v2/token/introspect', query: {}, signal});
	}

	async #request({method, path, query, json, signal}: {method: 'GET' | 'PATCH'; path: string; query: Record<string, string | undefined>; json?: unknown; signal: AbortSignal | undefined}): Promise<ApiReply> {
		const searchParams: Record<string, string> = {};
		for (const [key, value] of Object.entries(query)) {
			if (value !== undefined) {
				searchParams[key] = value;
			}
		}

		let response;
		try {
			response = await this.#got(path, {method, searchParams, json, signal});
		} catch (error) {
			const requestError = error as RequestError;
			if (requestError.name === 'TimeoutError') {
				return {kind: 'transport', code: 'timeout', message: `no answer within the timeout (${method} /${path})`, status: undefined, rate: undefined};
			}

			if (requestError.name === 'AbortError' || requestError.code === 'ERR_ABORTED') {
				return {kind: 'transport', code: 'aborted', message: 'request cancelled', status: undefined, rate: undefined};
			}

			return {kind: 'transport', code: 'network_error', message: `${requestError.code ?? requestError.name}: ${requestError.message.replace(/https?:\/\/\S+/g, '<url>')}`, status: undefined, rate: undefined};
		}

		const rate: RateHeaders = {limit: headerNumber(response.headers['x-ratelimit-limit']), remaining: headerNumber(response.headers['x-ratelimit-remaining'])};
		const status = response.statusCode;
		if (status >= 200 && status < 300) {
			try {
				return {kind: 'ok', status, body: response.body === '' ? {} : JSON.parse(response.body) as unknown, rate};
			} catch {
				return {kind: 'transport', code: 'bad_body', message: `HTTP ${status} with an unreadable body`, status, rate};
			}
		}

		const body = errorBody(response.body);
		const code = apiCode(typeof body?.code === 'string' && body.code !== '' ? body.code : STATUS_CODES[status] ?? `http_${status}`);
		const message = typeof body?.message === 'string'
			? `${body.message}${describeDetails(body.details)}`
			: `HTTP ${status} ${response.statusMessage ?? ''} (${(response.headers['content-type'] ?? 'no').split(';')[0]} body)`.replace(/\s+/g, ' ');
		const retryAfter = response.headers['retry-after'];
		return {kind: 'error', status, code, message, retryAfterMs: parseRetryAfter(retryAfter), rate};
	}
}

/** Reads `introspect`'s answer; missing parts stay undefined. */
export function readIntrospection(body: unknown): Introspection {
	const authorization = (body as {authorization?: {rateLimit?: unknown; scope?: unknown; authorizedTo?: {siteIds?: unknown}}} | undefined)?.authorization;
	const rateLimit = typeof authorization?.rateLimit === 'number' && authorization.rateLimit > 0 ? authorization.rateLimit : undefined;
	// Scopes compared as lower case: Webflow's description writes `CMS:read`, its introspect `cms:read`.
	const scopes = typeof authorization?.scope === 'string' ? authorization.scope.split(/[\s,]+/).filter(Boolean).map(scope => scope.toLowerCase()) : undefined;
	const siteIds = Array.isArray(authorization?.authorizedTo?.siteIds) ? authorization.authorizedTo.siteIds.filter((s): s is string => typeof s === 'string').map(s => s.trim().toLowerCase()) : undefined;
	return {rateLimit, scopes, siteIds};
}

/**
 * Reads one page of `List Assets`: `undefined` when it has no `assets` array, or an asset without
 * its `altText` (required by the description, `null` when there is none: a missing one is never
 * read as "no alt text", which `--only-missing` would then overwrite).
 */
export function readAssetPage(body: unknown): {assets: AssetSummary[]; total: number | undefined; facts: PageFacts} | undefined {
	const page = body as {assets?: unknown} | undefined;
	if (!Array.isArray(page?.assets)) {
		return undefined;
	}

	const text = (v: unknown) => typeof v === 'string' ? v : undefined;
	const raw = page.assets as Array<Record<string, unknown>>;
	if (raw.some(a => typeof a !== 'object' || a === null || (a.altText !== null && typeof a.altText !== 'string'))) {
		return undefined;
	}

	const assets = raw.map(a => ({
		id: String(a.id ?? '').toLowerCase(),
		displayName: text(a.displayName),
		altText: a.altText === null ? null : text(a.altText),
		hostedUrl: text(a.hostedUrl),
		originalFileName: text(a.originalFileName),
		contentType: text(a.contentType),
		lastUpdated: text(a.lastUpdated),
		folderId: a.folderId === null ? null : text(a.folderId),
	}));
	const facts = pageFacts(body, 'assets');
	return {assets, total: facts.total, facts};
}

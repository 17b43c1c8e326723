import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {demoSite, editAsset, localeOf, type AssetEdit, type SandboxAsset, type SandboxSite} from './state.js';

export type SandboxRate = {readonly count: number; readonly windowMs: number};

export type SandboxToken = {
	readonly token: string;
	/** @default ['assets:read', 'assets:write'] */
	readonly scopes?: readonly string[];
	/** Sites it may touch. @default every site */
	readonly siteIds?: readonly string[];
	/** Its own budget. @default the sandbox's rate */
	readonly rate?: SandboxRate;
	/** Whether `introspect` answers for it (site tokens may be refused). @default true */
	readonly introspect?: boolean;
	/** What introspect reports as `rateLimit` (requests/min). @default the rate, per minute */
	readonly reportedRateLimit?: number;
};

/**
 * Site tokens from `siteId → token` pairs (the `--tokens` file of `run`): each token may touch only
 * the sites it is listed for (one listed for several sites acts as a workspace token).
 */
export function siteTokens(tokensBySite: Iterable<readonly [string, string]>): SandboxToken[] {
	const sites = new Map<string, string[]>();
	for (const [siteId, token] of tokensBySite) {
		sites.set(token, [...sites.get(token) ?? [], siteId.toLowerCase()]);
	}

	return [...sites].map(([token, siteIds]) => ({token, siteIds}));
}

export type FaultKind = 'error500' | 'html503' | 'drop' | 'truncate' | 'slow' | 'limited';
export type FaultRates = Partial<Record<FaultKind, number>>;

export type SandboxOptions = {
	readonly port?: number;
	readonly host?: string;
	readonly tokens?: readonly SandboxToken[];
	/** @default 60/min */
	readonly rate?: SandboxRate;
	/** How the budget is counted. @default 'fixed' */
	readonly window?: 'fixed' | 'sliding';
	readonly sites?: readonly SandboxSite[];
	/** Share of PATCH requests answered with each fault. */
	readonly faults?: FaultRates;
	/** Whether answers carry `X-RateLimit-Limit`/`-Remaining` (a stand-in without them). @default true */
	readonly rateHeaders?: boolean;
	/** How long a `slow` answer takes. @default 35000 */
	readonly slowMs?: number;
	readonly seed?: number;
	/** Largest request body taken; a larger one is answered 413 without being read. @default 1 MiB */
	readonly maxBodyBytes?: number;
	/** How many of the latest requests `requests` keeps (older ones are dropped). @default 100000 */
	readonly requestLog?: number;
};

/** One request as the sandbox saw it. */
export type LoggedRequest = {
	readonly at: number;
	readonly token: string | undefined;
	readonly method: string;
	readonly path: string;
	readonly status: number;
	readonly fault: FaultKind | undefined;
	/** For a 429: when its `Retry-After` ends. */
	readonly retryUntil: number | undefined;
};

type Budget = {windowStart: number; used: number; log: number[]};

const HEX24 = /^[\da-f]{24}$/;
const ALL_SCOPES = ['assets:read', 'assets:write'];

function errorBody(code: string, message: string, details: unknown[] = []) {
	return {code, message, externalReference: null, details};
}

function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d_2b_79_f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

/**
 * A local Webflow-compatible Data API: the asset and token endpoints with Webflow's bodies, status
 * codes and a per-token rate limit (`X-RateLimit-*` on every answer, 429 + `Retry-After` past it),
 * plus switchable faults and a request log for tests.
 */
export class Sandbox {
	readonly sites: Map<string, SandboxSite>;
	readonly requests: LoggedRequest[] = [];
	faults: FaultRates;
	readonly #tokens: Map<string, SandboxToken>;
	readonly #budgets = new Map<string, Budget>();
	readonly #rate: SandboxRate;
	readonly #window: 'fixed' | 'sliding';
	readonly #slowMs: number;
	readonly #late: number[] = [];
	readonly #random: () => number;
	readonly #scripted: FaultKind[] = [];
	readonly #scriptedFor = new Map<string, FaultKind[]>();
	readonly #server: Server;
	readonly #options: SandboxOptions;
	readonly #maxBodyBytes: number;
	readonly #requestLog: number;

	constructor(options: SandboxOptions = {}) {
		this.#options = options;
		const sites = options.sites ?? [demoSite()];
		this.sites = new Map(sites.map(s => [s.id, s]));
		const tokens = options.tokens ?? [{token: 'sandbox-token'}];
		this.#tokens = new Map(tokens.map(t => [t.token, t]));
		this.#rate = options.rate ?? {count: 60, windowMs: 60_000};
		this.#window = options.window ?? 'fixed';
		this.faults = options.faults ?? {};
		this.#slowMs = options.slowMs ?? 35_000;
		this.#maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
		this.#requestLog = options.requestLog ?? 100_000;
		this.#random = mulberry32(options.seed ?? 42);
		this.#server = createServer((request, response) => {
			this.#handle(request, response).catch(() => {
				if (!response.headersSent) {
					this.#json(response, 500, errorBody('internal_error', 'An Internal Error occurred'));
				}
			});
		});
		this.#server.keepAliveTimeout = 5000;
	}

	/** Starts listening; resolves to the base URL (port 0 picks a free port). */
	async listen(): Promise<string> {
		await new Promise<void>((resolve, reject) => {
			this.#server.once('error', reject);
			this.#server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', resolve);
		});
		return this.url;
	}

	get url(): string {
		const address = this.#server.address() as AddressInfo;
		const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
		return `http://${host}:${address.port}`;
	}

	async close(): Promise<void> {
		this.#server.closeAllConnections();
		await new Promise<void>(resolve => {
			this.#server.close(() => {
				resolve();
			});
		});
	}

	/** The next PATCH requests get these faults, in order, before any random ones. */
	failNext(...faults: FaultKind[]): void {
		this.#scripted.push(...faults);
	}

	/**
	 * The next requests (any kind, any token) are each held this long before the budget counts them,
	 * as a slow network would deliver them: a window opens late.
	 */
	arriveLate(...delaysMs: number[]): void {
		this.#late.push(...delaysMs);
	}

	/** The next PATCH requests for this asset get these faults, in order. */
	failNextFor(assetId: string, ...faults: FaultKind[]): void {
		this.#scriptedFor.set(assetId, [...this.#scriptedFor.get(assetId) ?? [], ...faults]);
	}

	/** Adds or replaces a token (tests: a read-only token, a token with its own limit). */
	addToken(token: SandboxToken): void {
		this.#tokens.set(token.token, token);
	}

	asset(id: string): SandboxAsset | undefined {
		for (const site of this.sites.values()) {
			const asset = site.assets.get(id);
			if (asset) {
				return asset;
			}
		}

		return undefined;
	}

	/**
	 * Changes an asset as an editor in the Designer would, between or during runs: `localeId`
	 * defaults to the site's primary locale; `altText` `null` or `""` clears it; `lastUpdated` moves
	 * on. Throws when the asset or the locale does not exist.
	 */
	editAsset({id, localeId, ...edit}: {id: string; localeId?: string} & AssetEdit): SandboxAsset {
		const asset = this.asset(id);
		const site = asset && this.sites.get(asset.siteId);
		const locale = site && localeOf(site, localeId);
		if (!asset || locale === undefined) {
			throw new Error(`The sandbox has no asset ${id}${localeId === undefined ? '' : ` in locale ${localeId}`}`);
		}

		editAsset(asset, locale, edit);
		return asset;
	}

	/**
	 * Requests that arrived while a `Retry-After` given to their token was running. `graceMs`: a
	 * request already on its way before the client could have read the 429 is not counted (in
	 * tests client and sandbox share one event loop, which a loaded machine can stall for 100 ms;
	 * a client that ignored the pause would still send well inside the 1 s or more that remain).
	 */
	requestsDuringRetryAfter(graceMs = 250, {method}: {method?: string} = {}): LoggedRequest[] {
		const found: LoggedRequest[] = [];
		// With `method`, only that client's requests and 429s (another client on the token uses another method).
		const mine = method === undefined ? this.requests : this.requests.filter(r => r.method === method);
		const limited = mine.filter(r => r.retryUntil !== undefined);
		for (const request of mine) {
			if (limited.some(r => r.token === request.token && request.at > r.at + graceMs && request.at < r.retryUntil!)) {
				found.push(request);
			}
		}

		return found;
	}

	#rateFor(token: SandboxToken): SandboxRate {
		return token.rate ?? this.#rate;
	}

	/** Counts one request against the token's budget; `undefined` when it is within it. */
	#spend(token: SandboxToken, now: number): {remaining: number; retryAfterMs: number | undefined} {
		const rate = this.#rateFor(token);
		let budget = this.#budgets.get(token.token);
		if (!budget) {
			budget = {windowStart: now, used: 0, log: []};
			this.#budgets.set(token.token, budget);
		}

		if (this.#window === 'fixed') {
			if (now - budget.windowStart >= rate.windowMs) {
				budget.windowStart = now - ((now - budget.windowStart) % rate.windowMs);
				budget.used = 0;
			}

			if (budget.used >= rate.count) {
				return {remaining: 0, retryAfterMs: budget.windowStart + rate.windowMs - now};
			}

			budget.used++;
			return {remaining: rate.count - budget.used, retryAfterMs: undefined};
		}

		while (budget.log.length > 0 && budget.log[0]! <= now - rate.windowMs) {
			budget.log.shift();
		}

		if (budget.log.length >= rate.count) {
			return {remaining: 0, retryAfterMs: budget.log[0]! + rate.windowMs - now};
		}

		budget.log.push(now);
		return {remaining: rate.count - budget.log.length, retryAfterMs: undefined};
	}

	#json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
		const text = JSON.stringify(body);
		response.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers});
		response.end(text);
	}

	#log(entry: Omit<LoggedRequest, 'at'> & {at?: number}): void {
		this.requests.push({at: entry.at ?? performance.timeOrigin + performance.now(), ...entry});
		if (this.requests.length > this.#requestLog) {
			this.requests.splice(0, this.requests.length - this.#requestLog);
		}
	}

	/** 413 with Webflow's error body; the rest of the body is not read, the connection closes. */
	#tooLarge(response: ServerResponse): void {
		this.#json(response, 413, errorBody('bad_request', `Request body larger than ${this.#maxBodyBytes} bytes`), {connection: 'close'});
	}

	#pickFault(assetId: string): FaultKind | undefined {
		const scripted = this.#scriptedFor.get(assetId)?.shift() ?? this.#scripted.shift();
		if (scripted) {
			return scripted;
		}

		let roll = this.#random();
		for (const [kind, share] of Object.entries(this.faults) as Array<[FaultKind, number]>) {
			if (roll < share) {
				return kind;
			}

			roll -= share;
		}

		return undefined;
	}

	async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const at = performance.timeOrigin + performance.now();
		const url = new URL(request.url ?? '/', 'http://sandbox');
		const method = request.method ?? 'GET';
		const auth = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
		const token = auth === undefined ? undefined : this.#tokens.get(auth);
		const label = token ? `token#${[...this.#tokens.keys()].indexOf(token.token)}` : undefined;
		const log = (status: number, extra: {fault?: FaultKind; retryUntil?: number} = {}) => {
			this.#log({at, token: label, method, path: url.pathname, status, fault: extra.fault, retryUntil: extra.retryUntil});
		};

		// A refused request's body is never read: the connection closes after the answer instead.
		const close: Record<string, string> = hasBody(request) ? {connection: 'close'} : {};
		if (!token) {
			// No token, no budget of its own: the headers still say what a token would get.
			log(401);
			this.#json(response, 401, errorBody('not_authorized', 'Request not authorized'), {'x-ratelimit-limit': String(this.#rate.count), 'x-ratelimit-remaining': String(this.#rate.count), ...close});
			return;
		}

		if (Number(request.headers['content-length'] ?? 0) > this.#maxBodyBytes) {
			log(413);
			this.#tooLarge(response);
			return;
		}

		const late = this.#late.shift();
		if (late !== undefined) {
			await new Promise(resolve => setTimeout(resolve, late).unref());
		}

		const rate = this.#rateFor(token);
		const spent = this.#spend(token, Date.now());
		const rateHeaders: Record<string, string> = this.#options.rateHeaders === false ? {} : {'x-ratelimit-limit': String(rate.count), 'x-ratelimit-remaining': String(spent.remaining)};
		if (spent.retryAfterMs !== undefined) {
			const seconds = Math.max(1, Math.ceil(spent.retryAfterMs / 1000));
			log(429, {retryUntil: at + seconds * 1000});
			this.#json(response, 429, errorBody('too_many_requests', 'Too many requests'), {...rateHeaders, 'retry-after': String(seconds)});
			return;
		}

		const reply = (status: number, payload: unknown) => {
			log(status);
			this.#json(response, status, payload, rateHeaders);
		};

		const route = routeOf(method, url.pathname);
		switch (route?.name) {
			case 'introspect': {
				if (token.introspect === false) {
					reply(403, errorBody('forbidden', 'Access to this endpoint requires a bearer token from a Data Client App'));
					return;
				}

				reply(200, {
					authorization: {
						id: '55818d58616600637b9a5786',
						createdOn: '2025-01-01T00:00:00.000Z',
						lastUsed: new Date().toISOString(),
						grantType: 'authorization_code',
						rateLimit: token.reportedRateLimit ?? Math.round(rate.count * 60_000 / rate.windowMs),
						scope: (token.scopes ?? ALL_SCOPES).join(','),
						authorizedTo: {siteIds: token.siteIds ?? [...this.sites.keys()], workspaceIds: ['52f3b1f7eafac55d0c64ef91'], userIds: ['545bbecb7bdd6769632504a7']},
					},
				});
				return;
			}

			case 'list': {
				this.#listAssets({token, siteId: route.id, query: url.searchParams, reply});
				return;
			}

			case 'get':
			case 'patch': {
				const fault = route.name === 'patch' ? this.#pickFault(route.id) : undefined;
				if (fault === 'drop') {
					log(0, {fault});
					request.socket.destroy();
					return;
				}

				if (fault === 'limited') {
					// A 429 that is not the budget (a proxy's, say): the rate headers still tell the truth.
					const seconds = 1;
					log(429, {fault, retryUntil: at + seconds * 1000});
					this.#json(response, 429, errorBody('too_many_requests', 'Too many requests'), {...rateHeaders, 'retry-after': String(seconds)});
					return;
				}

				if (fault === 'error500') {
					log(500, {fault});
					this.#json(response, 500, errorBody('internal_error', 'An Internal Error occurred'), rateHeaders);
					return;
				}

				if (fault === 'html503') {
					log(503, {fault});
					const html = '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>';
					response.writeHead(503, {'content-type': 'text/html', ...rateHeaders});
					response.end(html);
					return;
				}

				const body = route.name === 'patch' ? await readBody(request, this.#maxBodyBytes) : '';
				if (body === undefined) {
					log(413);
					this.#tooLarge(response);
					return;
				}

				const result = this.#assetCall({token, route: route.name, id: route.id, query: url.searchParams, body});
				if (fault === 'truncate' && result.status === 200) {
					log(200, {fault});
					const text = JSON.stringify(result.payload);
					response.writeHead(200, {'content-type': 'application/json; charset=utf-8', ...rateHeaders});
					response.end(text.slice(0, Math.floor(text.length / 2)));
					return;
				}

				if (fault === 'slow') {
					log(result.status, {fault});
					await new Promise(resolve => setTimeout(resolve, this.#slowMs).unref());
					if (!response.destroyed) {
						this.#json(response, result.status, result.payload, rateHeaders);
					}

					return;
				}

				reply(result.status, result.payload);
				return;
			}

			default: {
				reply(404, errorBody('route_not_found', `No route for ${method} ${url.pathname}`));
			}
		}
	}

	#siteAccess(token: SandboxToken, siteId: string): boolean {
		return token.siteIds === undefined || token.siteIds.includes(siteId);
	}

	#listAssets({token, siteId, query, reply}: {token: SandboxToken; siteId: string; query: URLSearchParams; reply: (status: number, payload: unknown) => void}): void {
		if (!(token.scopes ?? ALL_SCOPES).includes('assets:read')) {
			reply(403, errorBody('missing_scopes', 'OAuthForbidden: You are missing the following scopes - assets:read'));
			return;
		}

		const site = this.sites.get(siteId);
		if (!HEX24.test(siteId)) {
			reply(400, errorBody('validation_error', 'Validation Error', [{field: 'site_id', message: 'Provided ID is invalid'}]));
			return;
		}

		if (!site || !this.#siteAccess(token, siteId)) {
			reply(404, errorBody('resource_not_found', 'Requested resource not found'));
			return;
		}

		const locale = localeOf(site, query.get('localeId'));
		if (locale === undefined) {
			reply(400, errorBody('validation_error', 'Validation Error', [{field: 'localeId', message: 'Unknown locale for this site'}]));
			return;
		}

		const offset = Math.max(0, Number.parseInt(query.get('offset') ?? '0', 10) || 0);
		const limit = Math.min(100, Math.max(1, Number.parseInt(query.get('limit') ?? '100', 10) || 100));
		const all = [...site.assets.values()];
		reply(200, {assets: all.slice(offset, offset + limit).map(a => assetJson(a, locale)), pagination: {limit, offset, total: all.length}});
	}

	#assetCall({token, route, id, query, body}: {token: SandboxToken; route: 'get' | 'patch'; id: string; query: URLSearchParams; body: string}): {status: number; payload: unknown} {
		const scope = route === 'patch' ? 'assets:write' : 'assets:read';
		if (!(token.scopes ?? ALL_SCOPES).includes(scope)) {
			return {status: 403, payload: errorBody('missing_scopes', `OAuthForbidden: You are missing the following scopes - ${scope}`)};
		}

		if (!HEX24.test(id)) {
			return {status: 400, payload: errorBody('validation_error', 'Validation Error', [{field: 'asset_id', message: 'Provided ID is invalid'}])};
		}

		const asset = this.asset(id);
		if (!asset || !this.#siteAccess(token, asset.siteId)) {
			return {status: 404, payload: errorBody('resource_not_found', 'Requested resource not found')};
		}

		const site = this.sites.get(asset.siteId)!;
		const locale = localeOf(site, query.get('localeId'));
		if (locale === undefined) {
			return {status: 400, payload: errorBody('validation_error', 'Validation Error', [{field: 'localeId', message: 'Unknown locale for this site'}])};
		}

		if (route === 'patch') {
			let patch: unknown;
			try {
				patch = JSON.parse(body);
			} catch {
				return {status: 400, payload: errorBody('bad_request', 'Request body must be JSON')};
			}

			const {displayName, altText} = (patch ?? {}) as {displayName?: unknown; altText?: unknown};
			const wrong = [['displayName', displayName], ['altText', altText]].filter(([, v]) => v !== undefined && typeof v !== 'string');
			if (typeof patch !== 'object' || patch === null || wrong.length > 0) {
				return {status: 400, payload: errorBody('validation_error', 'Validation Error', wrong.map(([field]) => ({field, message: 'must be a string'})))};
			}

			editAsset(asset, locale, {displayName: displayName as string | undefined, altText: altText as string | undefined});
		}

		return {status: 200, payload: assetJson(asset, locale)};
	}
}

function routeOf(method: string, path: string): {name: 'introspect' | 'list' | 'get' | 'patch'; id: string} | undefined {
	if (method === 'GET' && path === '/v2/token/introspect') {
		return {name: 'introspect', id: ''};
	}

	const list = /^\/v2\/sites\/([^/]+)\/assets\/?$/.exec(path);
	if (method === 'GET' && list) {
		return {name: 'list', id: list[1]!};
	}

	const asset = /^\/(?:v2|beta)\/assets\/([^/]+)\/?$/.exec(path);
	if (asset && (method === 'GET' || method === 'PATCH')) {
		return {name: method === 'GET' ? 'get' : 'patch', id: asset[1]!};
	}

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

function hasBody(request: IncomingMessage): boolean {
	return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/** The body as text, or `undefined` as soon as it grows past `maxBytes` (the rest is left unread). */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const onData = (chunk: Buffer) => {
			size += chunk.length;
			if (size > maxBytes) {
				request.off('data', onData);
				request.pause();
				resolve(undefined);
				return;
			}

			chunks.push(chunk);
		};

		request.on('data', onData);
		request.once('end', () => {
			resolve(Buffer.concat(chunks).toString('utf8'));
		});
		request.once('error', reject);
	});
}

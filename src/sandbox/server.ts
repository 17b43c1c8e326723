import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Budgets, retryAfterSeconds, type SandboxRate, type WindowKind} from './budget.js';
import {addDemoCollections} from './cms-demo.js';
import {cmsAnswer, cmsHasBody, cmsLocaleOf, cmsRouteOf, findCollection} from './cms-routes.js';
import {applyBulk, publish, type FieldData, type SandboxCollection, type SandboxItem} from './cms.js';
import {Faults, instead, spoiled, type FaultKind, type FaultRates} from './faults.js';
import {withDemoPages} from './pages.js';
import {answer, findAsset, noRoute, routeOf} from './routes.js';
import {demoSite, editAsset, localeOf, type AssetEdit, type SandboxAsset, type SandboxSite} from './state.js';
import type {SandboxToken} from './tokens.js';
import {deliver, errorBody, hasBody, json, readBody, statusOf, type Delivery, type Paging} from './wire.js';

export type {SandboxRate} from './budget.js';
export type {FaultKind, FaultRates} from './faults.js';
export {siteTokens, type SandboxToken} from './tokens.js';

export type SandboxOptions = {
	readonly port?: number;
	readonly host?: string;
	readonly tokens?: readonly SandboxToken[];
	/** @default 60/min */
	readonly rate?: SandboxRate;
	/** How the budget is counted. @default 'fixed' */
	readonly window?: WindowKind;
	readonly sites?: readonly SandboxSite[];
	/** Share of PATCH requests answered with each fault. */
	readonly faults?: FaultRates;
	/** Whether answers carry `X-RateLimit-Limit`/`-Remaining` (a stand-in without them). @default true */
	readonly rateHeaders?: boolean;
	/**
	 * How list answers page (assets, CMS items, pages, DOM, components): a stand-in with limits of its
	 * own holds at most `maxLimit` items a page and may leave `pagination.total` out. @default {maxLimit: 100, total: true}
	 */
	readonly paging?: Paging;
	/** How long a `slow` answer takes. @default 35000 */
	readonly slowMs?: number;
	readonly seed?: number;
	/** Largest request body taken; a larger one is answered 413 without being read. @default 1 MiB */
	readonly maxBodyBytes?: number;
	/** How many of the latest requests `requests` keeps (older ones are dropped). @default 100000 */
	readonly requestLog?: number;
	/**
	 * Whether a bulk CMS write refused for some of its items names them in the error's `details`
	 * (`{param: "items[<i>]…", description}`, as Webflow does); without, a client must split the batch. @default true
	 */
	readonly cmsErrorDetails?: boolean;
};

/** One request as the sandbox saw it. */
export type LoggedRequest = {
	readonly at: number;
	/** `token#<n>`, the n-th token the sandbox knows; `undefined` for an unknown or missing token. */
	readonly token: string | undefined;
	readonly method: string;
	readonly path: string;
	/** 0 when the connection was dropped. */
	readonly status: number;
	readonly fault: FaultKind | undefined;
	/** For a 429: when its `Retry-After` ends. */
	readonly retryUntil: number | undefined;
};

/** What the sandbox decided for one request: how it goes out, and the fault it carries. */
type Decision = {readonly delivery: Delivery; readonly fault?: FaultKind};

/**
 * A local Webflow-compatible Data API: the asset and token endpoints with Webflow's bodies, status
 * codes and a per-token rate limit (`X-RateLimit-*` on every answer, 429 + `Retry-After` past it),
 * plus switchable faults and a request log for tests. Routes (routes.ts), the budget (budget.ts)
 * and faults (faults.ts) are each their own module; this one takes a request through them.
 */
export class Sandbox {
	readonly sites: Map<string, SandboxSite>;
	readonly requests: LoggedRequest[] = [];
	readonly #tokens: Map<string, SandboxToken>;
	readonly #budgets: Budgets;
	readonly #faults: Faults;
	readonly #rate: SandboxRate;
	readonly #late: number[] = [];
	readonly #server: Server;
	readonly #options: SandboxOptions;
	readonly #maxBodyBytes: number;
	readonly #requestLog: number;
	readonly #refusedItems = new Set<string>();

	constructor(options: SandboxOptions = {}) {
		this.#options = options;
		const sites = options.sites ?? [withDemoPages(addDemoCollections(demoSite()))];
		this.sites = new Map(sites.map(s => [s.id, s]));
		const tokens = options.tokens ?? [{token: 'sandbox-token'}];
		this.#tokens = new Map(tokens.map(t => [t.token, t]));
		this.#rate = options.rate ?? {count: 60, windowMs: 60_000};
		this.#budgets = new Budgets(options.window ?? 'fixed');
		this.#faults = new Faults(options.faults ?? {}, options.seed ?? 42);
		this.#maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
		this.#requestLog = options.requestLog ?? 100_000;
		this.#server = createServer((request, response) => {
			this.#handle(request, response).catch(async () => {
				if (!response.headersSent) {
					await deliver(request, response, json({status: 500, body: errorBody('internal_error', 'An Internal Error occurred')}, {}));
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

	/** Share of PATCH requests answered with each fault; may be changed between requests. */
	get faults(): FaultRates {
		return this.#faults.rates;
	}

	set faults(rates: FaultRates) {
		this.#faults.rates = rates;
	}

	/** The next PATCH requests get these faults, in order, before any random ones. */
	failNext(...faults: FaultKind[]): void {
		this.#faults.failNext(faults);
	}

	/** The next PATCH requests for this asset get these faults, in order. */
	failNextFor(assetId: string, ...faults: FaultKind[]): void {
		this.#faults.failNextFor(assetId, faults);
	}

	/**
	 * The next requests (any kind, any token) are each held this long before the budget counts them,
	 * as a slow network would deliver them: a window opens late.
	 */
	arriveLate(...delaysMs: number[]): void {
		this.#late.push(...delaysMs);
	}

	/** Adds or replaces a token (tests: a read-only token, a token with its own limit). */
	addToken(token: SandboxToken): void {
		this.#tokens.set(token.token, token);
	}

	asset(id: string): SandboxAsset | undefined {
		return findAsset(this.sites, id);
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

	/** The collection with this id, on any site. */
	collection(id: string): SandboxCollection | undefined {
		return findCollection(this.sites, id)?.collection;
	}

	/** The item with this id and its collection, in any collection of any site. */
	item(id: string): {collection: SandboxCollection; item: SandboxItem} | undefined {
		for (const site of this.sites.values()) {
			for (const collection of site.collections.values()) {
				const item = collection.items.get(id);
				if (item) {
					return {collection, item};
				}
			}
		}

		return undefined;
	}

	/**
	 * Changes an item's staged fields as an editor in the Designer would (`live`: its live fields, as
	 * a publish of that edit would); each field given replaces its value. `cmsLocaleId` (a CMS
	 * locale id, or for tests' ease the site locale's id) defaults to the primary locale. Throws when the item, the locale or the live item does not exist.
	 */
	editItem({id, cmsLocaleId, fieldData, live = false}: {id: string; cmsLocaleId?: string; fieldData: FieldData; live?: boolean}): SandboxItem {
		const found = this.item(id);
		const site = found && this.sites.get(found.collection.siteId);
		const locale = site && (cmsLocaleOf(site, cmsLocaleId) ?? localeOf(site, cmsLocaleId));
		const variant = locale === undefined ? undefined : found?.item.variants.get(locale);
		if (!found || locale === undefined || !variant || (live && variant.live === undefined)) {
			throw new Error(`The sandbox has no ${live ? 'live ' : ''}item ${id}${cmsLocaleId === undefined ? '' : ` in locale ${cmsLocaleId}`}`);
		}

		applyBulk({collection: found.collection, items: [{id, cmsLocaleId: locale, fieldData}], live});
		return found.item;
	}

	/** Publishes an item as an editor would (every locale): its live version becomes its staged one. */
	publishItem(id: string): SandboxItem {
		const found = this.item(id);
		if (!found) {
			throw new Error(`The sandbox has no item ${id}`);
		}

		publish(found.item);
		return found.item;
	}

	/** Every later bulk write (staged or live) naming one of these items is refused with a 400 for it (tests). */
	refuseItems(...ids: string[]): void {
		for (const id of ids) {
			this.#refusedItems.add(id);
		}
	}

	async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const at = performance.timeOrigin + performance.now();
		const url = new URL(request.url ?? '/', 'http://sandbox');
		const method = request.method ?? 'GET';
		const auth = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
		const token = auth === undefined ? undefined : this.#tokens.get(auth);
		const {delivery, fault} = await this.#decide({request, url, method, token});
		const retryAfter = delivery.kind === 'json' ? delivery.headers['retry-after'] : undefined;
		this.#log({
			at,
			token: token ? `token#${[...this.#tokens.keys()].indexOf(token.token)}` : undefined,
			method,
			path: url.pathname,
			status: statusOf(delivery),
			fault,
			retryUntil: retryAfter === undefined ? undefined : at + Number(retryAfter) * 1000,
		});
		await deliver(request, response, delivery);
	}

	/**
	 * A request's way through: the token (before the body is read), the body's announced size, the
	 * budget, then the route — with a PATCH's fault either instead of it or spoiling its answer.
	 */
	async #decide({request, url, method, token}: {request: IncomingMessage; url: URL; method: string; token: SandboxToken | undefined}): Promise<Decision> {
		if (!token) {
			// No token, no budget of its own: the headers still say what a token would get. The body is left unread.
			const count = String(this.#rate.count);
			const close: Record<string, string> = hasBody(request) ? {connection: 'close'} : {};
			return {delivery: json({status: 401, body: errorBody('not_authorized', 'Request not authorized')}, {'x-ratelimit-limit': count, 'x-ratelimit-remaining': count, ...close})};
		}

		if (Number(request.headers['content-length'] ?? 0) > this.#maxBodyBytes) {
			return {delivery: this.#tooLarge()};
		}

		const late = this.#late.shift();
		if (late !== undefined) {
			await new Promise(resolve => setTimeout(resolve, late).unref());
		}

		const rate = token.rate ?? this.#rate;
		const spent = this.#budgets.spend(token.token, rate, Date.now());
		const headers: Record<string, string> = this.#options.rateHeaders === false ? {} : {'x-ratelimit-limit': String(rate.count), 'x-ratelimit-remaining': String(spent.remaining)};
		if (spent.retryAfterMs !== undefined) {
			return {delivery: json({status: 429, body: errorBody('too_many_requests', 'Too many requests')}, {...headers, 'retry-after': String(retryAfterSeconds(spent.retryAfterMs))})};
		}

		const route = routeOf(method, url.pathname);
		if (!route) {
			return this.#cms({request, url, method, token, headers});
		}

		const fault = route.name === 'patch' ? this.#faults.pick(route.assetId) : undefined;
		const early = fault && instead(fault, headers);
		if (early) {
			return {delivery: early, fault};
		}

		const body = route.name === 'patch' ? await readBody(request, this.#maxBodyBytes) : '';
		if (body === undefined) {
			return {delivery: this.#tooLarge()};
		}

		const result = answer(route, {token, rate, sites: this.sites, query: url.searchParams, body, paging: this.#options.paging});
		return spoiled(fault, result, headers, this.#options.slowMs ?? 35_000);
	}

	/** The CMS routes (cms-routes.ts); a write's fault is picked by its collection id. */
	async #cms({request, url, method, token, headers}: {request: IncomingMessage; url: URL; method: string; token: SandboxToken; headers: Record<string, string>}): Promise<Decision> {
		const route = cmsRouteOf(method, url.pathname);
		if (!route) {
			return {delivery: json(noRoute(method, url.pathname), headers)};
		}

		const fault = route.name === 'update-items' ? this.#faults.pick(route.collectionId) : undefined;
		const early = fault && instead(fault, headers);
		if (early) {
			return {delivery: early, fault};
		}

		const body = cmsHasBody(route) ? await readBody(request, this.#maxBodyBytes) : '';
		if (body === undefined) {
			return {delivery: this.#tooLarge()};
		}

		const result = cmsAnswer(route, {token, sites: this.sites, query: url.searchParams, body, refused: this.#refusedItems, errorDetails: this.#options.cmsErrorDetails ?? true, paging: this.#options.paging});
		return spoiled(fault, result, headers, this.#options.slowMs ?? 35_000);
	}

	/** 413 with Webflow's error body; the rest of the body is not read, the connection closes. */
	#tooLarge(): Delivery {
		return json({status: 413, body: errorBody('bad_request', `Request body larger than ${this.#maxBodyBytes} bytes`)}, {connection: 'close'});
	}

	#log(entry: LoggedRequest): void {
		this.requests.push(entry);
		if (this.requests.length > this.#requestLog) {
			this.requests.splice(0, this.requests.length - this.#requestLog);
		}
	}
}

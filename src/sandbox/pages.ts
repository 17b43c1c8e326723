import {localeOf, objectId, type SandboxSite} from './state.js';
import {hasScope, reaches, type SandboxToken} from './tokens.js';
import {errorBody, paged, type Answer, type Paging} from './wire.js';

/**
 * Pages, their DOM and components, as Webflow's description has them (`list-pages`,
 * `get-page-content`, `list-components`, `get-component-content`, `get-component-properties`):
 * static pages hold nodes; an image node is `{id, type: "image", image: {alt?, assetId?}}`; a
 * component instance carries property overrides, an `Alt Text` property among them. Per-locale
 * values fall back to the primary locale's, as a secondary locale shows the primary's content
 * until it is localized. Read-only: the sandbox serves no DOM writes.
 */

/** A value per locale id; a locale without one shows the primary locale's. */
export type PerLocale = Map<string, string | null>;

export type SandboxImageNode = {readonly id: string; readonly type: 'image'; readonly assetId?: string | undefined; readonly alt?: PerLocale | undefined};
export type SandboxTextNode = {readonly id: string; readonly type: 'text'; readonly text: string};
export type SandboxOverride = {readonly propertyId: string; readonly type: 'Alt Text' | 'Plain Text'; readonly label: string; readonly text: PerLocale};
export type SandboxInstanceNode = {readonly id: string; readonly type: 'component-instance'; readonly componentId: string; readonly overrides: SandboxOverride[]};
export type SandboxNode = SandboxImageNode | SandboxTextNode | SandboxInstanceNode;

export type SandboxPage = {
	readonly id: string;
	readonly title: string;
	readonly slug: string;
	/** A CMS template page: it has no static DOM. */
	readonly collectionId: string | null;
	readonly draft: boolean;
	readonly archived: boolean;
	readonly nodes: SandboxNode[];
};

export type SandboxComponent = {
	readonly id: string;
	readonly name: string;
	readonly nodes: SandboxNode[];
	/** Its properties with their default values (`Alt Text` among them). */
	readonly properties: SandboxOverride[];
};

/** What a site holds besides its assets (kept beside the site, so state.ts stays as it was). */
export type SitePages = {pages: SandboxPage[]; components: SandboxComponent[]};

const held = new WeakMap<SandboxSite, SitePages>();

/** The site's pages and components (empty until some are added). */
export function pagesOf(site: SandboxSite): SitePages {
	let pages = held.get(site);
	if (!pages) {
		pages = {pages: [], components: []};
		held.set(site, pages);
	}

	return pages;
}

/** A stable UUID-like node id (Webflow's node ids look like UUIDs). */
export function nodeId(label: string): string {
	const hex = objectId(label) + objectId(`${label}/2`);
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function addPage(site: SandboxSite, page: {slug: string; title?: string; nodes: SandboxNode[]; collectionId?: string | null; draft?: boolean; archived?: boolean; id?: string}): SandboxPage {
	const made: SandboxPage = {
		id: page.id ?? objectId(`${site.id}/page/${page.slug}`),
		title: page.title ?? page.slug,
		slug: page.slug,
		collectionId: page.collectionId ?? null,
		draft: page.draft ?? false,
		archived: page.archived ?? false,
		nodes: page.nodes,
	};
	pagesOf(site).pages.push(made);
	return made;
}

export function addComponent(site: SandboxSite, component: {name: string; nodes: SandboxNode[]; properties?: SandboxOverride[]}): SandboxComponent {
	const made: SandboxComponent = {id: nodeId(`${site.id}/component/${component.name}`), name: component.name, nodes: component.nodes, properties: component.properties ?? []};
	pagesOf(site).components.push(made);
	return made;
}

/** An image node: `alt` a string for the primary locale, or per locale; left out, the node has none. */
export function imageNode(label: string, {assetId, alt}: {assetId?: string; alt?: string | null | PerLocale}): SandboxImageNode {
	const perLocale = alt === undefined ? undefined : alt instanceof Map ? alt : new Map([['', alt]]);
	return {id: nodeId(label), type: 'image', assetId, alt: perLocale};
}

export function textNode(label: string, text: string): SandboxTextNode {
	return {id: nodeId(label), type: 'text', text};
}

/** Finds a page's image node by id, on any site (tests: an editor changes it in the Designer). */
export function findPage(sites: ReadonlyMap<string, SandboxSite>, id: string): {site: SandboxSite; page: SandboxPage} | undefined {
	for (const site of sites.values()) {
		const page = pagesOf(site).pages.find(p => p.id === id);
		if (page) {
			return {site, page};
		}
	}

	return undefined;
}

export type PageRoute =
	| {readonly name: 'list-pages' | 'list-components'; readonly siteId: string}
	| {readonly name: 'page-dom'; readonly pageId: string}
	| {readonly name: 'component-dom' | 'component-properties'; readonly siteId: string; readonly componentId: string};

export function pageRouteOf(method: string, path: string): PageRoute | undefined {
	if (method !== 'GET') {
		return undefined;
	}

	const listed = /^\/v2\/sites\/([^/]+)\/(pages|components)\/?$/.exec(path);
	if (listed) {
		return {name: listed[2] === 'pages' ? 'list-pages' : 'list-components', siteId: listed[1] ?? ''};
	}

	const dom = /^\/v2\/pages\/([^/]+)\/dom\/?$/.exec(path)?.[1];
	if (dom !== undefined) {
		return {name: 'page-dom', pageId: dom};
	}

	const component = /^\/v2\/sites\/([^/]+)\/components\/([^/]+)\/(dom|properties)\/?$/.exec(path);
	return component ? {name: component[3] === 'dom' ? 'component-dom' : 'component-properties', siteId: component[1] ?? '', componentId: decodeURIComponent(component[2] ?? '')} : undefined;
}

export function isPageRoute(route: {readonly name: string}): route is PageRoute {
	return ['list-pages', 'list-components', 'page-dom', 'component-dom', 'component-properties'].includes(route.name);
}

/** The scopes Webflow names for these reads (its description's `security` says `page:read`; its text and the token screen say `pages:read`). */
export const PAGE_SCOPES = {pages: 'pages:read', components: 'components:read'} as const;

const HEX24 = /^[\da-f]{24}$/;
const NOT_FOUND: Answer = {status: 404, body: errorBody('resource_not_found', 'Requested resource not found')};

function invalid(field: string, message: string): Answer {
	return {status: 400, body: errorBody('validation_error', 'Validation Error', [{param: field, description: message}])};
}

export function answerPages(route: PageRoute, {token, sites, query, paging}: {token: SandboxToken; sites: ReadonlyMap<string, SandboxSite>; query: URLSearchParams; paging?: Paging}): Answer {
	const scope = route.name === 'list-pages' || route.name === 'page-dom' ? PAGE_SCOPES.pages : PAGE_SCOPES.components;
	if (!hasScope(token, scope)) {
		return {status: 403, body: errorBody('missing_scopes', `OAuthForbidden: You are missing the following scopes - ${scope}`)};
	}

	let site: SandboxSite | undefined;
	let page: SandboxPage | undefined;
	if (route.name === 'page-dom') {
		if (!HEX24.test(route.pageId)) {
			return invalid('page_id', 'Provided ID is invalid');
		}

		const found = findPage(sites, route.pageId);
		site = found?.site;
		page = found?.page;
	} else {
		if (!HEX24.test(route.siteId)) {
			return invalid('site_id', 'Provided ID is invalid');
		}

		site = sites.get(route.siteId);
	}

	if (!site || !reaches(token, site.id)) {
		return NOT_FOUND;
	}

	const locale = localeOf(site, query.get('localeId'));
	if (locale === undefined) {
		return invalid('localeId', 'Unknown locale for this site');
	}

	const {pages, components} = pagesOf(site);
	const component = 'componentId' in route ? components.find(c => c.id === route.componentId) : undefined;
	const show = (values: PerLocale | undefined) => values === undefined ? undefined : values.has(locale) ? values.get(locale) ?? null : values.get('') ?? values.get(site.primaryLocale) ?? null;
	const nodesJson = (nodes: readonly SandboxNode[]) => nodes.map(node => nodeJson(node, show));
	switch (route.name) {
		case 'list-pages': {
			const {items, pagination} = paged(pages, query, paging);
			return {status: 200, body: {pages: items.map(p => pageJson(p, site, locale)), pagination}};
		}

		case 'list-components': {
			const {items, pagination} = paged(components, query, paging);
			return {status: 200, body: {components: items.map(c => ({id: c.id, name: c.name, group: 'Sections', readonly: false})), pagination}};
		}

		case 'page-dom': {
			const {items, pagination} = paged(page?.collectionId === null ? page.nodes : [], query, paging);
			return {status: 200, body: {pageId: page?.id, branchId: null, nodes: nodesJson(items), pagination, lastUpdated: '2025-01-01T00:00:00.000Z'}};
		}

		case 'component-dom': {
			if (!component) {
				return NOT_FOUND;
			}

			const {items, pagination} = paged(component.nodes, query, paging);
			return {status: 200, body: {componentId: component.id, nodes: nodesJson(items), pagination}};
		}

		case 'component-properties': {
			if (!component) {
				return NOT_FOUND;
			}

			const {items, pagination} = paged(component.properties, query, paging);
			return {status: 200, body: {componentId: component.id, properties: items.map(p => overrideJson(p, show)), pagination}};
		}
	}
}

function pageJson(page: SandboxPage, site: SandboxSite, locale: string) {
	return {
		id: page.id,
		siteId: site.id,
		title: page.title,
		slug: page.slug,
		...page.collectionId === null ? {} : {collectionId: page.collectionId},
		createdOn: '2025-01-01T00:00:00.000Z',
		lastUpdated: '2025-01-01T00:00:00.000Z',
		archived: page.archived,
		draft: page.draft,
		canBranch: false,
		isBranch: false,
		localeId: locale === site.primaryLocale ? null : locale,
		publishedPath: page.slug === '' || page.slug === 'index' ? '/' : `/${page.slug}`,
	};
}

type Show = (values: PerLocale | undefined) => string | null | undefined;

function overrideJson(property: SandboxOverride, show: Show) {
	return {propertyId: property.propertyId, type: property.type, label: property.label, text: {html: null, text: show(property.text) ?? null}};
}

function nodeJson(node: SandboxNode, show: Show) {
	switch (node.type) {
		case 'image': {
			const alt = show(node.alt);
			return {id: node.id, type: 'image', image: {...alt === undefined ? {} : {alt}, ...node.assetId === undefined ? {} : {assetId: node.assetId}}, attributes: {}};
		}

		case 'text': {
			return {id: node.id, type: 'text', text: {html: `<p>${node.text}</p>`, text: node.text}, attributes: {}};
		}

		case 'component-instance': {
			return {id: node.id, type: 'component-instance', componentId: node.componentId, propertyOverrides: node.overrides.map(o => overrideJson(o, show))};
		}
	}
}

/**
 * The demo site's pages and a component (`altbatch sandbox`, `npm start`): images whose alt comes
 * from the asset, images with their own alt (one a file name, one a duplicate on its page), one
 * decorative, one without an asset, a component with an `Alt Text` property overridden on a page,
 * and a secondary-locale alt of its own. Asset `i` is the demo site's `demo/asset/i`.
 */
export function withDemoPages(site: SandboxSite): SandboxSite {
	const asset = (i: number) => objectId(`demo/asset/${i}`);
	const secondary = site.secondaryLocales[0];
	const label = (name: string) => `${site.id}/demo/${name}`;
	const card = addComponent(site, {
		name: 'Feature card',
		nodes: [imageNode(label('card/icon'), {assetId: asset(8)}), textNode(label('card/title'), 'Fast')],
		properties: [{propertyId: nodeId(label('card/alt')), type: 'Alt Text', label: 'Icon alt', text: new Map([['', 'Check mark']])}],
	});
	const iconAlt = nodeId(label('card/alt'));
	addPage(site, {slug: 'index', title: 'Home', nodes: [
		textNode(label('home/h1'), 'Welcome'),
		imageNode(label('home/hero'), {assetId: asset(0)}),
		imageNode(label('home/logo'), {assetId: asset(2)}),
		imageNode(label('home/banner'), {assetId: asset(9)}),
		imageNode(label('home/team'), {assetId: asset(1), alt: secondary === undefined ? 'The whole team on the terrace' : new Map([['', 'The whole team on the terrace'], [secondary, 'Das ganze Team auf der Terrasse']])}),
		imageNode(label('home/divider'), {assetId: asset(8), alt: ''}),
	]});
	addPage(site, {slug: 'about', title: 'About us', nodes: [
		imageNode(label('about/team'), {assetId: asset(1)}),
		imageNode(label('about/founder'), {assetId: asset(5), alt: 'IMG_2041.jpg'}),
		imageNode(label('about/office'), {assetId: asset(6)}),
		imageNode(label('about/chart'), {assetId: asset(7), alt: 'Our team at the 2025 offsite'}),
		imageNode(label('about/spacer'), {}),
	]});
	addPage(site, {slug: 'products', title: 'Products', nodes: [
		imageNode(label('products/shot-1'), {assetId: asset(3)}),
		imageNode(label('products/shot-2'), {assetId: asset(4)}),
		{id: nodeId(label('products/card')), type: 'component-instance', componentId: card.id, overrides: [{propertyId: iconAlt, type: 'Alt Text', label: 'Icon alt', text: new Map([['', 'icon']])}]},
		imageNode(label('products/hero'), {assetId: asset(0)}),
	]});
	return site;
}

/**
 * Image URLs as crawlers list them (Screaming Frog, Ahrefs, Semrush, Sitebulb), to the asset they
 * show. Webflow's CDN URLs carry the site and the asset id: `…/{siteId}/{assetId}_{name}`, with
 * responsive variants `{name}-p-500.{ext}`; any other URL can only be matched against the site's
 * assets' `hostedUrl` (see `urlKey`).
 */

/** What an image URL says about its asset. */
export type ImageRef =
	| {readonly kind: 'cdn'; readonly siteId: string; readonly assetId: string}
	| {readonly kind: 'url'; readonly key: string};

/**
 * Hosts Webflow serves assets from: `cdn.prod.website-files.com`, `assets.website-files.com`,
 * `assets-global.website-files.com`, `uploads-ssl.webflow.com`, `global-uploads.webflow.com`, and
 * the old CloudFront host. [A] any host under website-files.com or webflow.com with this path shape.
 */
const WEBFLOW_HOST = /(^|\.)(website-files\.com|webflow\.com|webflow\.io)$|^daks2k3a4ib2z\.cloudfront\.net$/;

const CDN_PATH = /^\/([\da-f]{24})\/([\da-f]{24})_[^/]*$/i;

/** A responsive variant's suffix before the extension: `-p-500`, `-p-1080`, `-p-130x130q80`. */
const VARIANT = /-p-\d+(?:x\d+)?(?:q\d+)?(?=\.[^./]+$)/i;

function decoded(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text; // A lone `%`: the text as it is.
	}
}

/** A URL as a crawler wrote it, or with no scheme (`//host/…`, `host/…`); undefined when it is none. */
function parsed(text: string): URL | undefined {
	const trimmed = text.trim();
	if (trimmed === '') {
		return undefined;
	}

	const withScheme = /^[a-z][\w+.-]*:\/\//i.test(trimmed) ? trimmed : trimmed.startsWith('//') ? `https:${trimmed}` : `https://${trimmed}`;
	try {
		return new URL(withScheme);
	} catch {
		return undefined;
	}
}

/**
 * The form two URLs of one image share: host in lower case, without scheme, `www.`, query or
 * fragment, the path percent-decoded and without a responsive variant's `-p-500`. Used for the
 * site's `hostedUrl`s and for the rows' URLs alike.
 */
export function urlKey(text: string): string | undefined {
	const url = parsed(text);
	if (url === undefined) {
		return undefined;
	}

	const host = url.hostname.toLowerCase().replace(/^www\./, '');
	return `${host}${decoded(url.pathname).replace(VARIANT, '')}`;
}

/** The asset an image URL shows: its ids from a Webflow CDN URL, else the key to match `hostedUrl`s with. Undefined for a cell that is no URL. */
export function imageRef(text: string): ImageRef | undefined {
	const url = parsed(text);
	if (url === undefined) {
		return undefined;
	}

	const path = decoded(url.pathname);
	const cdn = WEBFLOW_HOST.test(url.hostname.toLowerCase()) ? CDN_PATH.exec(path) : null;
	if (cdn?.[1] !== undefined && cdn[2] !== undefined) {
		return {kind: 'cdn', siteId: cdn[1].toLowerCase(), assetId: cdn[2].toLowerCase()};
	}

	const key = urlKey(text);
	return key === undefined ? undefined : {kind: 'url', key};
}

/** Each asset's `hostedUrl` key → its id: how a URL that is not a CDN URL finds its asset. */
export function hostedUrlIndex(assets: Iterable<{readonly id: string; readonly hostedUrl?: string | undefined}>): Map<string, string> {
	const index = new Map<string, string>();
	for (const asset of assets) {
		const key = asset.hostedUrl === undefined ? undefined : urlKey(asset.hostedUrl);
		if (key !== undefined) {
			index.set(key, asset.id);
		}
	}

	return index;
}

import {createHash} from 'node:crypto';
import type {SandboxCollection} from './cms.js';

/**
 * The sandbox's own picture of Webflow: sites with locales, assets with per-locale alt text.
 * Written from Webflow's API description, sharing nothing with the client in src/webflow/.
 */
export type SandboxAsset = {
	id: string;
	siteId: string;
	displayName: string;
	originalFileName: string;
	contentType: string;
	size: number;
	hostedUrl: string;
	createdOn: string;
	lastUpdated: string;
	folderId: string | null;
	/** Alt text per locale id; the primary locale's id holds the default. */
	altText: Map<string, string | null>;
};

export type SandboxSite = {
	id: string;
	primaryLocale: string;
	secondaryLocales: string[];
	assets: Map<string, SandboxAsset>;
	/** CMS collections by id (cms.ts); their items are kept per site locale, named on the wire by each locale's `cmsLocaleId`. */
	collections: Map<string, SandboxCollection>;
	/**
	 * A locale's `cmsLocaleId` where it is not the one derived from its id (a seed naming CMS locale
	 * ids of its own). Webflow gives every site locale a CMS locale id distinct from its id.
	 */
	cmsLocaleIds?: Map<string, string>;
};

/** A stable 24-hex id derived from a label, so the demo data is the same every time. */
export function objectId(label: string): string {
	return createHash('sha1').update(label).digest('hex').slice(0, 24);
}

export function newSite(id: string, secondaryLocales = 1): SandboxSite {
	return {
		id,
		primaryLocale: objectId(`${id}/locale/primary`),
		secondaryLocales: Array.from({length: secondaryLocales}, (_, i) => objectId(`${id}/locale/${i + 1}`)),
		assets: new Map(),
		collections: new Map(),
	};
}

export function newAsset({site, id, fileName, altText, displayName}: {site: SandboxSite; id: string; fileName: string; altText?: string | null; displayName?: string}): SandboxAsset {
	const created = new Date(Date.UTC(2025, 0, 1)).toISOString();
	const asset: SandboxAsset = {
		id,
		siteId: site.id,
		displayName: displayName ?? fileName,
		originalFileName: fileName,
		contentType: /\.png$/i.test(fileName) ? 'image/png' : /\.svg$/i.test(fileName) ? 'image/svg+xml' : 'image/jpeg',
		size: 1000 + (Number.parseInt(id.slice(-4), 16) % 100_000),
		hostedUrl: `https://cdn.prod.website-files.com/${site.id}/${id}_${encodeURIComponent(fileName)}`,
		createdOn: created,
		lastUpdated: created,
		folderId: null,
		altText: new Map([[site.primaryLocale, altText ?? null]]),
	};
	site.assets.set(id, asset);
	return asset;
}

/**
 * Sets one locale's alt text. `""` clears it (the asset then has none, `altText: null`): Webflow does
 * not document what an empty value does, and this is the one place the sandbox assumes it.
 */
export function setAltText(asset: SandboxAsset, localeId: string, altText: string | null): void {
	asset.altText.set(localeId, altText === '' ? null : altText);
}

/** What one edit changes; a field left out is left as it is. */
export type AssetEdit = {readonly displayName?: string; readonly altText?: string | null};

/**
 * Applies an edit (an API PATCH or an editor in the Designer) and moves `lastUpdated` on, always
 * strictly later than before so that two edits in one millisecond still tell apart.
 */
export function editAsset(asset: SandboxAsset, localeId: string, {displayName, altText}: AssetEdit): void {
	if (displayName !== undefined) {
		asset.displayName = displayName;
	}

	if (altText !== undefined) {
		setAltText(asset, localeId, altText);
	}

	const before = Date.parse(asset.lastUpdated);
	asset.lastUpdated = new Date(Number.isNaN(before) ? Date.now() : Math.max(Date.now(), before + 1)).toISOString();
}

/** The locale a request names (`localeId`), or the site's primary one when it names none; `undefined` when the site has no such locale. */
export function localeOf(site: SandboxSite, localeId: string | null | undefined): string | undefined {
	if (localeId === null || localeId === undefined || localeId === '') {
		return site.primaryLocale;
	}

	return localeId === site.primaryLocale || site.secondaryLocales.includes(localeId) ? localeId : undefined;
}

/** A site locale's `cmsLocaleId`: its own id never (as on Webflow), derived from it unless the site says otherwise. */
export function cmsLocaleIdOf(site: SandboxSite, localeId: string): string {
	return site.cmsLocaleIds?.get(localeId) ?? objectId(`${localeId}/cms-locale`);
}

/** The site locale a `cmsLocaleId` names, or the primary one when none is named; `undefined` when the site has no such CMS locale (a site locale id is not one). */
export function localeOfCms(site: SandboxSite, cmsLocaleId: string | null | undefined): string | undefined {
	if (cmsLocaleId === null || cmsLocaleId === undefined || cmsLocaleId === '') {
		return site.primaryLocale;
	}

	return [site.primaryLocale, ...site.secondaryLocales].find(locale => cmsLocaleIdOf(site, locale) === cmsLocaleId.toLowerCase());
}

/** `locales` of `GET /v2/sites/{site_id}`: each with its `id` and its `cmsLocaleId`. */
export function siteJson(site: SandboxSite) {
	const locale = (id: string, i: number) => ({
		id,
		cmsLocaleId: cmsLocaleIdOf(site, id),
		enabled: true,
		displayName: i === 0 ? 'English (United States)' : `Locale ${i}`,
		displayImageId: null,
		redirect: i === 0,
		subdirectory: i === 0 ? '' : `locale-${i}`,
		tag: i === 0 ? 'en-US' : `x-${i}`,
	});
	return {
		id: site.id,
		workspaceId: '52f3b1f7eafac55d0c64ef91',
		displayName: `Site ${site.id}`,
		shortName: `site-${site.id.slice(-6)}`,
		createdOn: '2025-01-01T00:00:00.000Z',
		lastUpdated: '2025-01-01T00:00:00.000Z',
		timeZone: 'UTC',
		customDomains: [],
		locales: {primary: locale(site.primaryLocale, 0), secondary: site.secondaryLocales.map((id, i) => locale(id, i + 1))},
		dataCollectionEnabled: false,
		dataCollectionType: 'disabled',
	};
}

/** The demo site: a few assets with and without alt text, in two locales. */
export function demoSite(): SandboxSite {
	const site = newSite('65f0a1b2c3d4e5f60718293a');
	const files: Array<[string, string | null]> = [
		['hero-mountains.jpg', null],
		['team-photo.jpg', 'Our team at the 2025 offsite'],
		['logo.svg', 'Altbatch Co. logo'],
		['product-shot-1.png', null],
		['product-shot-2.png', ''],
		['founder-portrait.jpg', null],
		['office-berlin.jpg', 'The Berlin office, seen from the courtyard'],
		['chart-growth.png', null],
		['icon-check.svg', null],
		['banner-sale.jpg', 'image'],
	];
	for (const [i, [fileName, alt]] of files.entries()) {
		newAsset({site, id: objectId(`demo/asset/${i}`), fileName, altText: alt});
	}

	return site;
}

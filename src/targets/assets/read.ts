import {problemOf} from '../../rows/render.js';
import type {Attempted} from '../../schedule/attempts.js';
import type {Session, Stop} from '../../engine/session.js';
import type {SiteShare} from '../../engine/share.js';
import type {CurrentAsset, SiteSnapshot} from '../../rows/snapshot.js';
import {readAssetPage, type ApiReply, type AssetSummary} from '../../webflow/client.js';
import {laterPages} from '../../webflow/paging.js';

export type {CurrentAsset, SiteSnapshot} from '../../rows/snapshot.js';

export type SiteFetchFailure = {readonly attempted: Attempted};

export const PAGE_SIZE = 100;

/**
 * Every asset of a site, for each locale asked, 100 at a time. The first page of a locale tells
 * how many there are; the rest are asked for side by side (`request` paces them to the budget).
 * `onPage` sees the pages in order. A failure other than a refused locale ends the fetch.
 */
export async function fetchSite({siteId, locales, request, onPage}: {
	siteId: string;
	locales: Iterable<string>;
	request: (page: {localeId: string | undefined; offset: number}) => Promise<Attempted>;
	onPage?: (page: {localeId: string; assets: AssetSummary[]}) => void;
}): Promise<SiteSnapshot | SiteFetchFailure> {
	const assets = new Map<string, CurrentAsset>();
	const badLocales = new Map<string, string>();
	let pages = 0;
	const read = async (locale: string, offset: number): Promise<AssetPage | SiteFetchFailure | 'refused'> => {
		const attempted = await request({localeId: locale === '' ? undefined : locale, offset});
		pages++;
		if (attempted.kind === 'failed' && attempted.reply.kind === 'error' && attempted.reply.status === 400 && locale !== '' && offset === 0) {
			badLocales.set(locale, attempted.reply.message);
			return 'refused';
		}

		const page = attempted.kind === 'ok' ? readAssetPage(attempted.reply.body) : undefined;
		return page ?? {attempted: attempted.kind === 'ok' ? {kind: 'failed', reply: badPage(attempted.reply), attempts: attempted.attempts} : attempted};
	};

	const take = (locale: string, page: AssetPage) => {
		for (const summary of page.assets) {
			let current = assets.get(summary.id);
			if (!current) {
				current = {id: summary.id, displayName: summary.displayName, altText: new Map(), hostedUrl: summary.hostedUrl};
				assets.set(summary.id, current);
			}

			current.altText.set(locale, summary.altText ?? null);
		}

		onPage?.({localeId: locale, assets: page.assets});
	};

	for (const locale of locales) {
		const first = await read(locale, 0);
		if (first === 'refused') {
			continue;
		}

		if ('attempted' in first) {
			return first;
		}

		take(locale, first);
		// The rest by what each page held (webflow/paging.ts): side by side up to a total, else until a short page.
		const rest = await laterPages<AssetPage, {attempted: Attempted}>({first: first.facts, asked: PAGE_SIZE, ask: async offset => {
			const page = await read(locale, offset);
			return page === 'refused' || 'attempted' in page ? {failure: unread(page)} : {page, facts: page.facts};
		}});
		if ('failure' in rest) {
			return rest.failure;
		}

		for (const page of rest.pages) {
			take(locale, page);
		}
	}

	return {siteId, assets, badLocales, pages};
}

/** A later page that did not come ends the fetch ('refused' is only ever a locale's first page; it reads as stopped). */
function unread(page: 'refused' | {attempted: Attempted}): {attempted: Attempted} {
	return page === 'refused' ? {attempted: {kind: 'stopped', reply: undefined, attempts: 0}} : page;
}

type AssetPage = NonNullable<ReturnType<typeof readAssetPage>>;

function badPage(reply: ApiReply): ApiReply {
	return {kind: 'transport', code: 'bad_body', message: 'the asset list answer has no assets array, or an asset without its altText', status: reply.status, rate: reply.rate};
}

/**
 * Why a site's listing ended, as the site's own stop: a site this token cannot see (404, 400) is
 * refused; any other failure leaves it unreachable. Anything else (the token refused, a pause beyond
 * --max-wait, an interrupt) is the session's to heed (it stops every site of the token): undefined.
 */
export function listStop({site, attempted, session}: {site: string; attempted: Attempted; session: Session}): Stop | undefined {
	if (attempted.kind === 'failed' && attempted.reply.kind === 'error' && (attempted.reply.status === 404 || attempted.reply.status === 400)) {
		return {reason: 'auth', rowCode: 'aborted', message: `site ${site} cannot be listed with this token (${attempted.reply.status} ${attempted.reply.code}: ${attempted.reply.message})`};
	}

	const outcome = session.outcome(attempted);
	return attempted.kind === 'failed'
		? {reason: 'unreachable', rowCode: 'aborted', message: `the assets of site ${site} could not be read (${outcome.errorCode ?? 'error'}: ${outcome.errorMessage ?? ''})`}
		: undefined;
}

/** Per locale: how many assets have alt text, and how many of those have one without a problem (coverage). */
export type Coverage = ReadonlyMap<string, {readonly total: number; readonly withAlt: number; readonly covered: number}>;

/** Coverage counts only alt text without a problem: `image` or a file name in five assets is not coverage (rows/render.ts). */
export function coverageOf(snapshot: SiteSnapshot): Coverage {
	const coverage = new Map<string, {total: number; withAlt: number; covered: number}>();
	for (const asset of snapshot.assets.values()) {
		for (const [locale, alt] of asset.altText) {
			const entry = coverage.get(locale) ?? {total: 0, withAlt: 0, covered: 0};
			entry.total++;
			if ((alt ?? '').trim() !== '') {
				entry.withAlt++;
			}

			if (problemOf({altText: alt ?? '', decorative: false, fileName: undefined}) === undefined) {
				entry.covered++;
			}

			coverage.set(locale, entry);
		}
	}

	return coverage;
}

/** Every page of the site's assets in these locales, on the site's share of its token (each page counted as a list request). */
export async function listAssets(share: SiteShare, {siteId, locales, onPage}: {siteId: string; locales: Iterable<string>; onPage?: Parameters<typeof fetchSite>[0]['onPage']}): Promise<SiteSnapshot | SiteFetchFailure> {
	const {session} = share;
	return fetchSite({
		siteId,
		locales,
		onPage,
		request: async ({localeId, offset}) => share.request(async () => {
			share.listRequests++;
			return session.client.listAssets({siteId, localeId, offset, limit: PAGE_SIZE}, session.abort);
		}),
	});
}

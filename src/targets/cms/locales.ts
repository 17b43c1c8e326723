import type {Attempted} from '../../schedule/attempts.js';
import type {WebflowClient} from '../../webflow/client.js';
import type {Request} from './read.js';

/**
 * A site locale is not a CMS locale: Webflow's CMS calls take a `cmsLocaleId`, an id of its own that
 * `GET /v2/sites/{id}` lists beside each locale's `id` (the id assets and pages take). This reads
 * that list once per site and turns an id given either way (`--locale`, an audit file's `localeId`,
 * an export's `cmsLocaleId`) into the CMS locale id.
 */

/** One locale of a site: its `id` and its `cmsLocaleId` (undefined when the answer has none). */
export type SiteLocale = {readonly id: string; readonly cmsLocaleId: string | undefined};

/** Site locale id or CMS locale id → CMS locale id; `undefined` (the primary) stays undefined. */
export type CmsLocales = {
	readonly toCms: (id: string | undefined) => string | undefined;
	/** Why the site's locales could not be read (ids then go out as given), or undefined. */
	readonly unread: string | undefined;
};

const text = (value: unknown) => typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : undefined;

/** `locales.primary` and `locales.secondary[]` of a get-site answer; `undefined` when it has no `locales`. */
export function readSiteLocales(body: unknown): SiteLocale[] | undefined {
	const locales = (body as {locales?: {primary?: unknown; secondary?: unknown}} | null)?.locales;
	if (typeof locales !== 'object' || locales === null) {
		return undefined;
	}

	const one = (value: unknown): SiteLocale[] => {
		const locale = value as {id?: unknown; cmsLocaleId?: unknown} | null;
		const id = text(locale?.id);
		return id === undefined ? [] : [{id, cmsLocaleId: text(locale?.cmsLocaleId)}];
	};

	return [...one(locales.primary), ...Array.isArray(locales.secondary) ? locales.secondary.flatMap(one) : []];
}

/** The mapping from a site's locales: a site locale id becomes its `cmsLocaleId`; any other id (a CMS locale id, an unknown one) goes as given. */
export function cmsLocales(locales: readonly SiteLocale[], unread?: string): CmsLocales {
	const byId = new Map(locales.flatMap(({id, cmsLocaleId}) => cmsLocaleId === undefined ? [] : [[id, cmsLocaleId] as const]));
	return {
		toCms: id => id === undefined || id === '' ? undefined : byId.get(id.toLowerCase()) ?? id,
		unread,
	};
}

/** Ids as given: for a lane without a site, or a site whose locales could not be read. */
export const AS_GIVEN: CmsLocales = cmsLocales([]);

function reasonOf(attempted: Attempted): string {
	const {reply} = attempted;
	if (reply === undefined) {
		return attempted.kind;
	}

	return reply.kind === 'ok' ? 'the answer has no locales' : reply.kind === 'error' ? `${reply.status} ${reply.code}: ${reply.message}` : `${reply.code}: ${reply.message}`;
}

/**
 * A site's locales read with `get-site` (one request, on the lane's budget). Not readable (no
 * `sites:read`, a failure): ids go out as given, and `unread` says why.
 */
export async function readCmsLocales({client, request, siteId}: {client: WebflowClient; request: Request; siteId: string}): Promise<CmsLocales> {
	const attempted = await request(async signal => client.getSite({siteId}, signal), 'read');
	const locales = attempted.kind === 'ok' ? readSiteLocales(attempted.reply.body) : undefined;
	return locales === undefined ? cmsLocales([], reasonOf(attempted)) : cmsLocales(locales);
}

import type {Job} from '../rows/job.js';
import type {Outcome, RowCode} from '../rows/result.js';

/** The lane of rows that go through WEBFLOW_TOKEN as one (no `--tokens`/`--prefetch`, `--site`, or rows without a siteId). */
export const DEFAULT_LANE = 'default';

/** What routing reads of the run's settings. */
export type Routing = {
	readonly site: string | undefined;
	readonly prefetch?: boolean | undefined;
	readonly token: string | undefined;
	readonly tokens?: ReadonlyMap<string, string> | undefined;
};

/** A lane to open: its key, the token it goes through, and the site it writes to (none without sites). */
export type LanePlan = {readonly key: string; readonly token: string; readonly site: string | undefined};

/** Whether rows go each through their own site's lane (`--tokens`, `--prefetch`) rather than one lane (`--site`, or one token). */
export function perSite(routing: Routing): boolean {
	return routing.site === undefined && (routing.tokens !== undefined || routing.prefetch === true);
}

/** WEBFLOW_TOKEN, when there is one. */
function defaultToken(routing: Routing): string | undefined {
	return routing.token === undefined || routing.token === '' ? undefined : routing.token;
}

/**
 * The lanes a run opens: with `--site`, one for that site (its token from `--tokens`, else
 * WEBFLOW_TOKEN); with `--tokens` or `--prefetch`, one per site in the file, each through its token
 * from the file, else WEBFLOW_TOKEN (a workspace token), plus WEBFLOW_TOKEN's for rows without a
 * siteId (not with `--prefetch`); otherwise WEBFLOW_TOKEN's one. No token, no lane.
 */
export function planLanes(routing: Routing, siteIds: Iterable<string>): LanePlan[] {
	const fallback = defaultToken(routing);
	if (!perSite(routing)) {
		const token = routing.site === undefined ? fallback : routing.tokens?.get(routing.site) ?? fallback;
		return token === undefined ? [] : [{key: DEFAULT_LANE, token, site: routing.site}];
	}

	const lanes: LanePlan[] = fallback !== undefined && routing.prefetch !== true ? [{key: DEFAULT_LANE, token: fallback, site: undefined}] : [];
	for (const siteId of siteIds) {
		const token = routing.tokens?.get(siteId) ?? fallback;
		if (token !== undefined) {
			lanes.push({key: siteId, token, site: siteId});
		}
	}

	return lanes;
}

/** Where a valid row goes: its lane's key, or why it has none (`invalid`, before any request). */
export type Route = {readonly kind: 'lane'; readonly key: string} | {readonly kind: 'refused'; readonly outcome: Outcome};

const refused = (errorCode: RowCode, errorMessage: string): Route => ({kind: 'refused', outcome: {status: 'invalid', errorCode, errorMessage, ownMessage: true, attempts: 0}});

/**
 * The lane a valid row goes through, or why it has none. With `--site` (or neither `--tokens` nor
 * `--prefetch`) every row takes the one lane; otherwise each row its site's. Whether that lane was
 * opened (a dry run that reads nothing opens none) is for the caller to see.
 */
export function routeJob(job: Pick<Job, 'siteId'>, routing: Routing): Route {
	if (!perSite(routing)) {
		return {kind: 'lane', key: DEFAULT_LANE};
	}

	const hasDefaultToken = defaultToken(routing) !== undefined;
	if (job.siteId === undefined) {
		if (routing.prefetch === true) {
			return refused('no_site_id', 'the row has no siteId, and --prefetch reads each row\'s site');
		}

		return hasDefaultToken ? {kind: 'lane', key: DEFAULT_LANE} : refused('no_token_for_site', 'the row has no siteId, and --tokens routes rows by it');
	}

	if (routing.tokens?.has(job.siteId) !== true && !hasDefaultToken) {
		return refused('no_token_for_site', `--tokens has no token for site ${job.siteId}`);
	}

	return {kind: 'lane', key: job.siteId};
}

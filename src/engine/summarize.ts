import type {RunConfig} from './run-config.js';
import type {SiteSummary, Summary} from '../report/summary.js';
import {ratePerMinute, type BudgetMode, type RateSource} from '../schedule/rate.js';
import {busiestWindow} from '../schedule/window-peak.js';
import {coverageOf} from '../targets/assets/read.js';
import type {Lane} from './lane.js';
import {publicStop, type RunStop} from './session.js';
import type {Sessions} from './sessions.js';
import {emptyStatuses, type Tally} from './tally.js';

/** One site's coverage in one locale, before and after. */
type CoverageRow = NonNullable<Summary['coverage']>[number];

const oneDecimal = (n: number) => Math.round(n * 10) / 10;

/** The run's summary from what was counted, what each lane did, and what each token's pacer saw. */
export function summarize({config, tally, lanes, sessions, offline, offlineEstimate, rows, elapsedMs}: {config: RunConfig; tally: Tally; lanes: ReadonlyMap<string, Lane>; sessions: Sessions; offline: RunStop; offlineEstimate: number; rows: number; elapsedMs: number}): Summary {
	const sites: Record<string, SiteSummary> = {};
	const laneStats = [...lanes].map(([key, lane]) => ({key, site: lane.site, ...lane.stats()}));
	for (const lane of laneStats) {
		const statuses = tally.byLane.get(lane.key) ?? emptyStatuses();
		sites[lane.site ?? lane.key] = {
			statuses,
			requests: lane.requests,
			listRequests: lane.listRequests,
			estimatedRequests: config.dryRun ? lane.wouldSend : undefined,
			conflicts: statuses.conflict,
			tooManyRequests: lane.tooManyRequests,
			rateLimitPerMinute: oneDecimal(lane.ratePerMinute),
			stopped: publicStop(lane.stopped),
		};
	}

	// Rows of a site no lane went to (refused before any request: invalid, no token) count there too.
	for (const [key, statuses] of tally.byLane) {
		if (!lanes.has(key)) {
			sites[key] = {statuses, requests: 0, listRequests: 0, estimatedRequests: config.dryRun ? 0 : undefined, conflicts: statuses.conflict, tooManyRequests: 0, rateLimitPerMinute: 0, stopped: undefined};
		}
	}

	const tokens = sessions.all().map(session => session.stats());
	const requests = tokens.reduce((sum, token) => sum + token.requests, 0);
	const first = Math.min(...tokens.map(token => token.sentSpan?.first ?? Number.POSITIVE_INFINITY));
	const last = Math.max(...tokens.map(token => token.sentSpan?.last ?? Number.NEGATIVE_INFINITY));
	// Requests per minute from the first request sent to the last (n requests span n - 1 gaps), so
	// a short run paced at the limit shows the limit, not more. One request has no rate: 0.
	const effectivePerMs = requests >= 2 && last > first ? (requests - 1) / (last - first) : 0;
	const stops = laneStats.map(lane => lane.stopped);
	const interrupted = offline.current ?? stops.find(stop => stop?.reason === 'interrupted');
	// The run stopped when every lane did; one site's refused token stops only that site's rows.
	const stopped = interrupted ?? (stops.length > 0 && stops.every(Boolean) ? stops[0] : undefined);
	const listRequests = laneStats.reduce((sum, lane) => sum + lane.listRequests, 0);
	const wouldSend = laneStats.reduce((sum, lane) => sum + lane.wouldSend, 0);
	return {
		input: config.input,
		out: config.out,
		dryRun: config.dryRun,
		rows,
		statuses: tally.statuses,
		errorCodes: tally.errorCodes,
		warnings: tally.warnings,
		requests,
		listRequests,
		estimatedRequests: config.dryRun ? wouldSend + offlineEstimate : undefined,
		tooManyRequests: tokens.reduce((sum, token) => sum + token.tooManyRequests, 0),
		pausedSeconds: Math.round(Math.max(0, ...tokens.map(token => token.pausedMs)) / 100) / 10,
		elapsedSeconds: Math.round(elapsedMs / 100) / 10,
		effectiveRatePerMinute: oneDecimal(effectivePerMs * 60_000),
		// Tokens are paced side by side: the run's pace is theirs together.
		rateLimitPerMinute: oneDecimal(tokens.reduce((sum, token) => sum + ratePerMinute(token.rate), 0)),
		rateSource: oneSource(tokens.map(token => token.source)),
		budget: leastShared(tokens.map(token => token.budget)),
		sites: config.tokens !== undefined || config.prefetch === true ? sites : undefined,
		window: busiestWindow(sessions.all().map(session => ({timeline: session.timeline(), rate: session.stats().rate}))),
		coverage: [...lanes.values()].flatMap(lane => coverageRows(lane)),
		stopped: publicStop(stopped),
	};
}

/** Where the tokens' rates came from: one place, `mixed`, or `none` without a token. */
function oneSource(sources: readonly RateSource[]): Summary['rateSource'] {
	const distinct = new Set(sources);
	return distinct.size === 0 ? 'none' : distinct.size === 1 ? sources[0] ?? 'none' : 'mixed';
}

/** The budget line of several tokens: one that fell back from Redis first, then one shared, else local. */
function leastShared(modes: readonly BudgetMode[]): BudgetMode {
	return modes.find(mode => mode.kind === 'fallback') ?? modes.find(mode => mode.kind === 'shared') ?? {kind: 'local'};
}

/** Coverage before (at the prefetch) and after (the snapshot with every applied row). */
export function coverageRows(lane: Lane): CoverageRow[] {
	const {snapshot, coverageBefore} = lane.assets;
	if (!snapshot || !coverageBefore) {
		return [];
	}

	const after = coverageOf(snapshot);
	return [...coverageBefore].map(([locale, before]) => ({site: snapshot.siteId, locale, before, after: after.get(locale) ?? before}));
}

import type {RunConfig} from './run-config.js';
import type {CheckedInput} from '../files/input-check.js';
import type {RunLedger} from '../ledger/ledger.js';
import type {LedgerView} from '../ledger/view.js';
import type {Logger} from '../logger.js';
import {Lane} from './lane.js';
import {DEFAULT_LANE, planLanes} from './route.js';
import {Session} from './session.js';
import {Sessions} from './sessions.js';
import {internalFailure, keyOrder} from './row-order.js';

const READ_AHEAD = 20_000;

/** A run's lanes by key, and the sessions (one per token) they go through. */
export type RunLanes = {readonly lanes: ReadonlyMap<string, Lane>; readonly sessions: Sessions};

/** What opening lanes reads of the run's hooks: the logger, Ctrl-C and the second Ctrl-C. */
export type LaneHooks = {readonly logger: Logger; readonly interrupt?: AbortSignal | undefined; readonly abort?: AbortSignal | undefined};

/** A lane per planned lane, each through its token's one session (sites that share a token share its session and budget). */
export function openLanes({config, siteIds, hooks, now, ledger, view}: {config: RunConfig; siteIds: ReadonlySet<string>; hooks: LaneHooks; now: () => number; ledger: RunLedger | undefined; view: LedgerView | undefined}): RunLanes {
	const lanes = new Map<string, Lane>();
	const sessions = new Sessions((token, site) => {
		const line = site !== undefined && config.tokens?.get(site) === token ? config.tokenLines?.get(site) : undefined;
		const tokenOrigin = line === undefined ? undefined : `the token for site ${site} on ${config.tokensFile ?? '--tokens'}:${line}`;
		return new Session({...config, token, tokenOrigin, logger: hooks.logger.child({site: site ?? DEFAULT_LANE}), now, interrupt: hooks.interrupt, abort: hooks.abort});
	});
	const plans = planLanes(config, siteIds);
	// With several lanes the reader runs ahead (up to READ_AHEAD rows queued in all), so a file
	// sorted by site keeps every site's budget busy instead of one at a time.
	const backlog = plans.length > 1 ? Math.ceil(READ_AHEAD / plans.length) : undefined;
	const inKeyOrder = keyOrder();
	const secrets = [config.token, ...config.tokens?.values() ?? []].filter((token): token is string => token !== undefined && token !== '');
	const fail = (error: unknown, row: number) => internalFailure({error, logger: hooks.logger, row, secrets});
	for (const {key, token, site} of plans) {
		lanes.set(key, new Lane({session: sessions.of(token, site), site, config, logger: hooks.logger, ledger, view, backlog, inKeyOrder, fail}));
	}

	return {lanes, sessions};
}

/** A run that reads nothing (a dry run without the network, an input refused whole): no lane, no session. */
export function noLanes(): RunLanes {
	return {lanes: new Map(), sessions: new Sessions(() => {
		throw new Error('a run without lanes opens no session');
	})};
}

/** Introspect every token, then each site's prefetch in the locales its own rows use (one site's locale ids mean nothing to another). */
export async function startLanes({lanes, config, checked}: {lanes: ReadonlyMap<string, Lane>; config: RunConfig; checked: CheckedInput | undefined}): Promise<void> {
	if (checked === undefined) {
		return; // No lanes: the run reads nothing.
	}

	const prefetch = config.site !== undefined || config.prefetch === true;
	// Pending writes are settled by the lane that writes to their site now (the one lane: every site of the file).
	const settles = (lane: Lane) => new Set(lane.site !== undefined ? [lane.site] : lanes.size === 1 ? [undefined, ...checked.siteIds] : [undefined]);
	await Promise.all([...lanes.values()].map(lane => lane.start({prefetch, assets: checked.assetRows !== false, locales: lane.site === config.site ? checked.locales : checked.localesBySite.get(lane.site ?? '') ?? checked.locales, settles: settles(lane)})));
}

/**
 * A dry run that reads nothing: the introspects a real run would send first, one per token its
 * lanes would use (a token not given yet counts as the one a real run needs).
 */
export function introspectsOfARealRun(config: RunConfig, siteIds: ReadonlySet<string>): number {
	const tokens = new Set(planLanes(config, siteIds).map(lane => lane.token));
	return tokens.size > 0 || config.tokens !== undefined ? tokens.size : 1;
}

import {describe, expect, it} from 'vitest';
import {DEFAULT_LANE, perSite, planLanes, routeJob} from '../../src/engine/route.js';

const SITE_A = 'a'.repeat(24);
const SITE_B = 'b'.repeat(24);
const tokens = new Map([[SITE_A, 'token-a']]);

describe('routing a row to its lane', () => {
	it('sends every row through the one lane without --tokens or --prefetch, whatever its siteId', () => {
		expect(routeJob({siteId: SITE_A}, {site: undefined, token: 'w'})).toEqual({kind: 'lane', key: DEFAULT_LANE});
		expect(routeJob({siteId: undefined}, {site: undefined, token: undefined})).toEqual({kind: 'lane', key: DEFAULT_LANE});
	});

	it('sends every row through the one lane with --site, even with --tokens', () => {
		expect(routeJob({siteId: SITE_B}, {site: SITE_A, token: undefined, tokens})).toEqual({kind: 'lane', key: DEFAULT_LANE});
		expect(perSite({site: SITE_A, token: undefined, tokens, prefetch: true})).toBe(false);
	});

	it('sends a row with --tokens through its site\'s lane when the file has the site\'s token', () => {
		expect(routeJob({siteId: SITE_A}, {site: undefined, token: undefined, tokens})).toEqual({kind: 'lane', key: SITE_A});
	});

	it('refuses a row whose site has no token in --tokens and no WEBFLOW_TOKEN to fall back on', () => {
		expect(routeJob({siteId: SITE_B}, {site: undefined, token: undefined, tokens})).toEqual({kind: 'refused', outcome: {status: 'invalid', errorCode: 'no_token_for_site', errorMessage: `--tokens has no token for site ${SITE_B}`, ownMessage: true, attempts: 0}});
		expect(routeJob({siteId: SITE_B}, {site: undefined, token: '', tokens})).toMatchObject({kind: 'refused'});
	});

	it('sends a site missing from --tokens through its own lane when WEBFLOW_TOKEN is there to fall back on', () => {
		expect(routeJob({siteId: SITE_B}, {site: undefined, token: 'w', tokens})).toEqual({kind: 'lane', key: SITE_B});
	});

	it('sends a row without a siteId through WEBFLOW_TOKEN\'s lane with --tokens, and refuses it without that token', () => {
		expect(routeJob({siteId: undefined}, {site: undefined, token: 'w', tokens})).toEqual({kind: 'lane', key: DEFAULT_LANE});
		expect(routeJob({siteId: undefined}, {site: undefined, token: undefined, tokens})).toMatchObject({kind: 'refused', outcome: {errorCode: 'no_token_for_site'}});
	});

	it('refuses a row without a siteId with --prefetch, which reads each row\'s site', () => {
		expect(routeJob({siteId: undefined}, {site: undefined, token: 'w', prefetch: true})).toMatchObject({kind: 'refused', outcome: {status: 'invalid', errorCode: 'no_site_id'}});
	});
});

describe('the lanes a run opens', () => {
	it('opens none without a token (a dry run that reads nothing)', () => {
		expect(planLanes({site: undefined, token: undefined}, [SITE_A])).toEqual([]);
		expect(planLanes({site: undefined, token: ''}, [])).toEqual([]);
	});

	it('opens WEBFLOW_TOKEN\'s one lane without sites', () => {
		expect(planLanes({site: undefined, token: 'w'}, [SITE_A, SITE_B])).toEqual([{key: DEFAULT_LANE, token: 'w', site: undefined}]);
	});

	it('opens one lane for --site, through its token from --tokens before WEBFLOW_TOKEN', () => {
		expect(planLanes({site: SITE_A, token: 'w', tokens}, [SITE_A, SITE_B])).toEqual([{key: DEFAULT_LANE, token: 'token-a', site: SITE_A}]);
		expect(planLanes({site: SITE_B, token: 'w', tokens}, [])).toEqual([{key: DEFAULT_LANE, token: 'w', site: SITE_B}]);
	});

	it('opens one lane per site with --tokens, each through its own token or WEBFLOW_TOKEN, plus WEBFLOW_TOKEN\'s for rows without a siteId', () => {
		expect(planLanes({site: undefined, token: 'w', tokens}, [SITE_A, SITE_B])).toEqual([
			{key: DEFAULT_LANE, token: 'w', site: undefined},
			{key: SITE_A, token: 'token-a', site: SITE_A},
			{key: SITE_B, token: 'w', site: SITE_B},
		]);
	});

	it('opens no lane for a site without a token, and no WEBFLOW_TOKEN lane with --prefetch', () => {
		expect(planLanes({site: undefined, token: undefined, tokens}, [SITE_A, SITE_B])).toEqual([{key: SITE_A, token: 'token-a', site: SITE_A}]);
		expect(planLanes({site: undefined, token: 'w', prefetch: true}, [SITE_B])).toEqual([{key: SITE_B, token: 'w', site: SITE_B}]);
	});
});

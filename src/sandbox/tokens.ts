import type {SandboxRate} from './budget.js';

export type SandboxToken = {
	readonly token: string;
	/** @default ['assets:read', 'assets:write', 'cms:read', 'cms:write', 'pages:read', 'components:read', 'sites:read'] */
	readonly scopes?: readonly string[];
	/** Sites it may touch (a site token: its one site). @default every site (a workspace token) */
	readonly siteIds?: readonly string[];
	/** Its own budget. @default the sandbox's rate */
	readonly rate?: SandboxRate;
	/** Whether `introspect` answers for it (site tokens may be refused). @default true */
	readonly introspect?: boolean;
	/** What introspect reports as `rateLimit` (requests/min). @default the rate, per minute */
	readonly reportedRateLimit?: number;
};

const ALL_SCOPES: readonly string[] = ['assets:read', 'assets:write', 'cms:read', 'cms:write', 'pages:read', 'components:read', 'sites:read'];

export function scopesOf(token: SandboxToken): readonly string[] {
	return token.scopes ?? ALL_SCOPES;
}

/** Whether the token has the scope (scopes compare case-insensitively: `CMS:write` is `cms:write`). */
export function hasScope(token: SandboxToken, scope: string): boolean {
	return scopesOf(token).some(one => one.toLowerCase() === scope.toLowerCase());
}

/** Whether the token may touch the site: the one place a token's sites are checked. */
export function reaches(token: SandboxToken, siteId: string): boolean {
	return token.siteIds === undefined || token.siteIds.includes(siteId);
}

/**
 * Site tokens from `siteId → token` pairs (the `--tokens` file of `run`): each token may touch only
 * the sites it is listed for (one listed for several sites acts as a workspace token).
 */
export function siteTokens(tokensBySite: Iterable<readonly [string, string]>): SandboxToken[] {
	const sites = new Map<string, string[]>();
	for (const [siteId, token] of tokensBySite) {
		sites.set(token, [...sites.get(token) ?? [], siteId.toLowerCase()]);
	}

	return [...sites].map(([token, siteIds]) => ({token, siteIds}));
}

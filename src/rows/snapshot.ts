/** One asset as the site has it now, with its alt text per locale read ('' is the primary locale). */
export type CurrentAsset = {
	readonly id: string;
	readonly displayName: string | undefined;
	readonly altText: Map<string, string | null>;
	/** Where the asset is served (the list's `hostedUrl`): how a row's image URL finds it. */
	readonly hostedUrl?: string | undefined;
};

/** A site's assets as the prefetch read them (and as the run's writes keep them). */
export type SiteSnapshot = {
	readonly siteId: string;
	readonly assets: Map<string, CurrentAsset>;
	/** Locales the site refused to list (not one of its locales), with Webflow's message. */
	readonly badLocales: Map<string, string>;
	/** List requests it took. */
	readonly pages: number;
};

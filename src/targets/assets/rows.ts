import {hostedUrlIndex} from '../../rows/image-url.js';
import {resolvedJob, type Job} from '../../rows/job.js';
import type {Outcome} from '../../rows/result.js';
import type {SiteSnapshot} from '../../rows/snapshot.js';
import {sameText} from '../../rows/text.js';
import {altTextWarnings, type DuplicateAltTracker, type WarningCode} from '../../rows/warnings.js';

/** A lane's site and, with a prefetch, its assets. */
export type ReadSite = {readonly site: string | undefined; readonly snapshot: SiteSnapshot | undefined};

/** Rows found by an image URL that is not a Webflow CDN URL, resolved by the prefetched assets' `hostedUrl` (an index per site, built once). */
export class HostedUrls {
	readonly #indexes = new WeakMap<SiteSnapshot, Map<string, string>>();

	/**
	 * The row's asset from the site's assets' `hostedUrl` (its own site's, or with none every site
	 * read; `named`: `--site`, whose lane takes every row), `not_in_site` when no asset has it.
	 * Without any site read it stays `invalid` (`image_url_unresolved`). `cmsToo`: the site's lane
	 * looks among its CMS images too, so a URL no asset has goes on to it (its asset id blank).
	 */
	resolve(job: Job, sites: readonly ReadSite[], named: string | undefined, cmsToo: (site: string) => boolean = () => false): Job | Outcome {
		if (job.problem?.code !== 'image_url_unresolved' || job.image?.ref.kind !== 'url') {
			return job;
		}

		const {key} = job.image.ref;
		const read = sites.filter(one => one.snapshot !== undefined && (job.siteId === undefined || one.site === job.siteId || one.site === named));
		for (const {snapshot} of read) {
			if (snapshot === undefined) {
				continue;
			}

			let index = this.#indexes.get(snapshot);
			if (!index) {
				index = hostedUrlIndex(snapshot.assets.values());
				this.#indexes.set(snapshot, index);
			}

			const assetId = index.get(key);
			if (assetId !== undefined) {
				return resolvedJob(job, {assetId, siteId: snapshot.siteId});
			}
		}

		if (read.length === 0) {
			return job;
		}

		// No asset has it: with one site to look in, its lane looks among the site's CMS images too (engine/url-row.ts).
		const site = named ?? job.siteId;
		if (site !== undefined && cmsToo(site)) {
			return resolvedJob(job, {assetId: '', siteId: site});
		}

		const names = read.map(one => one.site).join(', ');
		return {status: 'failed', errorCode: 'not_in_site', errorMessage: `no asset of site ${names} is at ${job.image.url}`, attempts: 0};
	}
}

/** A row's alt-text warnings, judged against the asset as the prefetch read it (when it did). */
export function warningsFor(job: Job, snapshot: SiteSnapshot | undefined, duplicates: DuplicateAltTracker): WarningCode[] {
	const judged = judgedAlt(job, snapshot);
	if (!judged) {
		return [];
	}

	const warnings: WarningCode[] = altTextWarnings(judged);
	if (duplicates.seen({altText: judged.altText, assetId: judged.image})) {
		warnings.push('alt_duplicate');
	}

	return warnings;
}

/**
 * The alt text a row's warnings judge — with the display name it is compared with, and the image
 * it is the alt of (for duplicates) — or undefined when there is none to judge.
 */
export function judgedAlt(job: Job, snapshot: SiteSnapshot | undefined): {altText: string; displayName: string | undefined; image: string} | undefined {
	// An empty alt text (undo --allow-clear putting an empty one back) has nothing to warn about.
	if (job.altText === undefined || job.altText === '') {
		return undefined;
	}

	// Only alt text the row would write is judged: not one left as exported, nor one the site already has.
	const exported = job.base?.altText;
	const now = snapshot?.assets.get(job.assetId)?.altText.get(job.localeId ?? '');
	if ((exported !== undefined && sameText(job.altText, exported)) || (now !== undefined && now !== null && sameText(job.altText, now))) {
		return undefined;
	}

	// A URL no asset has (a CMS image's) is its own image: the URL stands for the asset id.
	return {altText: job.altText, displayName: job.displayName ?? snapshot?.assets.get(job.assetId)?.displayName, image: job.assetId === '' ? `url:${job.image?.url ?? ''}` : job.assetId};
}

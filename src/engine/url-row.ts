import type {ValidJob} from '../rows/job.js';
import type {Outcome, Status} from '../rows/result.js';
import type {CmsPlace} from '../targets/cms/by-url.js';

/**
 * A row keyed by an image URL, with the site read (issue 20): its image is written where it
 * renders from what the Data API can write — its asset, when the URL is one of the site's assets,
 * and every CMS image field that holds it (a page bound to the field renders the field's alt, not
 * the asset's). One result row: `updated` when every place is right, the first place that is not
 * otherwise (saying where); `not_in_site` when the URL is neither.
 */

type PlaceEnd = {readonly place: CmsPlace | undefined; readonly outcome: Outcome};

const FINE: ReadonlySet<Status> = new Set(['updated', 'unchanged', 'would_update', 'skipped']);

/** The row's one outcome from its asset's (undefined: the URL is no asset of the site) and its CMS places'. */
export function urlRowOutcome({job, site, asset, cms, cmsUnread}: {
	job: ValidJob;
	site: string | undefined;
	asset: Outcome | undefined;
	cms: readonly PlaceEnd[];
	/** Why the site's CMS images were not looked in (a token the CMS refused): then "nowhere" is only "no asset". */
	cmsUnread?: string | undefined;
}): Outcome {
	// A URL a CMS field holds need not be an asset of the site too: the asset's `not_in_site` is no failure then.
	const assetEnd = asset !== undefined && !(asset.errorCode === 'not_in_site' && cms.length > 0) ? asset : undefined;
	if (cms.length === 0 && (asset === undefined || asset.errorCode === 'not_in_site')) {
		const why = asset?.errorMessage === undefined ? '' : ` (${asset.errorMessage})`;
		const where = `${site ?? '(the token\'s)'} is at ${job.image?.url ?? job.assetId}${why}`;
		const errorMessage = cmsUnread === undefined ? `no asset or CMS image of site ${where}` : `no asset of site ${where}; its CMS images were not looked in: ${cmsUnread}`;
		return {...asset, status: 'failed', errorCode: 'not_in_site', errorMessage, ownMessage: true, attempts: asset?.attempts ?? 0};
	}

	if (assetEnd !== undefined && cms.length === 0) {
		return assetEnd;
	}

	const ends: Array<{where: string; outcome: Outcome}> = [
		...assetEnd === undefined ? [] : [{where: `asset ${job.assetId}`, outcome: assetEnd}],
		...cms.map(({place, outcome}) => ({where: place === undefined ? 'the site\'s CMS images' : `CMS item ${place.itemId} field "${place.field}"`, outcome})),
	];
	const attempts = ends.reduce((sum, {outcome}) => sum + outcome.attempts, 0);
	const bad = ends.find(({outcome}) => !FINE.has(outcome.status));
	if (bad) {
		const written = ends.filter(({outcome}) => outcome.status === 'updated').map(({where}) => where);
		const also = written.length === 0 ? '' : ` (written: ${written.join(', ')})`;
		// The asset's value before (or none): a CMS place's own would read as the asset's in `previous_*`.
		return {...bad.outcome, attempts, errorMessage: `${bad.where}: ${bad.outcome.errorMessage ?? bad.outcome.status}${also}`, ownMessage: bad.outcome.ownMessage, previous: assetEnd?.previous, conflicts: bad.where.startsWith('asset') ? bad.outcome.conflicts : undefined};
	}

	const status = (['updated', 'would_update', 'unchanged'] as const).find(one => ends.some(({outcome}) => outcome.status === one));
	const first = status === undefined ? ends[0]?.outcome : ends.find(({outcome}) => outcome.status === status)?.outcome;
	const live = cms.find(({outcome}) => outcome.live !== undefined)?.outcome.live;
	return {
		...first ?? {status: 'unchanged'},
		...status === undefined ? {} : {status},
		attempts,
		// What the asset held before: undo from the results puts it back (the CMS images' are in the ledger: `undo --run`).
		previous: assetEnd?.previous,
		live,
	};
}

/**
 * Hands a URL row to its asset (when it may be one: the prefetch decides) and to the CMS images
 * of the site; `done` is called once, with both ends. The promise is the asset target's room.
 */
export function takeByUrl({job, done, site, asset, cms}: {
	job: ValidJob;
	done: (outcome: Outcome) => void;
	site: string | undefined;
	asset: ((job: ValidJob, done: (outcome: Outcome) => void) => Promise<void> | undefined) | undefined;
	cms: (job: ValidJob, done: (ends: readonly PlaceEnd[], unread?: string) => void) => void;
}): Promise<void> | undefined {
	let assetEnd: Outcome | undefined;
	let cmsEnds: readonly PlaceEnd[] | undefined;
	let cmsUnread: string | undefined;
	let waiting = asset === undefined ? 1 : 2;
	let ended = false;
	const end = () => {
		if (--waiting === 0 && !ended) {
			ended = true;
			done(urlRowOutcome({job, site, asset: assetEnd, cms: cmsEnds ?? [], cmsUnread}));
		}
	};

	cms(job, (ends, unread) => {
		cmsEnds = ends;
		cmsUnread = unread;
		end();
	});
	return asset?.(job, outcome => {
		assetEnd = outcome;
		end();
	});
}

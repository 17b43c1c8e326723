import type {CurrentAsset, SiteSnapshot} from '../site.js';
import type {Job} from './job.js';
import type {Outcome} from './result.js';

/** What to do with a row once the site's current state is known: send it, or its result. */
export type Decision = {readonly kind: 'send'} | {readonly kind: 'done'; readonly outcome: Outcome};

const SEND: Decision = {kind: 'send'};

function quote(text: string): string {
	return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** Whether the asset already holds the row's values (fields the row leaves empty are not compared). */
export function alreadyHolds(job: Job, current: CurrentAsset): boolean {
	const alt = current.altText.get(job.localeId ?? '') ?? '';
	return (job.displayName === undefined || job.displayName === current.displayName) && (job.altText === undefined || job.altText === alt);
}

/** `--only-missing`: the asset's alt text in the row's locale is already there. */
export function hasAltText(job: Job, current: CurrentAsset): boolean {
	return (current.altText.get(job.localeId ?? '')?.trim() ?? '') !== '';
}

export function skippedForAltText(job: Job, current: CurrentAsset): Outcome {
	const alt = current.altText.get(job.localeId ?? '') ?? '';
	return {status: 'skipped', errorCode: 'has_alt_text', errorMessage: `the asset already has alt text in this locale (${quote(alt)}); --only-missing leaves it`, attempts: 0};
}

/**
 * With `--site`: rows for assets the site does not have fail without a request, rows whose values
 * already hold are `unchanged`, and under `--only-missing` assets that have alt text are `skipped`.
 */
export function decide({job, snapshot, onlyMissing}: {job: Job; snapshot: SiteSnapshot; onlyMissing: boolean}): Decision {
	if (job.siteId !== undefined && job.siteId !== snapshot.siteId) {
		return {kind: 'done', outcome: {status: 'failed', errorCode: 'not_in_site', errorMessage: `the row is for site ${job.siteId}, not --site ${snapshot.siteId}`, attempts: 0}};
	}

	const current = snapshot.assets.get(job.assetId);
	if (current === undefined) {
		return {kind: 'done', outcome: {status: 'failed', errorCode: 'not_in_site', errorMessage: `site ${snapshot.siteId} has no asset ${job.assetId}`, attempts: 0}};
	}

	const badLocale = snapshot.badLocales.get(job.localeId ?? '');
	if (badLocale !== undefined) {
		return {kind: 'done', outcome: {status: 'failed', httpStatus: 400, errorCode: 'validation_error', errorMessage: `locale ${job.localeId ?? ''} was refused for site ${snapshot.siteId}: ${badLocale}`, attempts: 0}};
	}

	if (alreadyHolds(job, current)) {
		return {kind: 'done', outcome: {status: 'unchanged', attempts: 0}};
	}

	if (onlyMissing && hasAltText(job, current)) {
		return {kind: 'done', outcome: skippedForAltText(job, current)};
	}

	return SEND;
}

/** After a write (or a dry run's would-be write), the snapshot holds the row's values. */
export function applyToSnapshot(job: Job, snapshot: SiteSnapshot): void {
	const current = snapshot.assets.get(job.assetId);
	if (!current) {
		return;
	}

	if (job.altText !== undefined) {
		current.altText.set(job.localeId ?? '', job.altText);
	}

	if (job.displayName !== undefined) {
		snapshot.assets.set(job.assetId, {...current, displayName: job.displayName});
	}
}

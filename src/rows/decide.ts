import type {CurrentAsset, SiteSnapshot} from './snapshot.js';
import {EDIT_FIELDS, type EditField, type ValidJob} from './job.js';
import type {FieldConflict, Outcome, Previous} from './result.js';
import {sameText} from './text.js';

/**
 * What to do with a row once the site's current state is known: send it (only the fields that
 * need writing), or its result.
 */
export type Decision =
	| {readonly kind: 'send'; readonly job: ValidJob; readonly previous: Previous | undefined}
	| {readonly kind: 'done'; readonly outcome: Outcome};

function quote(text: string): string {
	return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

const LABELS: Readonly<Record<EditField, string>> = {displayName: 'display name', altText: 'alt text'};

/** The asset's current value of a field in the row's locale ('' when it has none). */
function siteValue(field: EditField, job: ValidJob, current: CurrentAsset): string {
	return field === 'displayName' ? current.displayName ?? '' : current.altText.get(job.localeId ?? '') ?? '';
}

function previousOf(job: ValidJob, current: CurrentAsset): Previous {
	return {displayName: siteValue('displayName', job, current), altText: siteValue('altText', job, current)};
}

/**
 * One field, three values (line breaks `\r\n`, `\r` and `\n` compared alike): `write` it, it is the `same` as the site already, the file left it as
 * exported but the site `moved` on, or both changed it differently (`conflict`). Without a base
 * the field is two-way: `same` or `write`.
 */
type Call = 'write' | 'same' | 'moved' | 'conflict';

function classify({file, base, site}: {file: string; base: string | undefined; site: string}): Call {
	if (base === undefined) {
		return sameText(file, site) ? 'same' : 'write';
	}

	if (sameText(file, base)) {
		return sameText(site, base) ? 'same' : 'moved';
	}

	if (sameText(file, site)) {
		return 'same';
	}

	return sameText(site, base) ? 'write' : 'conflict';
}

/** `--only-missing`: the asset's alt text in the row's locale is already there. */
export function hasAltText(job: ValidJob, current: CurrentAsset): boolean {
	return siteValue('altText', job, current).trim() !== '';
}

/** The row with only these fields (the rest left out of the PATCH). */
function narrowed(job: ValidJob, fields: ReadonlySet<EditField>): ValidJob {
	return {...job, displayName: fields.has('displayName') ? job.displayName : undefined, altText: fields.has('altText') ? job.altText : undefined};
}

/**
 * Without knowing the site: fields the file left as exported are never written. A row with
 * nothing else is `unchanged`; otherwise the rest of it.
 */
export function decideUnseen(job: ValidJob): Decision {
	const base = job.base;
	if (base === undefined) {
		return {kind: 'send', job, previous: undefined};
	}

	const touched = new Set(EDIT_FIELDS.filter(field => {
		const value = job[field];
		const exported = base[field];
		return value !== undefined && (exported === undefined || !sameText(value, exported));
	}));
	if (touched.size === 0) {
		return {kind: 'done', outcome: {status: 'unchanged', attempts: 0}};
	}

	return {kind: 'send', job: narrowed(job, touched), previous: undefined};
}

/**
 * A row against the asset as it is now, field by field (display name and alt text separately;
 * alt text in the row's locale). With base values (an exported file, or undo):
 *
 * | file vs base | site vs base | outcome |
 * |---|---|---|
 * | same | same | `unchanged` |
 * | same | changed | `skipped` `changed_on_site`: never written |
 * | changed | same | written |
 * | changed, = site | changed | `unchanged` |
 * | changed | changed, ≠ file | `conflict` (written with `force`) |
 *
 * A row with a conflict in either field is not written at all. `force` undefined: the caller
 * offers no way to force (undo).
 */
export function decideAgainst({job, current, onlyMissing, force}: {job: ValidJob; current: CurrentAsset; onlyMissing: boolean; force?: boolean | undefined}): Decision {
	const previous = previousOf(job, current);
	const calls = new Map<EditField, Call>();
	const conflicts: FieldConflict[] = [];
	for (const field of EDIT_FIELDS) {
		const file = job[field];
		if (file === undefined) {
			continue;
		}

		const base = job.base?.[field];
		const call = classify({file, base, site: previous[field]});
		calls.set(field, call);
		if (call === 'conflict') {
			conflicts.push({field, file, base: base ?? '', site: previous[field]});
		}
	}

	const writes = [...calls].filter(([, call]) => call === 'write' || (call === 'conflict' && force === true));
	if (writes.length === 0 && conflicts.length === 0) {
		const moved = [...calls].filter(([, call]) => call === 'moved').map(([field]) => field);
		if (moved.length > 0) {
			const what = moved.map(field => `${LABELS[field]} (${quote(job.base?.[field] ?? '')} when exported, ${quote(previous[field])} now)`).join(' and ');
			return {kind: 'done', outcome: {status: 'skipped', errorCode: 'changed_on_site', errorMessage: `the file leaves the ${what} as it was, and the site has changed it since: left alone`, attempts: 0, previous}};
		}

		return {kind: 'done', outcome: {status: 'unchanged', attempts: 0, previous}};
	}

	if (onlyMissing && hasAltText(job, current)) {
		return {kind: 'done', outcome: {status: 'skipped', errorCode: 'has_alt_text', errorMessage: `the asset already has alt text in this locale (${quote(previous.altText)}); --only-missing leaves it`, attempts: 0, previous}};
	}

	if (conflicts.length > 0 && force !== true) {
		// Undo (no --force): the base is what the run wrote, the file's value what undo would put back.
		const what = force === undefined
			? conflicts.map(c => `${LABELS[c.field]}: the run wrote ${quote(c.base)} and the site now has ${quote(c.site)}, so ${quote(c.file)} is not put back`).join('; ')
			: conflicts.map(c => `${LABELS[c.field]}: the file has ${quote(c.file)}, the site now has ${quote(c.site)}, both changed from ${quote(c.base)}`).join('; ');
		return {kind: 'done', outcome: {status: 'conflict', errorCode: 'conflict', errorMessage: force === undefined ? what : `${what}; not written${force ? '' : ' (--force writes the file\'s value)'}`, attempts: 0, previous, conflicts}};
	}

	// Two-way fields go along whenever the row is sent, as they always have.
	const send = new Set<EditField>(writes.map(([field]) => field));
	for (const [field] of calls) {
		if (job.base?.[field] === undefined) {
			send.add(field);
		}
	}

	return {kind: 'send', job: narrowed(job, send), previous};
}

/**
 * With `--site`: rows for assets the site does not have fail without a request; the rest are
 * decided against the asset as the snapshot has it (see `decideAgainst`).
 */
export function decide({job, snapshot, onlyMissing, force}: {job: ValidJob; snapshot: SiteSnapshot; onlyMissing: boolean; force?: boolean | undefined}): Decision {
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

	return decideAgainst({job, current, onlyMissing, force});
}

/** After a write (or a dry run's would-be write), the snapshot holds the row's values. */
export function applyToSnapshot(job: ValidJob, snapshot: SiteSnapshot): void {
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

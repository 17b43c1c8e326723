import {describe, expect, it} from 'vitest';
import {applyToSnapshot, decide, decideAgainst, decideUnseen} from '../../src/rows/decide.js';
import type {Base, ValidJob} from '../../src/rows/job.js';
import type {CurrentAsset, SiteSnapshot} from '../../src/rows/snapshot.js';

const ASSET = 'a'.repeat(24);
const SITE = 'c'.repeat(24);
const FR = 'f'.repeat(24);

function job(edit: {displayName?: string; altText?: string; base?: Base; localeId?: string; siteId?: string}): ValidJob {
	return {row: 2, line: 2, cells: [], assetId: ASSET, localeId: edit.localeId, siteId: edit.siteId, displayName: edit.displayName, altText: edit.altText, base: edit.base, problem: undefined};
}

function asset(displayName: string, altText: string, locale = ''): CurrentAsset {
	return {id: ASSET, displayName, altText: new Map([[locale, altText]])};
}

function snapshot(...assets: CurrentAsset[]): SiteSnapshot {
	return {siteId: SITE, assets: new Map(assets.map(a => [a.id, a])), badLocales: new Map(), pages: 1};
}

describe('deciding a row without reading the site', () => {
	it('sends a two-way row as it is', () => {
		const row = job({altText: 'new'});
		expect(decideUnseen(row)).toEqual({kind: 'send', job: row, previous: undefined});
	});

	it('never sends a field the file left as exported, and a row with nothing else is unchanged', () => {
		expect(decideUnseen(job({displayName: 'Bike', altText: 'new', base: {displayName: 'Bike', altText: 'old'}}))).toMatchObject({kind: 'send', job: {displayName: undefined, altText: 'new'}});
		expect(decideUnseen(job({displayName: 'Bike', altText: 'old', base: {displayName: 'Bike', altText: 'old'}}))).toEqual({kind: 'done', outcome: {status: 'unchanged', attempts: 0}});
	});
});

describe('deciding a row against the asset as it is now', () => {
	const decideNow = (row: ValidJob, current: CurrentAsset, options: {onlyMissing?: boolean; force?: boolean | undefined} = {}) => decideAgainst({job: row, current, onlyMissing: options.onlyMissing ?? false, force: 'force' in options ? options.force : false});

	it('two-way: unchanged when the site already has the value, else sent with what the site held', () => {
		expect(decideNow(job({altText: 'same'}), asset('Bike', 'same'))).toEqual({kind: 'done', outcome: {status: 'unchanged', attempts: 0, previous: {displayName: 'Bike', altText: 'same'}}});
		expect(decideNow(job({altText: 'new'}), asset('Bike', 'old'))).toMatchObject({kind: 'send', job: {altText: 'new'}, previous: {displayName: 'Bike', altText: 'old'}});
	});

	it('reads the alt text of the row\'s locale', () => {
		expect(decideNow(job({altText: 'bonjour', localeId: FR}), asset('Bike', 'bonjour', FR))).toMatchObject({kind: 'done', outcome: {status: 'unchanged'}});
	});

	it('three-way: the file changed it and the site did not → written', () => {
		expect(decideNow(job({altText: 'new', base: {altText: 'old'}}), asset('Bike', 'old'))).toMatchObject({kind: 'send', job: {altText: 'new'}});
	});

	it('three-way: the file left it and the site changed it → skipped changed_on_site, never written', () => {
		expect(decideNow(job({altText: 'old', base: {altText: 'old'}}), asset('Bike', 'editor\'s'))).toMatchObject({kind: 'done', outcome: {status: 'skipped', errorCode: 'changed_on_site'}});
	});

	it('three-way: both changed it the same way → unchanged', () => {
		expect(decideNow(job({altText: 'new', base: {altText: 'old'}}), asset('Bike', 'new'))).toMatchObject({kind: 'done', outcome: {status: 'unchanged'}});
	});

	it('three-way: both changed it differently → conflict with the three values, written only with --force', () => {
		const row = job({altText: 'mine', base: {altText: 'old'}});
		expect(decideNow(row, asset('Bike', 'theirs'))).toMatchObject({kind: 'done', outcome: {status: 'conflict', errorCode: 'conflict', errorMessage: expect.stringContaining('--force writes the file\'s value'), conflicts: [{field: 'altText', file: 'mine', base: 'old', site: 'theirs'}]}});
		expect(decideNow(row, asset('Bike', 'theirs'), {force: true})).toMatchObject({kind: 'send', job: {altText: 'mine'}});
	});

	it('undo (no way to force): a conflict says what the run wrote and what is not put back', () => {
		expect(decideNow(job({altText: 'before', base: {altText: 'written'}}), asset('Bike', 'editor'), {force: undefined})).toMatchObject({kind: 'done', outcome: {status: 'conflict', errorMessage: 'alt text: the run wrote "written" and the site now has "editor", so "before" is not put back'}});
	});

	it('a conflict in one field keeps the whole row from being written', () => {
		expect(decideNow(job({displayName: 'New name', altText: 'mine', base: {displayName: 'Bike', altText: 'old'}}), asset('Bike', 'theirs'))).toMatchObject({kind: 'done', outcome: {status: 'conflict'}});
	});

	it('--only-missing leaves an asset that already has alt text in the locale', () => {
		expect(decideNow(job({altText: 'new'}), asset('Bike', 'old'), {onlyMissing: true})).toMatchObject({kind: 'done', outcome: {status: 'skipped', errorCode: 'has_alt_text'}});
		expect(decideNow(job({altText: 'new'}), asset('Bike', '  '), {onlyMissing: true})).toMatchObject({kind: 'send'});
	});

	it('sends only the fields that need writing, and two-way fields along with them', () => {
		expect(decideNow(job({displayName: 'Bike', altText: 'new', base: {displayName: 'Bike', altText: 'old'}}), asset('Bike', 'old'))).toMatchObject({kind: 'send', job: {displayName: undefined, altText: 'new'}});
		expect(decideNow(job({displayName: 'Renamed', altText: 'new', base: {altText: 'old'}}), asset('Bike', 'old'))).toMatchObject({kind: 'send', job: {displayName: 'Renamed', altText: 'new'}});
	});
});

describe('deciding a row against the site\'s snapshot', () => {
	it('fails a row for another site, or for an asset the site does not have, without a request', () => {
		expect(decide({job: job({altText: 'x', siteId: 'd'.repeat(24)}), snapshot: snapshot(asset('Bike', '')), onlyMissing: false})).toMatchObject({kind: 'done', outcome: {status: 'failed', errorCode: 'not_in_site'}});
		expect(decide({job: job({altText: 'x'}), snapshot: snapshot(), onlyMissing: false})).toMatchObject({kind: 'done', outcome: {status: 'failed', errorCode: 'not_in_site', errorMessage: `site ${SITE} has no asset ${ASSET}`}});
	});

	it('fails a row in a locale the site refused to list, as Webflow would', () => {
		const site = snapshot(asset('Bike', ''));
		site.badLocales.set(FR, 'not a locale of this site');
		expect(decide({job: job({altText: 'x', localeId: FR}), snapshot: site, onlyMissing: false})).toMatchObject({kind: 'done', outcome: {status: 'failed', httpStatus: 400, errorCode: 'validation_error'}});
	});

	it('keeps the snapshot up to date with each write, so a later row of the same asset sees it', () => {
		const site = snapshot(asset('Bike', 'old'));
		applyToSnapshot(job({displayName: 'Bicycle', altText: 'new'}), site);
		expect(site.assets.get(ASSET)).toEqual({id: ASSET, displayName: 'Bicycle', altText: new Map([['', 'new']])});
		expect(decide({job: job({altText: 'new'}), snapshot: site, onlyMissing: false})).toMatchObject({kind: 'done', outcome: {status: 'unchanged'}});
	});
});

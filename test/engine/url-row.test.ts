import {describe, expect, it} from 'vitest';
import {urlRowOutcome} from '../../src/engine/url-row.js';
import type {ValidJob} from '../../src/rows/job.js';
import type {Outcome} from '../../src/rows/result.js';

const job = {row: 2, line: 2, cells: [], assetId: 'a'.repeat(24), localeId: undefined, displayName: undefined, altText: 'Alt', siteId: undefined, base: undefined, image: {url: 'https://cdn.example/x.jpg', ref: {kind: 'url', key: 'cdn.example/x.jpg'}}} as unknown as ValidJob;
const place = (itemId: string) => ({collectionId: 'c'.repeat(24), itemId, field: 'cover', fileId: 'f'.repeat(24), index: 1});
const updated: Outcome = {status: 'updated', httpStatus: 200, attempts: 1, previous: {displayName: 'x.jpg', altText: ''}};

describe('one result for a URL row written to its asset and its CMS images', () => {
	it('is updated when every place is right, keeping the asset\'s value before for undo', () => {
		const outcome = urlRowOutcome({job, site: 's', asset: updated, cms: [{place: place('i1'), outcome: {status: 'unchanged', attempts: 0, live: 'yes'}}, {place: place('i2'), outcome: {status: 'updated', attempts: 1, live: 'staged'}}]});
		expect(outcome).toMatchObject({status: 'updated', attempts: 2, previous: {altText: ''}, live: 'yes'});
	});

	it('fails with the first place that failed, naming it and what was written', () => {
		const outcome = urlRowOutcome({job, site: 's', asset: updated, cms: [{place: place('i1'), outcome: {status: 'failed', errorCode: 'image_not_in_field', errorMessage: 'gone', attempts: 0}}]});
		expect(outcome.status).toBe('failed');
		expect(outcome.errorCode).toBe('image_not_in_field');
		expect(outcome.errorMessage).toBe(`CMS item i1 field "cover": gone (written: asset ${'a'.repeat(24)})`);
	});

	it('takes a URL that is no asset but a CMS image as the CMS image; neither is not_in_site', () => {
		const notAsset: Outcome = {status: 'failed', errorCode: 'not_in_site', errorMessage: 'site s has no asset', attempts: 0};
		expect(urlRowOutcome({job, site: 's', asset: notAsset, cms: [{place: place('i1'), outcome: {status: 'would_update', attempts: 0}}]}).status).toBe('would_update');
		const neither = urlRowOutcome({job, site: 's', asset: notAsset, cms: []});
		expect(neither).toMatchObject({status: 'failed', errorCode: 'not_in_site'});
		expect(neither.errorMessage).toBe('no asset or CMS image of site s is at https://cdn.example/x.jpg (site s has no asset)');
		expect(urlRowOutcome({job, site: 's', asset: undefined, cms: []}).errorCode).toBe('not_in_site');
	});

	it('says the CMS was not looked in when it could not be read, and keeps a failing CMS place\'s value before out of the row', () => {
		const unread = urlRowOutcome({job, site: 's', asset: undefined, cms: [], cmsUnread: 'the token cannot read the site\'s CMS (403)'});
		expect(unread.errorMessage).toBe('no asset of site s is at https://cdn.example/x.jpg; its CMS images were not looked in: the token cannot read the site\'s CMS (403)');
		const conflict: Outcome = {status: 'conflict', errorCode: 'conflict', errorMessage: 'changed', attempts: 1, previous: {displayName: '', altText: 'CMS before'}};
		expect(urlRowOutcome({job, site: 's', asset: updated, cms: [{place: place('i1'), outcome: conflict}]}).previous).toEqual(updated.previous);
		expect(urlRowOutcome({job, site: 's', asset: undefined, cms: [{place: place('i1'), outcome: conflict}]}).previous).toBeUndefined();
	});

	it('keeps the asset\'s own end when no CMS image shows the URL', () => {
		const skipped: Outcome = {status: 'skipped', errorCode: 'has_alt_text', attempts: 0};
		expect(urlRowOutcome({job, site: 's', asset: skipped, cms: []})).toBe(skipped);
		expect(urlRowOutcome({job, site: 's', asset: skipped, cms: [{place: place('i1'), outcome: updated}]}).status).toBe('updated');
	});
});

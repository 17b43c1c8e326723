import {describe, expect, it} from 'vitest';
import {coverageOfPlaces, duplicatesOnPage, percent, problemOf, renderedAlt} from '../../src/rows/render.js';

describe('which alt text renders (one rule)', () => {
	it('an image node: its own alt, else its asset\'s, else none; decorative is on purpose', () => {
		expect(renderedAlt({kind: 'node', owner: 'page', alt: undefined, assetId: 'a', assetAlt: 'From the asset'})).toEqual({altText: 'From the asset', source: 'asset', fixWith: 'asset', decorative: false});
		expect(renderedAlt({kind: 'node', owner: 'page', alt: undefined, assetId: 'a', assetAlt: null})).toMatchObject({altText: '', source: 'asset', fixWith: 'asset'});
		expect(renderedAlt({kind: 'node', owner: 'page', alt: 'Own words', assetId: 'a', assetAlt: 'From the asset'})).toMatchObject({altText: 'Own words', source: 'element', fixWith: 'designer'});
		expect(renderedAlt({kind: 'node', owner: 'component', alt: 'Own words', assetId: undefined, assetAlt: undefined})).toMatchObject({source: 'component', fixWith: 'designer'});
		expect(renderedAlt({kind: 'node', owner: 'page', alt: '', assetId: 'a', assetAlt: 'x'})).toMatchObject({altText: '', source: 'element', decorative: true});
		expect(renderedAlt({kind: 'node', owner: 'page', alt: undefined, assetId: undefined, assetAlt: undefined})).toMatchObject({altText: '', source: 'none', fixWith: 'designer'});
	});

	it('a CMS image renders its field\'s alt (an empty one does not fall back to the asset\'s); a component property its value', () => {
		expect(renderedAlt({kind: 'cms', alt: 'Field alt', assetAlt: 'Asset alt'})).toMatchObject({altText: 'Field alt', source: 'cms', fixWith: 'cms'});
		expect(renderedAlt({kind: 'cms', alt: null, assetAlt: 'Asset alt'})).toMatchObject({altText: '', source: 'cms', fixWith: 'cms'});
		expect(renderedAlt({kind: 'property', text: 'Card'})).toMatchObject({altText: 'Card', source: 'component', fixWith: 'designer'});
	});
});

describe('what is wrong with it', () => {
	it('missing, file name (also the image\'s own), placeholder, too long; decorative and good text are fine', () => {
		expect(problemOf({altText: '  ', decorative: false})).toBe('missing');
		expect(problemOf({altText: '', decorative: true})).toBeUndefined();
		expect(problemOf({altText: 'IMG_2041.jpg', decorative: false})).toBe('file_name');
		expect(problemOf({altText: 'hero-mountains', decorative: false, fileName: 'hero-mountains.jpg'})).toBe('file_name');
		expect(problemOf({altText: 'image', decorative: false})).toBe('placeholder');
		expect(problemOf({altText: 'Photo', decorative: false})).toBe('placeholder');
		expect(problemOf({altText: 'x'.repeat(251), decorative: false})).toBe('too_long');
		expect(problemOf({altText: 'A red bicycle against a brick wall', decorative: false, fileName: 'bike.jpg'})).toBeUndefined();
	});

	it('a duplicate on a page is one text for two different images, not one image shown twice', () => {
		expect([...duplicatesOnPage([{altText: 'Team', image: 'a'}, {altText: 'team ', image: 'b'}, {altText: 'Logo', image: 'c'}])]).toEqual([0, 1]);
		expect(duplicatesOnPage([{altText: 'Logo', image: 'c'}, {altText: 'Logo', image: 'c'}]).size).toBe(0);
		expect(duplicatesOnPage([{altText: '', image: 'a'}, {altText: '', image: 'b'}]).size).toBe(0);
	});

	it('coverage counts only alt text without a problem: 10 with alt text, 5 placeholders is 50%, never 100%; none is n/a', () => {
		const places = Array.from({length: 10}, (_, i) => i < 5 ? {altText: 'image', problem: 'placeholder' as const} : {altText: `Good ${i}`, problem: undefined});
		const coverage = coverageOfPlaces(places);
		expect(coverage).toEqual({places: 10, covered: 5, withAlt: 10});
		expect(percent(coverage)).toBe('50%');
		expect(percent(coverageOfPlaces([]))).toBe('n/a');
	});
});

import {describe, expect, it} from 'vitest';
import {InputError} from '../../src/errors.js';
import {isBlankRecord, jobKey, mapHeader, toJob} from '../../src/rows/job.js';

const ASSET = 'a'.repeat(24);
const LOCALE = 'b'.repeat(24);
const SITE = 'c'.repeat(24);

const columnsOf = (...header: string[]) => mapHeader({header, file: 'jobs.csv', line: 1});
const jobOf = (header: string[], fields: string[]) => toJob({columns: columnsOf(...header), fields, row: 2, line: 2});

describe('the header of a jobs file', () => {
	it('finds each field under any of its names, whatever the case, spaces, dashes or underscores', () => {
		expect(columnsOf('Asset ID', 'locale', 'display_name', 'ALT', 'site-id', 'notes').index).toEqual({assetId: 0, localeId: 1, displayName: 2, altText: 3, siteId: 4});
		expect(columnsOf('id', 'Alt Text').index).toEqual({assetId: 0, altText: 1});
	});

	it('drops a byte order mark from the first column name', () => {
		expect(columnsOf('\uFEFFassetId', 'altText')).toEqual({header: ['assetId', 'altText'], index: {assetId: 0, altText: 1}});
	});

	it('refuses a header without an asset id column, naming the columns it has', () => {
		expect(() => columnsOf('name', 'altText')).toThrow(InputError);
		expect(() => columnsOf('name', 'altText')).toThrow(/no asset id column in the header \("name", "altText"\)/);
	});

	it('refuses two columns for the same field', () => {
		expect(() => columnsOf('assetId', 'alt', 'altText')).toThrow(/columns "alt" and "altText" both name the altText field/);
	});
});

describe('a record turned into a job', () => {
	it('reads the fields, trims and lower-cases the ids, and keeps the cells as read', () => {
		const job = jobOf(['assetId', 'localeId', 'siteId', 'displayName', 'altText', 'notes'], [` ${ASSET.toUpperCase()} `, LOCALE, SITE, 'Bike', ' A red bicycle ', 'n']);
		expect(job).toMatchObject({row: 2, line: 2, assetId: ASSET, localeId: LOCALE, siteId: SITE, displayName: 'Bike', altText: ' A red bicycle ', problem: undefined});
		expect(job.cells).toEqual([` ${ASSET.toUpperCase()} `, LOCALE, SITE, 'Bike', ' A red bicycle ', 'n']);
	});

	it('leaves a blank cell out of the edit, and pads a short record with empty cells', () => {
		const job = jobOf(['assetId', 'displayName', 'altText'], [ASSET, '  ']);
		expect(job).toMatchObject({displayName: undefined, altText: undefined});
		expect(job.cells).toEqual([ASSET, '  ', '']);
	});

	it('reads back a value an export neutralized as a formula', () => {
		expect(jobOf(['assetId', 'altText'], [ASSET, '\'=1+1']).altText).toBe('=1+1');
	});

	it('says what is wrong with a row that cannot be sent, first problem first', () => {
		const header = ['assetId', 'localeId', 'siteId', 'altText'];
		expect(jobOf(header, ['', '', '', 'x']).problem).toEqual({code: 'invalid_asset_id', message: 'the asset id is empty'});
		expect(jobOf(header, ['abc', '', '', 'x']).problem?.code).toBe('invalid_asset_id');
		expect(jobOf(header, [ASSET, 'fr', '', 'x']).problem?.code).toBe('invalid_locale_id');
		expect(jobOf(header, [ASSET, '', 'site', 'x']).problem?.code).toBe('invalid_site_id');
		expect(jobOf(header, [ASSET, '', '', '']).problem).toEqual({code: 'nothing_to_update', message: 'both display name and alt text are empty'});
		expect(jobOf(header, [ASSET, '', '', 'x', 'extra']).problem).toMatchObject({code: 'too_many_fields', message: expect.stringContaining('line 2 has 5 cells but the header has 4')});
	});

	it('reads the exported values as the base of a three-way row, and a row added by hand as two-way', () => {
		const header = ['assetId', 'displayName', 'altText', 'exportedDisplayName', 'exportedAltText'];
		expect(jobOf(header, [ASSET, 'Bike', 'new', 'Bike', 'old']).base).toEqual({displayName: 'Bike', altText: 'old'});
		expect(jobOf(header, [ASSET, 'Bike', 'new', '', '']).base).toBeUndefined();
		expect(jobOf(['assetId', 'altText'], [ASSET, 'new']).base).toBeUndefined();
	});

	it('keys rows by asset and locale, so rows of one asset and locale go in file order', () => {
		expect(jobKey(jobOf(['assetId', 'localeId', 'altText'], [ASSET, LOCALE, 'x']))).toBe(`${ASSET}/${LOCALE}`);
		expect(jobKey(jobOf(['assetId', 'altText'], [ASSET, 'x']))).toBe(`${ASSET}/`);
	});

	it('takes a record of blank cells for a blank line', () => {
		expect(isBlankRecord(['', '  ', '\t'])).toBe(true);
		expect(isBlankRecord(['', 'x'])).toBe(false);
	});
});

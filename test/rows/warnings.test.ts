import {describe, expect, it} from 'vitest';
import {altTextWarnings, describeWarnings, DuplicateAltTracker, isWarningCode, MAX_ALT_LENGTH} from '../../src/rows/warnings.js';

const warn = (altText: string, displayName?: string) => altTextWarnings({altText, displayName});

describe('alt-text warnings', () => {
	it('says nothing about a good alt text', () => {
		expect(warn('A red bicycle leaning on a brick wall', 'bike.jpg')).toEqual([]);
	});

	it('flags a file name, a placeholder word and a camera name', () => {
		expect(warn('IMG_2041.JPG')).toEqual(['alt_is_file_name']);
		expect(warn(' Image ')).toEqual(['alt_placeholder']);
		expect(warn('DSC 0042')).toEqual(['alt_placeholder']);
	});

	it('flags "image of" and its kin at the start', () => {
		expect(warn('An image of a red bicycle')).toEqual(['alt_redundant_prefix']);
		expect(warn('Photo of the team')).toEqual(['alt_redundant_prefix']);
		expect(warn('Photographer at work')).toEqual([]);
	});

	it('flags an alt text longer than the limit, counted in characters, not UTF-16 units', () => {
		expect(warn('x'.repeat(MAX_ALT_LENGTH))).toEqual([]);
		expect(warn('x'.repeat(MAX_ALT_LENGTH + 1))).toEqual(['alt_too_long']);
		expect(warn('🚲'.repeat(MAX_ALT_LENGTH))).toEqual([]);
	});

	it('flags an alt text that only repeats the display name, whatever the case', () => {
		expect(warn('Red Bicycle', 'red bicycle')).toEqual(['alt_same_as_display_name']);
		expect(warn('Red Bicycle', undefined)).toEqual([]);
	});

	it('describes codes in words for messages, and knows its own codes', () => {
		expect(describeWarnings(['alt_placeholder', 'alt_duplicate'])).toBe('is a placeholder (alt_placeholder) and is used for another asset too (alt_duplicate)');
		expect(isWarningCode('alt_too_long')).toBe(true);
		expect(isWarningCode('too_long')).toBe(false);
	});
});

describe('the same alt text on different assets', () => {
	it('is flagged on every asset after the first that used it, not on the first asset again', () => {
		const tracker = new DuplicateAltTracker();
		expect(tracker.seen({altText: 'A red bicycle', assetId: 'a'})).toBe(false);
		expect(tracker.seen({altText: 'A red bicycle', assetId: 'a'})).toBe(false);
		expect(tracker.seen({altText: ' a RED bicycle ', assetId: 'b'})).toBe(true);
		expect(tracker.seen({altText: 'A blue bicycle', assetId: 'b'})).toBe(false);
	});

	it('stops tracking new texts past its capacity, so memory stays bounded', () => {
		const tracker = new DuplicateAltTracker(1);
		expect(tracker.seen({altText: 'one', assetId: 'a'})).toBe(false);
		expect(tracker.seen({altText: 'two', assetId: 'a'})).toBe(false);
		expect(tracker.seen({altText: 'two', assetId: 'b'})).toBe(false);
		expect(tracker.seen({altText: 'one', assetId: 'b'})).toBe(true);
	});
});

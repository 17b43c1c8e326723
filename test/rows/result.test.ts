import {describe, expect, it} from 'vitest';
import {mapHeader, toJob} from '../../src/rows/job.js';
import {RESULT_COLUMNS, resultCells, resultHeader} from '../../src/rows/result.js';

const ASSET = 'a'.repeat(24);
const columns = mapHeader({header: ['assetId', 'altText', 'notes'], file: 'jobs.csv', line: 1});
const job = toJob({columns, fields: [ASSET, 'A red bicycle', '=SUM(A1)'], row: 7, line: 9});

describe('a row of the results file', () => {
	it('has the row number, the input columns as they were, then the result columns', () => {
		expect(resultHeader(columns.header)).toEqual(['row', 'assetId', 'altText', 'notes', ...RESULT_COLUMNS]);
	});

	it('holds the input cells untouched and every result field in its column', () => {
		const cells = resultCells({job, status: 'failed', httpStatus: 500, errorCode: 'internal_error', errorMessage: 'boom', attempts: 3, finishedAt: new Date('2026-01-02T03:04:05.000Z'), warnings: ['alt_placeholder', 'alt_duplicate'], previous: {displayName: 'bike.jpg', altText: ''}});
		expect(cells).toEqual(['7', ASSET, 'A red bicycle', '=SUM(A1)', 'failed', '500', 'internal_error', 'boom', '3', '2026-01-02T03:04:05.000Z', 'alt_placeholder;alt_duplicate', 'bike.jpg', '']);
	});

	it('leaves absent fields empty', () => {
		const cells = resultCells({job, status: 'updated', attempts: 1, finishedAt: new Date(0), warnings: []});
		expect(cells.slice(4)).toEqual(['updated', '', '', '', '1', '1970-01-01T00:00:00.000Z', '', '', '']);
	});

	it('neutralizes what the server or the site said when it could run as a formula in a spreadsheet', () => {
		const cells = resultCells({job, status: 'failed', errorMessage: '=HYPERLINK("x")', attempts: 1, finishedAt: new Date(0), warnings: [], previous: {displayName: '+1', altText: '@me'}});
		expect(cells[7]).toBe('\'=HYPERLINK("x")');
		expect(cells.slice(-2)).toEqual(['\'+1', '\'@me']);
	});

	it('writes the tool\'s own codes and messages as they are, and guards the server\'s', () => {
		const ours = resultCells({job, status: 'invalid', errorCode: 'alt_placeholder', errorMessage: '--refuse-warnings: the alt text is a placeholder; not sent', ownMessage: true, attempts: 0, finishedAt: new Date(0), warnings: []});
		expect(ours[7]).toBe('--refuse-warnings: the alt text is a placeholder; not sent');
		const theirs = resultCells({job, status: 'failed', httpStatus: 400, errorCode: 'validation_error', errorMessage: '-1 is not allowed', attempts: 1, finishedAt: new Date(0), warnings: []});
		expect(theirs[7]).toBe('\'-1 is not allowed');
	});
});

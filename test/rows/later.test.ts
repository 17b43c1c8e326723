import {describe, expect, it} from 'vitest';
import type {Job, ValidJob} from '../../src/rows/job.js';
import {LaterRows} from '../../src/rows/later.js';

/** A row of asset `assetId` setting its alt text; `base` makes it three-way (an exported row). */
function row(n: number, assetId: string, altText: string, base?: string): Job {
	return {row: n, line: n, cells: [], assetId, localeId: undefined, altText, displayName: undefined, base: base === undefined ? undefined : {altText: base}} as unknown as Job;
}

function outcome(later: LaterRows, job: Job): string {
	const applied = later.apply(job as ValidJob);
	return 'outcome' in applied ? `${applied.outcome.status} ${applied.outcome.errorCode ?? ''}` : 'sent';
}

describe('the last row wins, per field and what it belongs to', () => {
	it('supersedes a three-way row by any later row of the same asset and locale, and nothing else', () => {
		const later = new LaterRows();
		const rows = [
			row(2, 'a', 'one', 'old'), // three-way, then a two-way row of a: superseded
			row(3, 'a', 'two'),
			row(4, 'b', 'one'), // two-way, then a three-way row of b: two-way rows go in file order
			row(5, 'b', 'two', 'old'),
			row(6, 'b', 'three'), // supersedes row 5
			row(7, 'c', 'one', 'old'), // three-way, then two-way, then three-way: only row 7 is superseded
			row(8, 'c', 'two'),
			row(9, 'c', 'three', 'old'),
		];
		for (const job of rows) {
			later.add(job);
		}

		expect(rows.map(job => `${job.row}: ${outcome(later, job)}`)).toEqual([
			'2: skipped superseded', '3: sent', '4: sent', '5: skipped superseded', '6: sent', '7: skipped superseded', '8: sent', '9: sent',
		]);
	});

	it('a file of two-way rows supersedes nothing', () => {
		const later = new LaterRows();
		const rows = [row(2, 'a', 'one'), row(3, 'a', 'two'), row(4, 'a', 'three')];
		for (const job of rows) {
			later.add(job);
		}

		expect(rows.map(job => outcome(later, job))).toEqual(['sent', 'sent', 'sent']);
	});
});

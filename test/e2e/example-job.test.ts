import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {demo} from '../../src/commands/demo.js';
import {silentLogger} from '../../src/logger.js';
import {results, tempDir} from '../helpers.js';

describe('jobs.example.csv says what each row shows', () => {
	it('each note names the status (and code) the demo\'s real run gives, and any other the --only-missing re-run gives', async () => {
		const dir = await tempDir();
		const out = join(dir, 'jobs.example.results.csv');
		const {steps} = await demo({logger: silentLogger(), out});
		expect(steps.length).toBeGreaterThanOrEqual(3);
		expect(steps.filter(step => step.summary.stopped !== undefined)).toEqual([]);
		const applied = await results(out);
		const nightly = await results(out.replace(/\.csv$/, '.nightly.csv'));
		expect(applied.length).toBeGreaterThan(10);
		for (const [i, row] of applied.entries()) {
			const note = row.note!;
			// The note starts with the real run's status; a code the row gets is in it.
			expect([row.row, note.split(/[: ]/)[0]]).toEqual([row.row, row.status]);
			if (row.error_code !== '') {
				expect([row.row, note]).toEqual([row.row, expect.stringContaining(row.error_code!)]);
			}

			// The re-run leaves what the real run applied unchanged; anything else it shows is in the note.
			const again = nightly[i]!;
			if (again.status !== row.status && again.status !== 'unchanged') {
				expect([row.row, note]).toEqual([row.row, expect.stringContaining(`${again.status} ${again.error_code!}`.trim())]);
			}
		}
	});
});

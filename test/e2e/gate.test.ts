import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {WARNING_CODES} from '../../src/rows/warnings.js';
import {makeSite, patchesSent, results, runCli, runJob, startSandbox, tempDir, writeCsv} from '../helpers.js';

describe('--refuse-warnings, the quality gate', () => {
	it('makes rows with a warning invalid with the warning as code, before any request, and the dry run shows it', async () => {
		const site = makeSite({label: 'gate', count: 4});
		const ids = [...site.assets.keys()];
		const sandbox = await startSandbox({sites: [site], rate: {count: 2000, windowMs: 1000}});
		const dir = await tempDir();
		const input = await writeCsv(join(dir, 'jobs.csv'), [
			['assetId', 'altText'],
			[ids[0]!, 'IMG_1234.jpg'],
			[ids[1]!, 'Image of a red bicycle'],
			[ids[2]!, 'image'],
			[ids[3]!, 'A red bicycle leaning on a brick wall'],
		]);
		const all = new Set<string>(WARNING_CODES);
		const dry = await runJob({input, token: undefined, dryRun: true, refuseWarnings: all});
		expect(dry.statuses).toMatchObject({invalid: 3, would_update: 1});
		const real = await runJob({input, apiBase: sandbox.url, refuseWarnings: all});
		expect(real.statuses).toMatchObject({invalid: 3, updated: 1});
		expect((await results(`${input}.results.csv`)).map(r => [r.status, r.error_code])).toEqual([
			['invalid', 'alt_is_file_name'], ['invalid', 'alt_redundant_prefix'], ['invalid', 'alt_placeholder'], ['updated', ''],
		]);
		// The tool's own message as it is: the formula guard is for text from the server.
		expect((await results(`${input}.results.csv`))[0]!.error_message).toMatch(/^--refuse-warnings: the alt text /);
		expect(patchesSent(sandbox).map(r => r.path.split('/').at(-1))).toEqual([ids[3]]);
	});

	it('takes the codes to refuse, or every code when given alone', async () => {
		const dir = await tempDir();
		const id = (i: number) => i.toString(16).padStart(24, '0');
		const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], [id(1), 'photo.png'], [id(2), 'picture of a dog'], [id(3), 'A dog']]);
		const some = await runCli(['run', input, '--dry-run', '--refuse-warnings', 'alt_is_file_name', '--json']);
		expect(some.code).toBe(1);
		expect(JSON.parse(some.stdout).statuses).toMatchObject({invalid: 1, would_update: 2});
		const every = await runCli(['run', '--refuse-warnings', input, '--dry-run', '--json']);
		expect(JSON.parse(every.stdout).statuses).toMatchObject({invalid: 2, would_update: 1});
		const wrong = await runCli(['run', input, '--dry-run', '--refuse-warnings=alt_nonsense']);
		expect(wrong.code).toBe(2);
		expect(wrong.stderr).toMatch(/--refuse-warnings/);
	});
});

import {readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {AltbatchError, InputError} from '../../src/errors.js';
import {mulberry32} from '../../src/sandbox/faults.js';
import {objectId} from '../../src/sandbox/state.js';
import {runCli, runJob, tempDir} from '../helpers.js';
import {parseStrict} from '../files/csv/rfc4180.js';

const TEXTS = ['A red bicycle', 'Un vélo rouge, contre un mur', 'He said "hi"', 'Line one\nline two', '=SUM(A1)', '\'@x', '  ', '', 'IMG_1234', 'émoji 🚲', 'tab\there', 'semi;colon'];

/** A spreadsheet as Excel, Sheets or LibreOffice might write it. */
function spreadsheet(random: () => number, seed: number): Uint8Array {
	const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
	const delimiter = pick([',', ';', '\t']);
	const eol = pick(['\r\n', '\n']);
	const quote = (cell: string) => (cell.includes(delimiter) || /["\r\n]/.test(cell) || random() < 0.1 ? `"${cell.replaceAll('"', '""')}"` : cell);
	const header = pick([['assetId', 'altText'], ['Asset ID', 'Alt Text', 'Display Name'], ['id', 'locale', 'alt', 'note'], ['asset_id', 'alt_text', 'siteId']]);
	const lines = [header.map(quote).join(delimiter)];
	const rows = 1 + Math.floor(random() * 40);
	for (let r = 0; r < rows; r++) {
		const cells = header.map((name, c) => {
			if (c === 0) {
				return random() < 0.9 ? objectId(`property/${seed}/${r % 7}`) : pick(['', 'nope', '65F0C1D2E3F4A5B6C7D8E9F0']);
			}

			return /locale|site/i.test(name) ? pick(['', objectId('property/locale'), 'xyz']) : pick(TEXTS);
		});
		lines.push(random() < 0.05 ? '' : cells.map(quote).join(delimiter));
	}

	const text = lines.join(eol) + (random() < 0.8 ? eol : '');
	const bom = random() < 0.3 ? '\uFEFF' : '';
	return Buffer.from(bom + text, 'utf8');
}

/** Damage as files get damaged: flipped bytes, stray quotes, NULs, BOMs, truncation, repeated ranges. */
function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
	let data = Buffer.from(bytes);
	const times = Math.floor(random() * 4);
	for (let i = 0; i < times; i++) {
		const at = Math.floor(random() * (data.length + 1));
		switch (Math.floor(random() * 6)) {
			case 0: {
				if (data.length > 0) {
					data[Math.min(at, data.length - 1)] = Math.floor(random() * 256);
				}

				break;
			}

			case 1: {
				data = Buffer.concat([data.subarray(0, at), Buffer.from('"'), data.subarray(at)]);
				break;
			}

			case 2: {
				data = Buffer.concat([data.subarray(0, at), Buffer.from([0]), data.subarray(at)]);
				break;
			}

			case 3: {
				data = Buffer.concat([data.subarray(0, at), Buffer.from('\uFEFF'), data.subarray(at)]);
				break;
			}

			case 4: {
				data = data.subarray(0, at);
				break;
			}

			default: {
				const from = Math.floor(random() * (data.length + 1));
				const to = Math.min(data.length, from + Math.floor(random() * 200));
				data = Buffer.concat([data.subarray(0, at), data.subarray(from, to), data.subarray(at)]);
			}
		}
	}

	return data;
}

/** Non-blank records of the results, checked the strict way: one header, then rows of its width, row numbers rising. */
function checkResults(text: string, rows: number): void {
	const records = parseStrict(text);
	const [header, ...body] = records;
	expect(header).toBeDefined();
	expect(header!.slice(0, 1)).toEqual(['row']);
	expect(body).toHaveLength(rows);
	let last = 1;
	for (const record of body) {
		expect(record).toHaveLength(header!.length);
		const row = Number(record[0]);
		expect(row).toBeGreaterThan(last);
		last = row;
	}
}

describe('hostile spreadsheets through a dry run', () => {
	it('never crash: each ends with results one row per input row in order, or with exit 2 naming the line', async () => {
		const dir = await tempDir();
		const outcomes = {written: 0, refused: 0};
		for (let seed = 1; seed <= 400; seed++) {
			const random = mulberry32(seed);
			const input = join(dir, `jobs-${seed}.csv`);
			const out = join(dir, `jobs-${seed}.dry-run.csv`);
			await writeFile(input, mutate(spreadsheet(random, seed), random));
			let summary;
			try {
				summary = await runJob({input, out, dryRun: true, token: undefined});
			} catch (error) {
				expect(error, `seed ${seed}`).toBeInstanceOf(AltbatchError);
				expect((error as AltbatchError).kind, `seed ${seed}: ${String(error)}`).toMatch(/usage|input/);
				if (error instanceof InputError && error.code !== 'input_empty') {
					expect(error.message, `seed ${seed}`).toMatch(/:\d+: /);
				}

				outcomes.refused++;
				continue;
			}

			try {
				checkResults(await readFile(out, 'utf8'), summary.rows);
			} catch (error) {
				throw new Error(`seed ${seed}: ${(error as Error).message}`);
			}

			outcomes.written++;
			await rm(out);
		}

		expect(outcomes.written).toBeGreaterThan(100);
		expect(outcomes.refused).toBeGreaterThan(10);
	});

	it('the CLI exits 0, 1 or 2 on a sample of them, never with a stack trace', async () => {
		const dir = await tempDir();
		for (let seed = 1000; seed < 1012; seed++) {
			const random = mulberry32(seed);
			const input = join(dir, `jobs-${seed}.csv`);
			await writeFile(input, mutate(spreadsheet(random, seed), random));
			const result = await runCli(['run', input, '--dry-run', '--json']);
			expect([0, 1, 2], `seed ${seed}: ${result.stderr}`).toContain(result.code);
			expect(result.stderr).not.toMatch(/\n\s+at /);
			if (result.code === 2) {
				expect(result.stderr, `seed ${seed}`).toMatch(/:\d+: /);
			} else {
				const {rows} = JSON.parse(result.stdout) as {rows: number};
				checkResults(await readFile(join(dir, `jobs-${seed}.dry-run.csv`), 'utf8'), rows);
			}
		}
	});
});

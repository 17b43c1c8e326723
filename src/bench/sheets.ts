import {rm} from 'node:fs/promises';
import {join} from 'node:path';
import {XlsxWriter} from '../files/xlsx.js';
import {benchDir, runAlone, table, writeLines} from './support.js';

const SHEET_ROWS = 100_000;

/**
 * 100,000 rows as a CSV and as an .xlsx workbook, in processes of their own (dry runs, so only the
 * reading and writing is timed): each way in and out, time and peak RSS next to CSV in and out.
 */
export async function sheets(): Promise<void> {
	const dir = await benchDir();
	const header = ['assetId', 'localeId', 'displayName', 'altText', 'notes'];
	const cells = (i: number) => [i.toString(16).padStart(24, '0'), '', `image-${i}.jpg`, `A photo, number ${i}, of something worth describing well`, `batch ${i % 97}`];
	const csv = join(dir, 'jobs.csv');
	await writeLines(csv, async write => {
		write(`${header.join(',')}\n`);
		for (let i = 0; i < SHEET_ROWS; i++) {
			const [id, locale, name, alt, notes] = cells(i);
			if (!write(`${id},${locale},${name},"${alt}",${notes}\n`) && i % 1000 === 0) {
				await new Promise(resolve => setImmediate(resolve));
			}
		}
	});
	const xlsx = join(dir, 'jobs.xlsx');
	const writer = new XlsxWriter({path: xlsx, sheet: 'Jobs'});
	writer.add(header);
	for (let i = 0; i < SHEET_ROWS; i++) {
		writer.add(cells(i));
	}

	await writer.finish();
	let csvSeconds = 0;
	for (const [name, input, out] of [['CSV in, CSV out', csv, 'out.csv'], ['.xlsx in, CSV out', xlsx, 'in.csv'], ['CSV in, .xlsx out', csv, 'out.xlsx'], ['.xlsx in, .xlsx out', xlsx, 'both.xlsx']] as const) {
		const measured = await runAlone({input, out: join(dir, out), dryRun: true});
		csvSeconds ||= measured.seconds;
		table.push({case: `${name}, 100k rows (dry run, own process)`, rows: measured.rows, seconds: measured.seconds.toFixed(1), 'rows/s': (measured.rows / measured.seconds).toFixed(0), 'peak RSS MB': (measured.maxRssKb / 1024).toFixed(0), 'time vs CSV': (measured.seconds / csvSeconds).toFixed(2)});
	}

	await rm(dir, {recursive: true, force: true});
}

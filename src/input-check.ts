import type {Encoding} from './csv/decode.js';
import {readCsvFile, type Dialect} from './csv/input.js';
import {InputError} from './errors.js';
import {isBlankRecord, mapHeader, toJob, type Columns, type Job} from './rows/job.js';

export type CheckedInput = {
	readonly columns: Columns;
	readonly dialect: Dialect;
	readonly rows: number;
	readonly lastRow: number;
	/** Locale ids of the valid rows ('' for the primary locale). */
	readonly locales: ReadonlySet<string>;
	/** Site ids named by the valid rows. */
	readonly siteIds: ReadonlySet<string>;
	/** Per site named by the valid rows, the locale ids its rows use (a site's locales are its own). */
	readonly localesBySite: ReadonlyMap<string, ReadonlySet<string>>;
};

const SWALLOWED_ROW = /[\r\n][\da-f]{24}[,;\t]/i;

/**
 * Reads the jobs file through: the header, every record, and the signs of a stray quote that
 * joined rows together (a cell spanning lines that holds what looks like the start of another
 * row, or a multi-line record with the wrong number of cells). With `onJob`, hands over each
 * row's job in order as well; without, it is the check made before anything is sent.
 */
export async function scanInput({path, encoding, onColumns, onJob}: {
	path: string;
	encoding: Encoding | undefined;
	onColumns?: (columns: Columns) => void;
	onJob?: (job: Job) => void | Promise<void>;
}): Promise<CheckedInput> {
	let columns: Columns | undefined;
	let rows = 0;
	let row = 0;
	const locales = new Set<string>();
	const localesBySite = new Map<string, Set<string>>();
	const dialect = await readCsvFile({
		path,
		encoding,
		onRecord(record) {
			row++;
			if (columns === undefined) {
				columns = mapHeader({header: record.fields, file: path, line: record.firstLine});
				onColumns?.(columns);
				return;
			}

			if (isBlankRecord(record.fields)) {
				return;
			}

			rows++;
			if (record.lastLine > record.firstLine && (record.fields.length !== columns.header.length || record.fields.some(f => SWALLOWED_ROW.test(f)))) {
				throw new InputError({
					file: path,
					line: record.firstLine,
					code: 'input_quote_swallows_rows',
					message: `a quote on line ${record.firstLine} joins lines ${record.firstLine}–${record.lastLine} into one cell; check the quotes on that line`,
				});
			}

			const job = toJob({columns, fields: record.fields, row, line: record.firstLine});
			if (job.problem === undefined) {
				locales.add(job.localeId ?? '');
				if (job.siteId !== undefined) {
					const used = localesBySite.get(job.siteId) ?? new Set<string>();
					used.add(job.localeId ?? '');
					localesBySite.set(job.siteId, used);
				}
			}

			return onJob?.(job);
		},
	});
	if (columns === undefined) {
		throw new InputError({file: path, line: 1, code: 'input_empty', message: 'the file is empty (no header row)'});
	}

	return {columns, dialect, rows, lastRow: row, locales, siteIds: new Set(localesBySite.keys()), localesBySite};
}

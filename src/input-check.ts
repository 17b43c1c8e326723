import type {Encoding} from './csv/decode.js';
import {readCsvFile, type Dialect} from './csv/input.js';
import type {ParsedRecord} from './csv/parse.js';
import {InputError} from './errors.js';
import {isBlankRecord, mapHeader, toJob, type Columns, type Job} from './rows/job.js';

export type CheckedInput = {readonly columns: Columns; readonly dialect: Dialect; readonly rows: number; readonly lastRow: number};

const SWALLOWED_ROW = /[\r\n][\da-f]{24}[,;\t]/i;

/**
 * Reads the whole jobs file once before anything is sent: the header, every record, and the
 * signs of a stray quote that joined rows together (a cell spanning lines that holds what looks
 * like the start of another row, or a multi-line record with the wrong number of cells).
 */
export async function checkInput({path, encoding}: {path: string; encoding: Encoding | undefined}): Promise<CheckedInput> {
	let columns: Columns | undefined;
	let rows = 0;
	let lastRow = 1;
	const dialect = await readCsvFile({
		path,
		encoding,
		onRecord(record) {
			if (columns === undefined) {
				columns = mapHeader({header: record.fields, file: path, line: record.firstLine});
				return;
			}

			lastRow++;
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
		},
	});
	if (columns === undefined) {
		throw new InputError({file: path, line: 1, code: 'input_empty', message: 'the file is empty (no header row)'});
	}

	return {columns, dialect, rows, lastRow};
}

/** Streams the jobs of a checked file, in order, with their spreadsheet row numbers. */
export async function readJobs({path, input, onJob}: {path: string; input: CheckedInput; onJob: (job: Job) => void | Promise<void>}): Promise<void> {
	let row = 0;
	await readCsvFile({
		path,
		encoding: input.dialect.encoding,
		async onRecord(record: ParsedRecord) {
			row++;
			if (row === 1 || isBlankRecord(record.fields)) {
				return;
			}

			await onJob(toJob({columns: input.columns, fields: record.fields, row, line: record.firstLine}));
		},
	});
}

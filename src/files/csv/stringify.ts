import {stringify} from 'csv-stringify/sync';

const OPTIONS = {record_delimiter: '\r\n'} as const;
// With a CRLF record delimiter csv-stringify leaves a cell holding a bare `\n` (Excel's Alt+Enter)
// unquoted, which splits the record for every reader: any line break gets quotes. (Only where a
// cell has one: matching every cell costs a third more time on a large file.)
const WITH_LINE_BREAKS = {...OPTIONS, quoted_match: /[\r\n]/} as const;

function hasLineBreak(rows: ReadonlyArray<readonly unknown[]>): boolean {
	return rows.some(row => row.some(cell => typeof cell === 'string' && (cell.includes('\n') || cell.includes('\r'))));
}

/** What csv-stringify is asked to do with the options above, for cells that are not all strings. */
function byLibrary(rows: ReadonlyArray<readonly unknown[]>): string {
	return stringify(rows as unknown[][], hasLineBreak(rows) ? WITH_LINE_BREAKS : OPTIONS);
}

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * A row of strings as csv-stringify writes it with the options above, without it (its per-cell
 * casting and option merging cost seconds over a million results): a cell holding a quote, comma,
 * CR or LF is quoted (its quotes doubled), every other cell — the empty one too — is written as it
 * is. test/files/csv/stringify.test.ts holds the two to the same bytes. Undefined when a cell is
 * not a string: that row is left to csv-stringify.
 */
function ownLine(values: readonly unknown[]): string | undefined {
	let line = '';
	for (let i = 0; i < values.length; i++) {
		const value = values[i];
		if (typeof value !== 'string') {
			return undefined;
		}

		const cell = value.length > 0 && NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
		line = i === 0 ? cell : `${line},${cell}`;
	}

	return `${line}\r\n`;
}

/** One CSV line (with its CRLF line break), quoted where needed. The one place csv-stringify runs. */
export function csvLine(values: readonly string[]): string {
	return ownLine(values) ?? byLibrary([values]);
}

/** Many CSV lines at once. */
export function csvLines(rows: ReadonlyArray<readonly string[]>): string {
	let text = '';
	for (const row of rows) {
		text += ownLine(row) ?? byLibrary([row]);
	}

	return text;
}

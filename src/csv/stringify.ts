import {stringify} from 'csv-stringify/sync';

// With a CRLF record delimiter csv-stringify leaves a cell holding a bare `\n` (Excel's Alt+Enter)
// unquoted, which splits the record for every reader: any line break gets quotes.
const OPTIONS = {record_delimiter: '\r\n', quoted_match: /[\r\n]/} as const;

/** One CSV line (with its CRLF line break), quoted where needed. The one place csv-stringify runs. */
export function csvLine(values: readonly string[]): string {
	return stringify([values], OPTIONS);
}

/** Many CSV lines at once (far cheaper per line than `csvLine`). */
export function csvLines(rows: ReadonlyArray<readonly string[]>): string {
	return stringify(rows as string[][], OPTIONS);
}

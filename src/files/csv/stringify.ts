import {stringify} from 'csv-stringify/sync';

const OPTIONS = {record_delimiter: '\r\n'} as const;
// With a CRLF record delimiter csv-stringify leaves a cell holding a bare `\n` (Excel's Alt+Enter)
// unquoted, which splits the record for every reader: any line break gets quotes. (Only where a
// cell has one: matching every cell costs a third more time on a large file.)
const WITH_LINE_BREAKS = {...OPTIONS, quoted_match: /[\r\n]/} as const;

function hasLineBreak(rows: ReadonlyArray<readonly string[]>): boolean {
	return rows.some(row => row.some(cell => cell.includes('\n') || cell.includes('\r')));
}

/** One CSV line (with its CRLF line break), quoted where needed. The one place csv-stringify runs. */
export function csvLine(values: readonly string[]): string {
	return stringify([values], hasLineBreak([values]) ? WITH_LINE_BREAKS : OPTIONS);
}

/** Many CSV lines at once (far cheaper per line than `csvLine`). */
export function csvLines(rows: ReadonlyArray<readonly string[]>): string {
	return stringify(rows as string[][], hasLineBreak(rows) ? WITH_LINE_BREAKS : OPTIONS);
}

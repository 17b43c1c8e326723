import {stringify} from 'csv-stringify/sync';

/** One CSV line (with its CRLF line break), quoted where needed. The one place csv-stringify runs. */
export function csvLine(values: readonly string[]): string {
	return stringify([values], {record_delimiter: '\r\n'});
}

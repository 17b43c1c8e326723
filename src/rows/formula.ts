/** What a spreadsheet runs as a formula when a cell starts with it. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEUTRALIZED = /^'[=+\-@\t\r]/;

/** Keeps server text from being run as a formula when the file opens in a spreadsheet: a leading `'`. */
export function neutralize(text: string): string {
	return FORMULA_START.test(text) ? `'${text}` : text;
}

/** A cell `neutralize` wrote (`'` + a formula start) read back as the value it stands for. */
export function unneutralize(cell: string): string {
	return NEUTRALIZED.test(cell) ? cell.slice(1) : cell;
}

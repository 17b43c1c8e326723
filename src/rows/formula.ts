/**
 * Cells that must not be read for something else. A spreadsheet runs a cell starting with `=`, `+`,
 * `-`, `@`, tab or CR as a formula; a jobs cell of spaces only reads as empty (leave the field as
 * it is). Such a value is written with a leading `'`, and so is a value that already starts with
 * `'`s before one of those: one `'` more, so that reading a cell takes exactly one `'` off and
 * every value comes back byte for byte (`'-5 degrees` is written `''-5 degrees`).
 */
const GUARDED = /^'*(?:[=+\-@\t\r]|\s+$)/;
const WRITTEN_GUARDED = /^'+(?:[=+\-@\t\r]|\s+$)/;

/** A value as a cell: a leading `'` where the value needs one (see above); every other value as it is. */
export function neutralize(text: string): string {
	return GUARDED.test(text) ? `'${text}` : text;
}

/** A cell read back as the value it stands for: `neutralize`'s inverse (one leading `'` off where it put one). */
export function unneutralize(cell: string): string {
	return WRITTEN_GUARDED.test(cell) ? cell.slice(1) : cell;
}

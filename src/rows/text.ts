/** A cell's line breaks as one: `\r\n`, `\r` and `\n` read alike (a sheet re-saved on Windows turns `\n` into `\r\n`). */
function oneLineBreak(text: string): string {
	return text.includes('\r') ? text.replaceAll('\r\n', '\n').replaceAll('\r', '\n') : text;
}

/** Whether two values of a field are the same as sheet, base and site are compared: line breaks `\r\n`, `\r` and `\n` alike. */
export function sameText(a: string, b: string): boolean {
	return a === b || oneLineBreak(a) === oneLineBreak(b);
}

/** Values a site can hold that a spreadsheet, or our own reading of a cell, could take for something else. */
export const NASTY = [
	'\'-5 degrees', '\'=not a formula', '\'+1', '\'@me', '\'\tx', '\'\rx', '\'\'=x', '\'\'\'-', '\'', '\'\'', '\'hello', 'a\'=b',
	'=SUM(A1)', '+1', '-1', '@x', '\tTabbed', '\rCR first', '\r\nCRLF first', '\nLF first', ' =x', '" quoted "',
	'line one\nline two', 'line one\r\nline two', '  ', ' ', '\t', '\'  ', '\' ', 'plain', 'é ünïcödé', '—', '=', '-', '\'=',
];

import {closeSync, fsyncSync, openSync, rmSync, statSync} from 'node:fs';
import ExcelJS from 'exceljs';
import {InputError} from '../errors.js';
import {resolvedPath} from './paths.js';
import {replaceWith, temporaryBeside} from './csv/write.js';

/**
 * The exceljs owner: .xlsx workbooks read and written a row at a time (streamed both ways), every
 * cell as text. What we write are string cells (never a formula, so no guard character); what we
 * read is each cell's text: a number as JavaScript writes it (`12`, `6.5e+23`: Excel keeps 15
 * digits, so a longer id it made a number of is lost), a date as an ISO date, a formula's result as
 * Excel last saved it (never evaluated here), a hyperlink's text, rich text's characters.
 */

/** Whether a path names a workbook (by its extension). */
export function isXlsx(path: string): boolean {
	return /\.xlsx$/i.test(path);
}

export type SheetRecord = {readonly fields: string[]; readonly row: number};

function dateText(date: Date): string {
	const iso = date.toISOString();
	return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace(/\.000Z$/, '').replace(/Z$/, '');
}

/** A cell's value as the text it shows. */
export function cellText(value: ExcelJS.CellValue | undefined): string {
	if (value === null || value === undefined) {
		return '';
	}

	if (typeof value === 'string') {
		return value;
	}

	if (typeof value === 'number') {
		return String(value);
	}

	if (typeof value === 'boolean') {
		return value ? 'TRUE' : 'FALSE';
	}

	if (value instanceof Date) {
		return dateText(value);
	}

	if ('richText' in value) {
		return value.richText.map(run => run.text).join('');
	}

	if ('error' in value) {
		return value.error;
	}

	if ('hyperlink' in value) {
		const text = cellText(value.text as ExcelJS.CellValue);
		return text === '' ? value.hyperlink : text;
	}

	if ('result' in value || 'formula' in value || 'sharedFormula' in value) {
		return cellText((value as {result?: ExcelJS.CellValue}).result);
	}

	return '';
}

/** What the streaming reader knows of the workbook once `workbook.xml` and its relations are read (not in exceljs's types). */
type Reader = {
	readonly model?: {readonly sheets?: ReadonlyArray<{readonly name: string; readonly rId: string}>};
	readonly workbookRels?: ReadonlyArray<{readonly Id: string; readonly Target: string}>;
};

/** The sheets in tab order: name and the number of their part (`worksheets/sheet3.xml` → '3'). */
function sheetsOf(reader: Reader): Array<{name: string; part: string | undefined}> {
	return (reader.model?.sheets ?? []).map(sheet => ({
		name: sheet.name,
		part: /sheet(\d+)\.xml$/.exec(reader.workbookRels?.find(rel => rel.Id === sheet.rId)?.Target ?? '')?.[1],
	}));
}

/**
 * The rows of the first sheet (or the one named `sheet`), in order, each with its row number and
 * its cells from column A to its last cell, as text.
 */
export async function readXlsx({path, sheet, onRecord}: {path: string; sheet: string | undefined; onRecord: (record: SheetRecord) => void | Promise<void>}): Promise<void> {
	const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit', entries: 'ignore'});
	try {
		if (!statSync(path).isFile()) {
			throw new InputError({file: path, code: 'input_not_a_file', message: 'is not a file'});
		}
	} catch (error) {
		throw error instanceof InputError ? error : new InputError({file: path, code: 'input_unreadable', message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`});
	}

	let found = false;
	let seen: string[] = [];
	// An error of the consumer's (a bad header, a stop) is its own; only the reader's are "cannot be read".
	let consumer: {error: unknown} | undefined;
	try {
		for await (const worksheet of reader) {
			const sheets = sheetsOf(reader as unknown as Reader);
			seen = sheets.map(s => s.name);
			const {id: part, name: fallback} = worksheet as unknown as {id: string | number; name: string};
			const id = String(part);
			const name = sheets.find(s => s.part === id)?.name ?? fallback;
			const wanted = sheet === undefined ? (sheets[0]?.part ?? '1') === id : name === sheet;
			if (!wanted) {
				// Read through, not left half-open: exceljs keeps a sheet stored before the shared
				// strings in a temporary file, and deletes it once the next sheet is asked for; a sheet
				// skipped unread had its file stream still opening then, which failed with nobody
				// listening and took the process down (exit 1 instead of `input_no_sheet`).
				for await (const row of worksheet) {
					void row;
				}

				continue;
			}

			found = true;
			for await (const row of worksheet) {
				const values = row.values as ExcelJS.CellValue[];
				const fields = values.slice(1).map(value => cellText(value));
				try {
					const pending = onRecord({fields: Array.from(fields, field => field ?? ''), row: row.number});
					if (pending) {
						await pending;
					}
				} catch (error) {
					consumer = {error};
					throw error;
				}
			}

			break;
		}
	} catch (error) {
		if (consumer) {
			throw consumer.error;
		}

		throw new InputError({file: path, code: 'input_unreadable', message: `cannot be read as an Excel workbook (${error instanceof Error ? error.message : String(error)}); save it as .xlsx, or as CSV UTF-8`});
	}

	if (!found) {
		throw sheet === undefined
			? new InputError({file: path, code: 'input_empty', message: 'the workbook has no sheet'})
			: new InputError({file: path, code: 'input_no_sheet', message: `the workbook has no sheet named ${JSON.stringify(sheet)}${seen.length > 0 ? ` (its sheets: ${seen.map(s => JSON.stringify(s)).join(', ')})` : ''}`});
	}
}

/**
 * A workbook written a row at a time into a temporary file beside `path`, every cell a string;
 * `finish()` syncs it and renames it into place, `discard()` removes it. The file is complete or
 * as it was.
 */
export class XlsxWriter {
	readonly #path: string;
	readonly #temporary: string;
	readonly #workbook: ExcelJS.stream.xlsx.WorkbookWriter;
	readonly #sheet: ExcelJS.Worksheet;

	constructor({path, sheet}: {path: string; sheet: string}) {
		this.#path = resolvedPath(path);
		this.#temporary = temporaryBeside(this.#path);
		this.#workbook = new ExcelJS.stream.xlsx.WorkbookWriter({filename: this.#temporary, useSharedStrings: false, useStyles: false});
		this.#sheet = this.#workbook.addWorksheet(sheet);
	}

	add(cells: readonly string[]): void {
		this.#sheet.addRow([...cells]).commit();
	}

	async finish(): Promise<void> {
		try {
			this.#sheet.commit();
			await this.#workbook.commit();
			const fd = openSync(this.#temporary, 'r');
			try {
				fsyncSync(fd);
			} finally {
				closeSync(fd);
			}

			replaceWith(this.#temporary, this.#path);
		} catch (error) {
			this.discard();
			throw error;
		}
	}

	discard(): void {
		rmSync(this.#temporary, {force: true});
	}
}

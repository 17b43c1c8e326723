import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import {InputError} from '../../errors.js';
import {createDecoder, sniffFile, type Encoding} from './decode.js';
import {parseCsv, type ParsedRecord} from './parse.js';

export type Dialect = {readonly encoding: Encoding; readonly delimiter: string};

const CANDIDATES = [',', ';', '\t'] as const;

/** The separator spreadsheets used for this file, read from its header line (the best witness). */
export function detectDelimiter(head: string): string {
	const counts = new Map<string, number>(CANDIDATES.map(c => [c, 0]));
	let quoted = false;
	for (const ch of head) {
		if (ch === '"') {
			quoted = !quoted;
		} else if (!quoted && (ch === '\n' || ch === '\r')) {
			break;
		} else if (!quoted && counts.has(ch)) {
			counts.set(ch, (counts.get(ch) ?? 0) + 1);
		}
	}

	let best = ',';
	for (const c of CANDIDATES) {
		if ((counts.get(c) ?? 0) > (counts.get(best) ?? 0)) {
			best = c;
		}
	}

	return best;
}

/**
 * Reads a CSV as spreadsheets write it (BOM or not, UTF-8 or UTF-16, `,` `;` or tab, CRLF or LF)
 * and hands over every record in order, the header first. Errors name the file and line.
 */
export async function readCsvFile({path, encoding, onRecord}: {
	path: string;
	encoding?: Encoding;
	onRecord: (record: ParsedRecord) => void | Promise<void>;
}): Promise<Dialect> {
	try {
		const info = await stat(path);
		if (!info.isFile()) {
			throw new InputError({file: path, code: 'input_not_a_file', message: 'is not a file'});
		}
	} catch (error) {
		if (error instanceof InputError) {
			throw error;
		}

		throw new InputError({file: path, code: 'input_unreadable', message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`});
	}

	const sniffed = await sniffFile(path, encoding);
	const delimiter = detectDelimiter(sniffed.head);
	const decoder = createDecoder({
		encoding: sniffed.encoding,
		skip: sniffed.bomLength,
		onInvalid: line => new InputError({
			file: path,
			line,
			code: 'input_encoding',
			message: `bytes that are not valid ${sniffed.encoding}; save the file as "CSV UTF-8" (or pass --encoding windows-1252 if it came from an older Excel)`,
		}),
	});
	await parseCsv({
		source: createReadStream(path, {highWaterMark: 256 * 1024}),
		decoder,
		delimiter,
		onRecord,
		onFailure: failure => new InputError({file: path, line: failure.line, code: `input_${failure.code}`, message: failure.message}),
	});
	return {encoding: sniffed.encoding, delimiter};
}

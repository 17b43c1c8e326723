import type {Readable, Transform} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {parse, CsvError} from 'csv-parse';

/** One CSV record with the file lines it spans (1-based, inclusive). */
export type ParsedRecord = {
	readonly fields: string[];
	readonly firstLine: number;
	readonly lastLine: number;
};

export type ParseFailure = {
	readonly code: 'quote_not_closed' | 'csv_syntax';
	readonly line: number;
	readonly message: string;
};

/**
 * The one place csv-parse runs: text stream → records, in order, with back-pressure (the consumer
 * is awaited). Quotes are relaxed (a stray `"` inside a cell is kept as text), but a quoted cell that
 * never closes is fatal: it would swallow the rest of the file.
 */
export async function parseCsv({source, decoder, delimiter, onRecord, onFailure}: {
	source: Readable;
	decoder?: Transform;
	delimiter: string;
	onRecord: (record: ParsedRecord) => void | Promise<void>;
	onFailure: (failure: ParseFailure) => Error;
}): Promise<void> {
	const parser = parse({
		delimiter,
		relax_quotes: true,
		relax_column_count: true,
		skip_empty_lines: false,
		info: true,
	});
	let lastLine = 0;
	let consumerError: unknown;
	const consume = async (records: AsyncIterable<{record: string[]; info: {lines: number}}>) => {
		for await (const {record, info} of records) {
			const firstLine = lastLine + 1;
			lastLine = info.lines;
			try {
				await onRecord({fields: record, firstLine, lastLine: info.lines});
			} catch (error) {
				// Kept: the pipeline reports its own abort instead of the consumer's error.
				consumerError = error;
				throw error;
			}
		}
	};

	try {
		await (decoder ? pipeline(source, decoder, parser, consume) : pipeline(source, parser, consume));
	} catch (error) {
		if (consumerError !== undefined) {
			throw consumerError;
		}

		if (error instanceof CsvError) {
			const line = lastLine + 1;
			if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
				throw onFailure({code: 'quote_not_closed', line, message: `a quoted cell that starts on line ${line} is never closed`});
			}

			throw onFailure({code: 'csv_syntax', line, message: error.message});
		}

		throw error;
	}
}

import {pipeline as pipelineStreams, Readable, Writable, type Transform} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {parse, CsvError} from 'csv-parse';
import {fastRecords} from './fast-parse.js';

/** One CSV record with the file lines it spans (1-based, inclusive). */
export type ParsedRecord = {
	readonly fields: string[];
	readonly firstLine: number;
	readonly lastLine: number;
};

export type ParseFailure = {
	readonly code: 'quote_not_closed' | 'record_too_long' | 'csv_syntax';
	readonly line: number;
	readonly message: string;
};

/**
 * The longest record read (in characters): past it the file is refused rather than buffered, so a
 * quote that never closes cannot take the rest of a 2 GB file into memory. (Never together with
 * `skip_records_with_error`: that drops every record after the first too long.)
 */
const MAX_RECORD_SIZE = 4 * 1024 * 1024;

/**
 * Line breaks inside a record's quoted cells: a record spans that many lines more than one.
 * (Counting them here is far cheaper than csv-parse's per-record `info`.)
 */
function lineBreaksIn(fields: readonly string[]): number {
	let breaks = 0;
	for (const field of fields) {
		if (field.includes('\n') || field.includes('\r')) {
			breaks += field.match(/\r\n|\r|\n/g)?.length ?? 0;
		}
	}

	return breaks;
}

/**
 * The one place csv-parse runs: text stream → records, in order, with back-pressure (the consumer
 * is awaited). Quotes are relaxed (a stray `"` inside a cell is kept as text), but a quoted cell that
 * never closes is fatal: it would swallow the rest of the file. Regular records are read by the
 * fast path (fast-parse.ts) until the first that is not; csv-parse reads the rest.
 */
export async function parseCsv({source, decoder, delimiter, onRecord, onFailure}: {
	source: Readable;
	decoder?: Transform;
	delimiter: string;
	onRecord: (record: ParsedRecord) => void | Promise<void>;
	onFailure: (failure: ParseFailure) => Error;
}): Promise<void> {
	let lastLine = 0;
	const handOver = (record: string[]): void | Promise<void> => {
		const firstLine = lastLine + 1;
		lastLine = firstLine + lineBreaksIn(record);
		return onRecord({fields: record, firstLine, lastLine});
	};

	const decoded: Readable = decoder ? pipelineStreams(source, decoder, () => undefined) : source;
	let left;
	try {
		left = await fastRecords({chunks: decoded[Symbol.asyncIterator](), delimiter, onRecord: handOver});
	} catch (error) {
		source.destroy();
		decoded.destroy();
		throw error;
	}

	if (left === undefined) {
		return;
	}

	const parser = parse({
		delimiter,
		relax_quotes: true,
		relax_column_count: true,
		skip_empty_lines: false,
		max_record_size: MAX_RECORD_SIZE,
		// The line break the fast path found: csv-parse, starting part-way, would look for it again.
		...left.lineEnd === undefined ? {} : {record_delimiter: left.lineEnd},
	});
	let consumerError: unknown;
	// Records are handed over in batches (writev): an awaited callback per record would cost more
	// than the parsing. A consumer that returns a promise is awaited before the next record.
	const deliver = async (batch: ReadonlyArray<{chunk: string[]}>): Promise<void> => {
		for (const {chunk: record} of batch) {
			const pending = handOver(record);
			if (pending) {
				await pending;
			}
		}
	};

	const consume = new Writable({
		objectMode: true,
		highWaterMark: 256,
		writev(batch, callback) {
			deliver(batch as Array<{chunk: string[]}>).then(() => {
				callback();
			}, (error: unknown) => {
				// Kept: the pipeline reports its own abort instead of the consumer's error.
				consumerError = error;
				callback(error as Error);
			});
		},
	});

	try {
		await pipeline(Readable.from(left.rest, {objectMode: false}), parser, consume);
	} catch (error) {
		if (consumerError !== undefined) {
			throw consumerError;
		}

		if (error instanceof CsvError) {
			const line = lastLine + 1;
			if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
				throw onFailure({code: 'quote_not_closed', line, message: `a quoted cell that starts on line ${line} is never closed`});
			}

			if (error.code === 'CSV_MAX_RECORD_SIZE') {
				throw onFailure({code: 'record_too_long', line, message: `the record that starts on line ${line} is longer than ${MAX_RECORD_SIZE / 1024 / 1024} MB; most likely a quote on that line never closes`});
			}

			throw onFailure({code: 'csv_syntax', line, message: error.message});
		}

		throw error;
	}
}

import type {ApiCode} from '../errors.js';
import type {Job, ProblemCode} from './job.js';
import {neutralize} from './formula.js';
import type {WarningCode} from './warnings.js';

export {neutralize} from './formula.js';

export const STATUSES = ['updated', 'unchanged', 'skipped', 'would_update', 'invalid', 'failed', 'not_attempted', 'conflict'] as const;
export type Status = typeof STATUSES[number];

/** Statuses that mean the row is done and right: carried over by `--resume`. */
export const DONE_STATUSES: ReadonlySet<string> = new Set<Status>(['updated', 'unchanged']);

/** Statuses that make the exit code 1. */
export const PROBLEM_STATUSES: readonly Status[] = ['invalid', 'failed', 'not_attempted', 'conflict'];

const LIVE_COLUMN = 'live';
const normalized = (name: string) => name.replace(/^\uFEFF/, '').toLowerCase().replace(/[\s_-]+/g, '');

function needsLiveColumn(header: readonly string[]): boolean {
	const names = header.map(normalized);
	return names.includes('itemid') && !names.includes(LIVE_COLUMN);
}

export const RESULT_COLUMNS = ['status', 'http_status', 'error_code', 'error_message', 'attempts', 'finished_at', 'warnings', 'previous_display_name', 'previous_alt_text'] as const;

/** What the site held for the row's asset and locale just before the row (when the run read it). */
export type Previous = {readonly displayName: string; readonly altText: string};

/** A field changed both in the file and on the site: the three values, for the report. */
export type FieldConflict = {readonly field: 'displayName' | 'altText'; readonly file: string; readonly base: string; readonly site: string};

/** Why a run stopped rows it had not finished (`not_attempted`): a refused token or site, Ctrl-C, a Retry-After past --max-wait, an API that cannot be reached. */
export type StopCode = 'aborted' | 'interrupted' | 'rate_limited' | 'network_error';

/** The error codes of our own a row's result can carry (README: "Results"). */
export type RowCode =
	| ProblemCode
	| WarningCode // --refuse-warnings
	| StopCode
	| 'no_site_id' | 'no_token_for_site' // routing
	| 'changed_on_site' | 'has_alt_text' | 'conflict' | 'not_in_site' | 'validation_error' | 'superseded' | 'duplicate_image' // decided against the site or the results file
	| 'alt_text_cleared' // undo --allow-clear
	| 'input_changed' // the input changed while the run read it: rows not reached
	| 'not_in_collection' | 'not_an_image_field' | 'image_not_in_field' // CMS rows decided against the items read
	| 'designer_only' | 'same_asset' // an audit file run back
	| 'timeout' | 'bad_response' | 'internal_error'; // the request's end

export type ErrorCode = RowCode | ApiCode;

export type Outcome = {
	readonly status: Status;
	readonly httpStatus?: number | undefined;
	readonly errorCode?: ErrorCode | undefined;
	readonly errorMessage?: string | undefined;
	/**
	 * The message is the tool's own words, written as they are. Without it the code and message
	 * may carry the server's text, and a leading formula start is guarded (`'`).
	 */
	readonly ownMessage?: boolean | undefined;
	readonly attempts: number;
	readonly previous?: Previous | undefined;
	readonly conflicts?: readonly FieldConflict[] | undefined;
	/** A CMS row: whether the alt is live now (`yes`) or only staged (`staged`); the results' `live` column. */
	readonly live?: 'yes' | 'staged' | undefined;
};

export type RowResult = Outcome & {readonly job: Job; readonly finishedAt: Date; readonly warnings: readonly string[]};

/** The results' header: the input's, then ours; a file with CMS rows (an `itemId` column) and no `live` column gets one at the end. */
export function resultHeader(inputHeader: readonly string[]): string[] {
	return ['row', ...inputHeader, ...RESULT_COLUMNS, ...needsLiveColumn(inputHeader) ? [LIVE_COLUMN] : []];
}

/** The last `finished_at` written: rows finish many to a millisecond, and each would format the same time again. */
let lastTime = Number.NaN;
let lastIso = '';

function isoTime(date: Date): string {
	const time = date.getTime();
	if (time !== lastTime) {
		lastIso = date.toISOString(); // Throws for an invalid date, as before (NaN never equals lastTime).
		lastTime = time;
	}

	return lastIso;
}

/** A message or value that may carry another's text: a leading formula start guarded (`''` stays `''`: nothing to guard). */
const guarded = (text: string | undefined): string => text === undefined || text === '' ? '' : neutralize(text);

export function resultCells(result: RowResult): string[] {
	const {job} = result;
	const {liveCell} = job;
	// Built by push, not by spreads: this runs once a row, a million times in a large file.
	const line: string[] = [String(job.row)];
	// The export's `live` column says what the run did for a CMS row (`yes`, `staged`); other rows keep theirs.
	const live = typeof liveCell === 'number' ? result.live : undefined;
	for (let i = 0; i < job.cells.length; i++) {
		line.push(i === liveCell && live !== undefined ? live : job.cells[i] ?? '');
	}

	const own = result.ownMessage === true;
	line.push(
		result.status,
		result.httpStatus === undefined ? '' : String(result.httpStatus),
		own ? result.errorCode ?? '' : guarded(result.errorCode),
		own ? result.errorMessage ?? '' : guarded(result.errorMessage),
		String(result.attempts),
		isoTime(result.finishedAt),
		result.warnings.length === 0 ? '' : result.warnings.join(';'),
		guarded(result.previous?.displayName),
		guarded(result.previous?.altText),
	);
	if (liveCell === 'append') {
		line.push(result.live ?? '');
	}

	return line;
}

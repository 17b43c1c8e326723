import type {Job} from './job.js';
import {neutralize} from './formula.js';

export {neutralize} from './formula.js';

export const STATUSES = ['updated', 'unchanged', 'skipped', 'would_update', 'invalid', 'failed', 'not_attempted', 'conflict'] as const;
export type Status = typeof STATUSES[number];

/** Statuses that mean the row is done and right: carried over by `--resume`. */
export const DONE_STATUSES: ReadonlySet<string> = new Set<Status>(['updated', 'unchanged']);

/** Statuses that make the exit code 1. */
export const PROBLEM_STATUSES: readonly Status[] = ['invalid', 'failed', 'not_attempted', 'conflict'];

export const RESULT_COLUMNS = ['status', 'http_status', 'error_code', 'error_message', 'attempts', 'finished_at', 'warnings', 'previous_display_name', 'previous_alt_text'] as const;

/** What the site held for the row's asset and locale just before the row (when the run read it). */
export type Previous = {readonly displayName: string; readonly altText: string};

/** A field changed both in the file and on the site: the three values, for the report. */
export type FieldConflict = {readonly field: 'displayName' | 'altText'; readonly file: string; readonly base: string; readonly site: string};

export type Outcome = {
	readonly status: Status;
	readonly httpStatus?: number | undefined;
	readonly errorCode?: string | undefined;
	readonly errorMessage?: string | undefined;
	readonly attempts: number;
	readonly previous?: Previous | undefined;
	readonly conflicts?: readonly FieldConflict[] | undefined;
};

export type RowResult = Outcome & {readonly job: Job; readonly finishedAt: Date; readonly warnings: readonly string[]};

export function resultHeader(inputHeader: readonly string[]): string[] {
	return ['row', ...inputHeader, ...RESULT_COLUMNS];
}

export function resultCells(result: RowResult): string[] {
	return [
		String(result.job.row),
		...result.job.cells,
		result.status,
		result.httpStatus === undefined ? '' : String(result.httpStatus),
		neutralize(result.errorCode ?? ''),
		neutralize(result.errorMessage ?? ''),
		String(result.attempts),
		result.finishedAt.toISOString(),
		result.warnings.join(';'),
		neutralize(result.previous?.displayName ?? ''),
		neutralize(result.previous?.altText ?? ''),
	];
}

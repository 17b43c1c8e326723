import type {Job} from './job.js';
import {neutralize} from './formula.js';

export {neutralize} from './formula.js';

export const STATUSES = ['updated', 'unchanged', 'skipped', 'would_update', 'invalid', 'failed', 'not_attempted'] as const;
export type Status = typeof STATUSES[number];

/** Statuses that mean the row is done and right: carried over by `--resume`. */
export const DONE_STATUSES: ReadonlySet<string> = new Set<Status>(['updated', 'unchanged']);

export const RESULT_COLUMNS = ['status', 'http_status', 'error_code', 'error_message', 'attempts', 'finished_at', 'warnings'] as const;

export type Outcome = {
	readonly status: Status;
	readonly httpStatus?: number | undefined;
	readonly errorCode?: string | undefined;
	readonly errorMessage?: string | undefined;
	readonly attempts: number;
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
	];
}

import {EDIT_FIELDS, type Job} from '../rows/job.js';
import {STATUSES, type Outcome, type Status} from '../rows/result.js';

/** A row the report lists with its problem: failed, invalid or not attempted. */
export type ReportRow = {readonly row: number; readonly siteId?: string; readonly assetId: string; readonly status: Status; readonly code: string; readonly message: string};
export type WarningRow = {readonly row: number; readonly assetId: string; readonly altText: string; readonly codes: readonly string[]};
/** One field of one row: conflicts (the site's value, the file's, and the base) and, for undo, what was put back. */
export type ChangeRow = {readonly row: number; readonly siteId?: string; readonly assetId: string; readonly localeId: string; readonly field: string; readonly from: string; readonly to: string; readonly base: string};

/** The most rows listed in each table; the rest are counted. */
export const REPORT_ROW_CAP = 1000;

export const emptyStatuses = (): Record<Status, number> => Object.fromEntries(STATUSES.map(s => [s, 0])) as Record<Status, number>;

/** What the run has counted so far: statuses (in all and per lane), error codes, warnings, and the rows the report lists. */
export class Tally {
	readonly statuses = emptyStatuses();
	readonly byLane = new Map<string, Record<Status, number>>();
	readonly errorCodes: Record<string, number> = {};
	readonly warnings: Record<string, number> = {};
	readonly problems: ReportRow[] = [];
	readonly warningRows: WarningRow[] = [];
	/** Fields changed both in the file and on the site (one line per field). */
	readonly conflictRows: ChangeRow[] = [];
	/** Undo: fields put back, from what the site held to what it holds again. */
	readonly restoredRows: ChangeRow[] = [];
	problemCount = 0;
	warningRowCount = 0;
	conflictRowCount = 0;
	restoredRowCount = 0;
	done = 0;
	readonly #forReport: boolean;
	readonly #undo: boolean;

	constructor({forReport, undo = false}: {forReport: boolean; undo?: boolean}) {
		this.#forReport = forReport;
		this.#undo = undo;
	}

	add({job, lane, warnings, outcome}: {job: Job; lane: string; warnings: readonly string[]; outcome: Pick<Outcome, 'status' | 'errorCode' | 'errorMessage' | 'previous' | 'conflicts'>}): void {
		const {status, errorCode} = outcome;
		this.statuses[status]++;
		const perLane = this.byLane.get(lane) ?? emptyStatuses();
		perLane[status]++;
		this.byLane.set(lane, perLane);
		if (errorCode) {
			this.errorCodes[errorCode] = (this.errorCodes[errorCode] ?? 0) + 1;
		}

		for (const warning of warnings) {
			this.warnings[warning] = (this.warnings[warning] ?? 0) + 1;
		}

		this.done++;
		if (!this.#forReport) {
			return;
		}

		if ((status === 'failed' || status === 'invalid' || status === 'not_attempted') && this.problemCount++ < REPORT_ROW_CAP) {
			this.problems.push({row: job.row, siteId: job.siteId ?? '', assetId: job.assetId, status, code: errorCode ?? '', message: outcome.errorMessage ?? ''});
		}

		if (warnings.length > 0 && this.warningRowCount++ < REPORT_ROW_CAP) {
			this.warningRows.push({row: job.row, assetId: job.assetId, altText: job.altText ?? '', codes: warnings});
		}

		const place = {row: job.row, siteId: job.siteId ?? '', assetId: job.assetId, localeId: job.localeId ?? ''};
		for (const conflict of outcome.conflicts ?? []) {
			if (this.conflictRowCount++ < REPORT_ROW_CAP) {
				this.conflictRows.push({...place, field: conflict.field, from: conflict.site, to: conflict.file, base: conflict.base});
			}
		}

		if (this.#undo && (status === 'updated' || status === 'would_update') && outcome.previous) {
			for (const field of EDIT_FIELDS) {
				const to = job[field];
				if (to !== undefined && to !== outcome.previous[field] && this.restoredRowCount++ < REPORT_ROW_CAP) {
					this.restoredRows.push({...place, field, from: outcome.previous[field], to, base: ''});
				}
			}
		}
	}
}

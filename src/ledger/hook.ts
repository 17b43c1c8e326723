import type {Job} from '../rows/job.js';
import {EDIT_FIELDS} from '../rows/job.js';
import type {Previous} from '../rows/result.js';
import type {Attempted} from '../schedule/attempts.js';
import type {WriteOutcome, WriteRecord} from './ledger.js';

/** An asset PATCH as ledger records: one per field it sends, with the value before where the run read it. */
export function writesOf({job, site, previous}: {job: Job; site: string | undefined; previous: Previous | undefined}): WriteRecord[] {
	const target = {kind: 'asset', site: job.siteId ?? site, assetId: job.assetId, localeId: job.localeId} as const;
	return EDIT_FIELDS.flatMap(field => {
		const sent = job[field];
		return sent === undefined ? [] : [{target, field, sent, before: previous?.[field], row: job.row}];
	});
}

/**
 * How a request (with its retries) ended, for the ledger: `written` on a success; `unknown` when
 * any try may have reached the server without a whole answer (a timeout, a dropped connection, a
 * truncated body — the server may have applied it); else `not_written` (refused, or never sent).
 */
export function writeOutcome(attempted: Attempted, uncertain: boolean): WriteOutcome {
	const {reply} = attempted;
	const httpStatus = reply === undefined || reply.kind === 'transport' ? undefined : reply.status;
	if (attempted.kind === 'ok') {
		return {result: 'written', httpStatus};
	}

	const code = reply === undefined ? 'not_sent' : reply.kind === 'transport' ? reply.code : reply.kind === 'error' ? reply.code : undefined;
	return {result: uncertain ? 'unknown' : 'not_written', httpStatus, code};
}

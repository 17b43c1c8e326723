import {statSync} from 'node:fs';
import {UsageError} from '../errors.js';
import {streamResults} from './csv/read-back.js';

type OutFile = {readonly kind: 'none'} | {readonly kind: 'not_results'} | {readonly kind: 'dry_results'} | {readonly kind: 'real_results'; readonly why: string};

/**
 * What `--out` holds now: nothing (absent or empty), no results (no `row` and `status` columns —
 * nor `attempts`, to tell real from dry — or not readable as CSV), or results — real ones when a row is `updated` or had a request
 * made for it (`rows: false` reads the header only and calls any results real).
 */
async function inspectOut(path: string, {rows}: {rows: boolean}): Promise<OutFile> {
	try {
		const stats = statSync(path);
		if (!stats.isFile() || stats.size === 0) {
			return {kind: 'none'};
		}
	} catch {
		return {kind: 'none'}; // Not there: nothing to lose.
	}

	const stop = new Error('found');
	let found: OutFile | undefined;
	let status = -1;
	let attempts = -1;
	try {
		await streamResults({
			path,
			headerOnly: !rows,
			onRecord(fields) {
				if (status < 0) {
					status = fields.lastIndexOf('status');
					attempts = fields.lastIndexOf('attempts');
					// Results start with `row` and have a `status`; telling real from dry takes `attempts` too.
					if (fields[0] !== 'row' || status < 0 || (rows && attempts < 0)) {
						found = {kind: 'not_results'};
						throw stop;
					}

					if (!rows) {
						found = {kind: 'real_results', why: 'results'};
						throw stop;
					}

					return;
				}

				const value = fields[status] ?? '';
				if (value === 'updated' || Number(fields[attempts] ?? '0') > 0) {
					found = {kind: 'real_results', why: `row ${fields[0] ?? '?'} is ${value}${value === 'updated' ? '' : ` after ${fields[attempts]} request(s)`}`};
					throw stop;
				}
			},
		});
	} catch (error) {
		if (error !== stop) {
			return {kind: 'not_results'};
		}
	}

	return found ?? (status < 0 ? {kind: 'not_results'} : {kind: 'dry_results'});
}

/**
 * A dry run writes its results only over a file no real run's outcomes would be lost from: a dry
 * run's own results (no row `updated`, no request made for any row). Anything else — a real run's
 * results, undo's only way back, or a file that is no results file — is refused (exit 2).
 */
export async function assertDryRunMayReplace(path: string): Promise<void> {
	const out = await inspectOut(path, {rows: true});
	if (out.kind === 'none' || out.kind === 'dry_results') {
		return;
	}

	const why = out.kind === 'not_results' ? 'is not a results file (no row, status and attempts columns)' : `holds a real run's results (${out.why})`;
	throw new UsageError(`--out ${JSON.stringify(path)} ${why}: a dry run never replaces it. A dry run's results go to <jobs>.dry-run.csv by default; name another --out`, 'out_holds_real_results');
}

/** `--resume` goes on from a results file (or none): any other file would be rewritten under the results' columns, so it is refused (exit 2). */
export async function assertMayResume(path: string): Promise<void> {
	if ((await inspectOut(path, {rows: false})).kind === 'not_results') {
		throw new UsageError(`--out ${JSON.stringify(path)} is not a results file (no row and status columns): --resume goes on from an earlier run's results and would rewrite it. Name that run's results, or drop --resume`, 'out_not_results');
	}
}

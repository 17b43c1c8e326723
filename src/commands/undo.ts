import {checkRunConfig, type RunConfig} from '../cli/config.js';
import {sniffFile} from '../files/csv/decode.js';
import {detectDelimiter, readCsvFile} from '../files/csv/input.js';
import {streamResults} from '../files/csv/read-back.js';
import {InputError, UsageError} from '../errors.js';
import type {CheckedInput} from '../files/input-check.js';
import {CLEARED_CODE} from '../targets/assets/target.js';
import type {StoredWrite} from '../ledger/read.js';
import {ledgerGroups, ledgerWritesOf, takeWrite, type UndoGroup} from '../ledger/undo-run.js';
import {neutralize, unneutralize} from '../rows/formula.js';
import {EDIT_FIELDS, jobKey, mapHeader, toJob, withProblem, type Columns, type EditField, type Job, type RowProblem} from '../rows/job.js';
import {sameText} from '../rows/text.js';
import {run, type RunHooks, type Summary} from './run.js';

const PREVIOUS = {displayName: 'previous_display_name', altText: 'previous_alt_text'} as const;

/** One field to put back: the value before the run's first write to it, and what the run's last write left. */
type Restore = {before: string; written: string};

/** Everything undo does to one asset and locale (one PATCH at most), or to one CMS image (staged, and live where the run wrote it live). */
export type Group = UndoGroup;

/**
 * `altbatch undo <results.csv>`: for every `updated` row of a run, puts back what the site held
 * before the run's first row of that asset and locale — one PATCH per asset and locale — but only
 * where the site still holds what the run wrote (else `conflict`). Runs through the same pipeline
 * as `run`: the rows to restore are jobs whose base is what the run wrote, decided three-way
 * against the site (the prefetch with `--site`, else one GET per asset and locale). Its results
 * are in the run's format, so an undo can be undone.
 */
export async function undo(config: RunConfig, hooks: RunHooks): Promise<Summary> {
	if (config.onlyMissing || config.force || config.resume || config.refuseWarnings) {
		throw new UsageError('undo takes neither --only-missing, --force, --resume nor --refuse-warnings', 'undo_option');
	}

	checkRunConfig({...config, undo: true});
	// `undo --run <id>` / `--last`: the run's writes from the ledger (`input` is its ledger file).
	const {columns, groups} = config.undoOf !== undefined && config.ledger !== undefined
		? ledgerGroups({ledger: config.ledger, id: config.undoOf, file: config.input})
		: await readRun(config.input, config.ledger === undefined ? undefined : ledgerWritesOf({ledger: config.ledger, apiBase: config.apiBase, results: config.input}));
	const jobs = groups.map(group => toUndoJob({group, columns}))
		.filter(job => job.problem !== undefined || job.displayName !== undefined || job.altText !== undefined || (job.cms?.undoLive !== undefined && job.cms.undoLive !== null));
	const localesBySite = new Map<string, Set<string>>();
	for (const job of jobs) {
		if (job.siteId !== undefined && !job.problem) {
			const used = localesBySite.get(job.siteId) ?? new Set<string>();
			localesBySite.set(job.siteId, job.cms ? used : used.add(job.localeId ?? ''));
		}
	}

	const checked: CheckedInput = {
		columns,
		dialect: {encoding: 'utf-8', delimiter: ','},
		rows: jobs.length,
		lastRow: jobs.at(-1)?.row ?? 1,
		locales: new Set(jobs.filter(job => !job.problem && !job.cms).map(job => job.localeId ?? '')),
		siteIds: new Set(localesBySite.keys()),
		localesBySite,
		assetRows: jobs.some(job => !job.problem && !job.cms),
	};
	return run({...config, undo: true}, hooks, {
		checked,
		async scan(onJob) {
			for (const job of jobs) {
				await onJob(job);
			}

			return checked;
		},
	});
}

/**
 * The run's results, read: its jobs columns (every column before `status`, without the export's
 * base columns, which undo's own results do not need) and the groups of `updated` rows. Where the
 * ledger knows the run (`onRecord`: its writes that may be on the site, by row), a row's writes are
 * taken from there, whatever its status: a row that said `failed` whose write landed (a timeout, a
 * truncated answer) is taken back too, and a CMS image's live item gets its own value back.
 */
async function readRun(path: string, onRecord: ReadonlyMap<number, readonly StoredWrite[]> | undefined): Promise<{columns: Columns; groups: Group[]}> {
	const notResults = () => new InputError({file: path, line: 1, code: 'input_not_results', message: 'is not the results of an altbatch run that records previous values (it needs the row, status, previous_display_name and previous_alt_text columns)'});
	let header: string[] | undefined;
	let statusAt = -1;
	const updated = new Map<number, string[]>();
	// Rows not `updated` whose writes the ledger says may be on the site.
	const landed = new Map<number, string[]>();
	try {
		await readResultsAsSaved({
			path,
			onRecord(fields) {
				if (header === undefined) {
					// Checked as it arrives: a file that is not results is refused before the rest is read.
					header = fields;
					statusAt = fields.lastIndexOf('status');
					if (fields[0] !== 'row' || statusAt < 2 || !fields.includes(PREVIOUS.altText)) {
						throw notResults();
					}

					return;
				}

				const row = Number(fields[0]);
				if (!Number.isInteger(row) || row < 2) {
					return;
				}

				// A journal may hold a row twice (a kill, then --resume): its last line wins.
				if (fields[statusAt] === 'updated') {
					updated.set(row, fields);
					landed.delete(row);
				} else {
					updated.delete(row);
					if (onRecord?.has(row)) {
						landed.set(row, fields);
					} else {
						landed.delete(row);
					}
				}
			},
		});
	} catch (error) {
		if (error instanceof InputError) {
			throw error;
		}

		throw new InputError({file: path, code: 'input_unreadable', message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`});
	}

	if (header === undefined) {
		throw notResults();
	}

	const all = header;
	const inputHeader = all.slice(1, statusAt);
	const runColumns = mapHeader({header: inputHeader, file: path, line: 1});
	const kept = (_: unknown, i: number) => i !== runColumns.index.exportedDisplayName && i !== runColumns.index.exportedAltText;
	const keep = inputHeader.map((name, i) => i).filter(kept);
	const columns = mapHeader({header: inputHeader.filter(kept), file: path, line: 1});
	const at = (name: string) => all.lastIndexOf(name);
	const groups = new Map<string, Group>();
	const displayNames = new Map<string, Group>();
	for (const [row, fields] of [...updated, ...landed].sort((a, b) => a[0] - b[0])) {
		const job = toJob({columns: runColumns, fields: fields.slice(1, statusAt), row, line: row});
		// An undo's row that cleared alt text has no value in its cells (the code says it was cleared).
		if (job.problem && job.problem.code !== 'nothing_to_update') {
			continue;
		}

		const writes = onRecord?.get(row);
		let group = groups.get(jobKey(job));
		if (!group) {
			const cells = keep.map(i => fields[1 + i] ?? '');
			// Where the ledger has this row's writes, a live item it does not name was not written by the run.
			const cms = job.cms && writes !== undefined ? {...job.cms, undoLive: null} : job.cms;
			group = {row, cells, assetId: job.assetId, localeId: job.localeId, siteId: job.siteId, fields: {}, unknown: false, cms};
			groups.set(jobKey(job), group);
		}

		if (writes !== undefined) {
			for (const write of writes) {
				takeWrite({group, write, displayNames});
			}

			continue;
		}

		// An asset always has a display name: an empty previous one means the run did not read the site.
		const previousName = unneutralize(fields[at(PREVIOUS.displayName)] ?? '');
		// A CMS image has no name: a CMS row's run always read the item, and its alt may have been empty.
		const known = previousName !== '' || job.cms !== undefined;
		for (const field of EDIT_FIELDS) {
			const wrote = written(job, field, fields[at('error_code')] ?? '');
			if (wrote === undefined) {
				continue;
			}

			// The display name is the asset's, whatever the locale: its first write wins across locales.
			const owner = field === 'displayName' ? displayNames.get(job.assetId) ?? group : group;
			if (field === 'displayName') {
				displayNames.set(job.assetId, owner);
			}

			if (!known) {
				owner.unknown = true;
				continue;
			}

			const restore = owner.fields[field];
			owner.fields[field] = {before: restore?.before ?? unneutralize(fields[at(PREVIOUS[field])] ?? ''), written: wrote};
		}
	}

	return {columns, groups: [...groups.values()].filter(g => g.unknown || Object.keys(g.fields).length > 0 || (g.cms?.undoLive !== undefined && g.cms.undoLive !== null)).sort((a, b) => a.row - b.row)};
}

/**
 * A results file as altbatch wrote it (UTF-8, commas: read as the journal is, a line torn by a kill
 * dropped) or as a spreadsheet saved it again (`;` or tab separated, UTF-16): read as run reads its
 * input.
 */
async function readResultsAsSaved({path, onRecord}: {path: string; onRecord: (fields: string[]) => void}): Promise<void> {
	const sniffed = await sniffFile(path);
	if (sniffed.encoding === 'utf-8' && detectDelimiter(sniffed.head) === ',') {
		await streamResults({path, onRecord});
		return;
	}

	await readCsvFile({path, onRecord: ({fields}) => {
		onRecord(fields);
	}});
}

/**
 * The value an `updated` row wrote to a field, or undefined when it did not write it: an empty
 * cell is never sent; a field an exported file left as exported was not sent either; an undo that
 * cleared alt text says so in `error_code`.
 */
function written(job: Job, field: EditField, errorCode: string): string | undefined {
	if (field === 'altText' && errorCode === CLEARED_CODE) {
		return '';
	}

	const value = job[field];
	const base = job.base?.[field];
	if (value === undefined || (base !== undefined && sameText(value, base))) {
		return undefined;
	}

	return value;
}

/** A group → the job that puts it back: the values before as the edit, what the run wrote as the base. */
function toUndoJob({group, columns}: {group: Group; columns: Columns}): Job {
	const restores = Object.entries(group.fields).filter(([, r]) => r.before !== r.written) as Array<[EditField, Restore]>;
	const value = (field: EditField) => restores.find(([f]) => f === field)?.[1];
	const cells = [...group.cells];
	for (const field of EDIT_FIELDS) {
		const i = columns.index[field];
		if (i !== undefined) {
			cells[i] = neutralize(value(field)?.before ?? '');
		}
	}

	// An empty alt text to put back without --allow-clear is decided against the site first (a
	// row an editor changed since is a `conflict`), then refused in the lane (`needs_allow_clear`).
	const problem: RowProblem | undefined = group.unknown ? {code: 'no_previous_values', message: 'the run did not record what the site held before it (run with --site, and undo can put it back)'} : undefined;

	return withProblem({
		row: group.row,
		line: group.row,
		cells,
		assetId: group.assetId,
		localeId: group.localeId,
		siteId: group.siteId,
		displayName: value('displayName')?.before,
		altText: value('altText')?.before,
		base: Object.fromEntries(restores.map(([field, r]) => [field, r.written])),
		cms: group.cms,
		// Undo's columns leave out the export's base columns: the live column is found again in them.
		liveCell: group.cms === undefined ? undefined : columns.cms?.live ?? 'append',
	}, problem);
}

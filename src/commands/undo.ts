import {existsSync} from 'node:fs';
import {checkRunConfig, type RunConfig} from '../cli/config.js';
import {sniffFile} from '../files/csv/decode.js';
import {detectDelimiter, readCsvFile} from '../files/csv/input.js';
import {streamResults} from '../files/csv/read-back.js';
import {InputError, UsageError} from '../errors.js';
import {checkedJobs} from '../files/input-check.js';
import {journalOf, readSheetResults} from '../files/sheet-results.js';
import {isXlsx} from '../files/xlsx.js';
import type {Logger} from '../logger.js';
import type {StoredWrite} from '../ledger/read.js';
import {ledgerWritesOf, runWrites} from '../ledger/undo-run.js';
import {unneutralize} from '../rows/formula.js';
import {mapHeader, toJob, type Columns} from '../rows/job.js';
import {TargetsUndo} from '../targets/undo.js';
import {run, type RunHooks, type Summary} from './run.js';

const PREVIOUS = {displayName: 'previous_display_name', altText: 'previous_alt_text'} as const;

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
	if (config.sheet !== undefined && (config.undoOf !== undefined || !isXlsx(config.input))) {
		throw new UsageError(`--sheet ${JSON.stringify(config.sheet)} names a sheet of an .xlsx results workbook, and ${config.undoOf === undefined ? config.input : `run ${config.undoOf} on record`} is not one`, 'sheet_needs_xlsx');
	}

	// How each write is undone is its target's (targets/undo.ts): undo reads what the run wrote.
	const targets = new TargetsUndo();
	// `undo --run <id>` / `--last`: the run's writes from the ledger (`input` is its ledger file).
	const columns = config.undoOf !== undefined && config.ledger !== undefined
		? fromLedger({targets, writes: runWrites({ledger: config.ledger, id: config.undoOf}), file: config.input})
		: await readRun({targets, path: config.input, sheet: config.sheet, logger: hooks.logger, onRecord: config.ledger === undefined ? undefined : ledgerWritesOf({ledger: config.ledger, apiBase: config.apiBase, results: config.input})});
	const jobs = targets.jobs(columns);
	const checked = checkedJobs({columns, jobs});
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
 * The run's results, read: each `updated` row handed to the target that wrote it, and undo's
 * columns (the run's before `status`, without the export's base columns, which undo's own results
 * do not need). Where the
 * ledger knows the run (`onRecord`: its writes that may be on the site, by row), a row's writes are
 * taken from there, whatever its status: a row that said `failed` whose write landed (a timeout, a
 * truncated answer) is taken back too, and a CMS image's live item gets its own value back.
 */
async function readRun({targets, path, sheet, logger, onRecord}: {targets: TargetsUndo; path: string; sheet: string | undefined; logger: Logger; onRecord: ReadonlyMap<number, readonly StoredWrite[]> | undefined}): Promise<Columns> {
	const notResults = () => new InputError({file: path, line: 1, code: 'input_not_results', message: 'is not the results of an altbatch run that records previous values (it needs the row, status, previous_display_name and previous_alt_text columns)'});
	let header: string[] | undefined;
	let statusAt = -1;
	const updated = new Map<number, string[]>();
	// Rows not `updated` whose writes the ledger says may be on the site.
	const landed = new Map<number, string[]>();
	try {
		await readResultsAsSaved({
			path,
			sheet,
			logger,
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
	for (const [row, fields] of [...updated, ...landed].sort((a, b) => a[0] - b[0])) {
		// Rows whose cells are wrong now are the targets' to report (a spreadsheet made a number of
		// an id; a URL that names no asset where the ledger does not say: `invalid`, nothing sent).
		const job = toJob({columns: runColumns, fields: fields.slice(1, statusAt), row, line: row});
		targets.takeRow({
			job,
			cells: keep.map(i => fields[1 + i] ?? ''),
			previous: {displayName: unneutralize(fields[at(PREVIOUS.displayName)] ?? ''), altText: unneutralize(fields[at(PREVIOUS.altText)] ?? '')},
			errorCode: fields[at('error_code')] ?? '',
			writes: onRecord?.get(row),
		});
	}

	return columns;
}

/** `undo --run`: the run's writes on record, each to its target, in the order the run made them; undo's columns. */
function fromLedger({targets, writes, file}: {targets: TargetsUndo; writes: readonly StoredWrite[]; file: string}): Columns {
	for (const write of writes) {
		targets.takeWrite(write);
	}

	return targets.writeColumns(file);
}

/**
 * A results file as altbatch wrote it (UTF-8, commas: read as the journal is, a line torn by a kill
 * dropped) or as a spreadsheet saved it again (`;` or tab separated, UTF-16): read as run reads its
 * input. A results workbook (.xlsx) is read as run reads one: its first sheet, or `sheet`, every
 * cell as text, streamed — unless the run that writes it stopped before writing it: then its
 * journal beside it holds the newest results, and is read instead.
 */
async function readResultsAsSaved({path, sheet, logger, onRecord}: {path: string; sheet: string | undefined; logger: Logger; onRecord: (fields: string[]) => void}): Promise<void> {
	if (isXlsx(path)) {
		const journal = journalOf(path);
		if (!existsSync(journal)) {
			await readSheetResults({path, sheet, onRecord});
			return;
		}

		logger.warn({results: path, journal}, 'the run writing these results stopped before it wrote the workbook: undo reads its journal, the newest results (run it again with --resume to finish the workbook)');
		path = journal;
	}

	const sniffed = await sniffFile(path);
	if (sniffed.encoding === 'utf-8' && detectDelimiter(sniffed.head) === ',') {
		await streamResults({path, onRecord});
		return;
	}

	await readCsvFile({path, onRecord: ({fields}) => {
		onRecord(fields);
	}});
}

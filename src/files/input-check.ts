import {needsNetwork, type RunConfig} from '../engine/run-config.js';
import type {Encoding} from './csv/decode.js';
import {readCsvFile, type Dialect} from './csv/input.js';
import type {ParsedRecord} from './csv/parse.js';
import {AltbatchError, InputError, UsageError} from '../errors.js';
import type {Logger} from '../logger.js';
import {fileStamp} from './paths.js';
import {EarlierResults, InputPrints, type ResumePlan} from '../engine/resume.js';
import {replayable, ResumeReplay} from '../engine/carried.js';
import {resultHeader} from '../rows/result.js';
import {isBlankRecord, mapHeader, toJob, type Columns, type Job} from '../rows/job.js';
import {LaterRows} from '../rows/later.js';
import {ImageGroups} from '../rows/same-image.js';
import {isXlsx, readXlsx} from './xlsx.js';

export type CheckedInput = {
	readonly columns: Columns;
	readonly dialect: Dialect;
	readonly rows: number;
	readonly lastRow: number;
	/** Locale ids of the valid rows ('' for the primary locale). */
	readonly locales: ReadonlySet<string>;
	/** Site ids named by the valid rows. */
	readonly siteIds: ReadonlySet<string>;
	/** Per site named by the valid rows, the locale ids its rows use (a site's locales are its own). */
	readonly localesBySite: ReadonlyMap<string, ReadonlySet<string>>;
	/** Whether any valid row is an asset row (a file of CMS rows only needs no asset scope, no asset prefetch). @default true */
	readonly assetRows?: boolean | undefined;
};

const SWALLOWED_ROW = /[\r\n][\da-f]{24}[,;\t]/i;

/**
 * Reads the jobs file through: the header, every record, and the signs of a stray quote that
 * joined rows together (a cell spanning lines that holds what looks like the start of another
 * row, or a multi-line record with the wrong number of cells). With `onJob`, hands over each
 * row's job in order as well; without, it is the check made before anything is sent.
 */
export async function scanInput({path, encoding, sheet, onColumns, onJob, images}: {
	path: string;
	encoding: Encoding | undefined;
	/** Of an .xlsx input, the sheet to read (else its first). */
	sheet?: string | undefined;
	onColumns?: (columns: Columns) => void | Promise<void>;
	onJob?: (job: Job) => void | Promise<void>;
	/** The check: rows found by image URL, grouped by image (two different edits of one image refused). */
	images?: ImageGroups;
}): Promise<CheckedInput> {
	let columns: Columns | undefined;
	let rows = 0;
	let row = 0;
	const valid = new ValidRows();
	const dialect = await readTable({
		path,
		encoding,
		sheet,
		onRecord(record) {
			row = record.row ?? row + 1;
			if (columns === undefined) {
				columns = mapHeader({header: record.fields, file: path, line: record.firstLine});
				return onColumns?.(columns);
			}

			if (isBlankRecord(record.fields)) {
				return;
			}

			rows++;
			if (record.lastLine > record.firstLine && (record.fields.length !== columns.header.length || record.fields.some(f => SWALLOWED_ROW.test(f)))) {
				throw new InputError({
					file: path,
					line: record.firstLine,
					code: 'input_quote_swallows_rows',
					message: `a quote on line ${record.firstLine} joins lines ${record.firstLine}–${record.lastLine} into one cell; check the quotes on that line`,
				});
			}

			const job = toJob({columns, fields: record.fields, row, line: record.firstLine});
			images?.add(job);
			valid.add(job);
			return onJob?.(job);
		},
	});
	if (columns === undefined) {
		throw new InputError({file: path, line: 1, code: 'input_empty', message: 'the file is empty (no header row)'});
	}

	return valid.checked({columns, dialect, rows, lastRow: row});
}

/** What the check gathers from the valid rows: the locales they use (per site too), and whether any is an asset row. */
class ValidRows {
	readonly #locales = new Set<string>();
	readonly #localesBySite = new Map<string, Set<string>>();
	#assetRows = false;

	add(job: Job): void {
		if (job.problem !== undefined) {
			return;
		}

		// A CMS row's locale is a CMS locale: its items are read by its own target, not in the asset prefetch.
		const assetRow = job.cms === undefined;
		this.#assetRows ||= assetRow;
		if (assetRow) {
			this.#locales.add(job.localeId ?? '');
		}

		if (job.siteId !== undefined) {
			const used = this.#localesBySite.get(job.siteId) ?? new Set<string>();
			if (assetRow) {
				used.add(job.localeId ?? '');
			}

			this.#localesBySite.set(job.siteId, used);
		}
	}

	checked(input: Pick<CheckedInput, 'columns' | 'dialect' | 'rows' | 'lastRow'>): CheckedInput {
		return {...input, locales: this.#locales, siteIds: new Set(this.#localesBySite.keys()), localesBySite: this.#localesBySite, assetRows: this.#assetRows};
	}
}

/** Rows made rather than read (undo makes them from what a run wrote), checked as a file's would be. */
export function checkedJobs({columns, jobs}: {columns: Columns; jobs: readonly Job[]}): CheckedInput {
	const valid = new ValidRows();
	for (const job of jobs) {
		valid.add(job);
	}

	return valid.checked({columns, dialect: {encoding: 'utf-8', delimiter: ','}, rows: jobs.length, lastRow: jobs.at(-1)?.row ?? 1});
}

/**
 * A jobs file's records, the header first: a CSV, or the first sheet (or `sheet`) of an .xlsx
 * workbook, whose records carry their sheet row numbers (a workbook leaves empty rows out).
 */
async function readTable({path, encoding, sheet, onRecord}: {
	path: string;
	encoding: Encoding | undefined;
	sheet: string | undefined;
	onRecord: (record: ParsedRecord & {readonly row?: number}) => void | Promise<void>;
}): Promise<Dialect> {
	if (!isXlsx(path)) {
		if (sheet !== undefined) {
			throw new UsageError(`--sheet ${JSON.stringify(sheet)} names a sheet of an .xlsx workbook, and ${path} is not one`, 'sheet_needs_xlsx');
		}

		return readCsvFile({path, encoding, onRecord});
	}

	await readXlsx({path, sheet, onRecord: ({fields, row}) => onRecord({fields, firstLine: row, lastLine: row, row})});
	return {encoding: 'utf-8', delimiter: 'xlsx'};
}

/**
 * Where a run's rows come from when not from a jobs file (undo makes them from a results file):
 * the whole input, checked, and a pass handing over every job in order.
 */
export type JobSource = {
	readonly checked: CheckedInput;
	scan(onJob: (job: Job) => Promise<void> | undefined): Promise<CheckedInput>;
};

/** The input, checked (or not yet: see `checked`), and the one pass that hands over its rows. */
export type Input = {
	/** The whole input as checked before the first request; undefined when the check is the one pass (a dry run that reads nothing). */
	readonly checked: CheckedInput | undefined;
	/** Each row's print from the check (what a second read must find, and what `--resume` compares); undefined when read once. */
	readonly prints: InputPrints | undefined;
	/** Which rows a later row supersedes (read with the check); undefined when read once. */
	readonly later: LaterRows | undefined;
	/** Rows found by image URL, grouped by image in the check (undefined for a file without image URLs, or another source). */
	readonly images: ImageGroups | undefined;
	/** `--resume`: the earlier results, read before the input, and what they mean for each row. */
	readonly resume: {readonly earlier: EarlierResults; readonly plan: ResumePlan} | undefined;
	/** `--resume` reading the input once: the rows to take after the check (undefined: the input is read again). */
	readonly replay: ResumeReplay | undefined;
	/** Throws `input_changed` when the file on disk is not the one checked any more. */
	assertSameFile(): void;
	/** Throws `input_changed` when a row read the second time is not what was checked. */
	assertSamePrint(job: Job): void;
	/**
	 * The pass: the columns first (once), then every job in order; returns what it read. Read a
	 * second time, a file that no longer passes the check changed, and requests went out: `input_changed`.
	 */
	read(handlers: {onColumns(columns: Columns): Promise<void>; onJob(job: Job): Promise<void> | undefined}): Promise<CheckedInput>;
};

/**
 * The whole file is checked before the first request; a run that sends nothing reads it once.
 * Reading it twice, each row's print from the first read is what the second must find.
 */
export async function checkInput(config: RunConfig, source: JobSource | undefined, logger: Logger, resultsPath = config.out): Promise<Input> {
	const inputChanged = (where: string, cause?: unknown) => new AltbatchError('stop', 'input_changed', `${config.input} changed while the run was reading it (${where}): the run stopped and sent nothing more. The rows finished before are in ${config.out}; check the file, then run again with --resume`, {cause});
	if (source) {
		accepted(config, logger, source.checked);
		return {
			checked: source.checked,
			prints: undefined,
			later: undefined,
			images: undefined,
			resume: undefined,
			replay: undefined,
			assertSameFile() {},
			assertSamePrint() {},
			async read({onColumns, onJob}) {
				await onColumns(source.checked.columns);
				return source.scan(onJob).catch((error: unknown) => {
					throw error instanceof InputError ? inputChanged(error.message, error) : error;
				});
			},
		};
	}

	// Rows found by image URL are grouped by image before the first row's result: such a file is read twice.
	if (!needsNetwork(config) && !config.resume && !(await hasImageUrls(config))) {
		return {
			checked: undefined,
			prints: undefined,
			later: undefined,
			images: undefined,
			resume: undefined,
			replay: undefined,
			assertSameFile() {},
			assertSamePrint() {},
			read: async ({onColumns, onJob}) => scanInput({path: config.input, encoding: config.encoding, sheet: config.sheet, onColumns, onJob}),
		};
	}

	// --resume reads the earlier results first: the check then knows which rows it will carry over.
	const earlier = config.resume ? await readEarlier(config, resultsPath) : undefined;
	const prints = new InputPrints(earlier?.results);
	const images = new ImageGroups(config.input);
	const stamp = fileStamp(config.input);
	const later = new LaterRows();
	const replay = earlier?.replay ? new ResumeReplay(earlier.results) : undefined;
	const checked = accepted(config, logger, await scanInput({path: config.input, encoding: config.encoding, sheet: config.sheet, images, onJob(job) {
		prints.add(job);
		later.add(job);
		replay?.see(job, prints);
	}}));
	const resume = earlier ? {earlier: earlier.results, plan: await earlier.results.plan({prints, columns: checked.columns})} : undefined;
	return {
		checked,
		prints,
		later,
		images: checked.columns.index.imageUrl === undefined ? undefined : images,
		resume,
		replay: replay?.whole === true ? replay : undefined,
		assertSameFile() {
			if (fileStamp(config.input) !== stamp) {
				throw inputChanged('it is not the file that was checked any more');
			}
		},
		assertSamePrint(job) {
			if (!prints.same(job)) {
				throw inputChanged(`line ${job.line} is not what was checked`);
			}
		},
		async read({onColumns, onJob}) {
			await onColumns(checked.columns);
			const scanned = await scanInput({path: config.input, encoding: checked.dialect.encoding, sheet: config.sheet, onJob}).catch((error: unknown) => {
				throw error instanceof InputError ? inputChanged(error.message, error) : error;
			});
			if (scanned.rows !== checked.rows || scanned.lastRow !== checked.lastRow) {
				throw inputChanged(`it has ${scanned.lastRow} rows now, ${checked.lastRow} when checked`);
			}

			return scanned;
		},
	};
}

const HEADER_READ = Symbol('header read');

/** The input's columns, read up to the header only (undefined: an empty file, which the check refuses). */
async function readColumns(config: RunConfig): Promise<Columns | undefined> {
	let found: Columns | undefined;
	try {
		await scanInput({path: config.input, encoding: config.encoding, sheet: config.sheet, onColumns(columns) {
			found = columns;
			throw HEADER_READ;
		}});
	} catch (error) {
		if (error !== HEADER_READ) {
			throw error;
		}
	}

	return found;
}

/** Whether the input's header names a column of image URLs (read up to the header only). */
async function hasImageUrls(config: RunConfig): Promise<boolean> {
	return (await readColumns(config))?.index.imageUrl !== undefined;
}

/** `--resume`: the earlier results at `path`, read under the input's columns, and whether the input need be read only once. */
async function readEarlier(config: RunConfig, path: string): Promise<{results: EarlierResults; replay: boolean} | undefined> {
	const columns = await readColumns(config);
	if (!columns) {
		return undefined; // An empty input: the check refuses it.
	}

	const results = await EarlierResults.read({path, header: resultHeader(columns.header), width: columns.header.length});
	return {results, replay: replayable(config, columns)};
}

/** The checked input, logged; `--prefetch` refuses a file without a siteId column. */
function accepted(config: RunConfig, logger: Logger, checked: CheckedInput): CheckedInput {
	logger.info({input: config.input, rows: checked.rows, delimiter: checked.dialect.delimiter, encoding: checked.dialect.encoding}, 'input checked');
	if (config.prefetch === true && config.site === undefined && checked.columns.index.siteId === undefined) {
		throw new UsageError('--prefetch reads the sites named in the siteId column, and this file has none: give it a siteId column, or name the one site with --site <id>', 'prefetch_needs_site_ids');
	}

	return checked;
}

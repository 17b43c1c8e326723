import type {RunConfig} from '../engine/run-config.js';
import {ResultsJournal} from './csv/journal.js';
import {keepEarlier} from '../ledger/keep.js';
import {AltbatchError} from '../errors.js';
import type {CheckedInput} from './input-check.js';
import type {Logger} from '../logger.js';
import type {Columns} from '../rows/job.js';
import {resultHeader} from '../rows/result.js';
import type {EarlierResults, ResumePlan} from '../engine/resume.js';

/**
 * The results file: opened once, when the columns are known (new, or with `--resume` the earlier
 * one carried on), written row by row, and finished in input order. A result that cannot be
 * written stops the run; what was written stands, and `--resume` goes on from it.
 */
export class Results {
	plan: ResumePlan | undefined;
	/** Where the earlier results at `--out` were kept, when there were some. */
	keptAside: string | undefined;
	#journal: ResultsJournal | undefined;
	#failure: {error: unknown} | undefined;
	readonly #config: RunConfig;
	readonly #resume: {readonly earlier: EarlierResults; readonly plan: ResumePlan} | undefined;
	readonly #logger: Logger;
	readonly #onFailure: () => void;

	/** `resume`: with `--resume`, the earlier results as the check read them, and the plan made of them. */
	constructor({config, resume, logger, onFailure}: {config: RunConfig; resume: {readonly earlier: EarlierResults; readonly plan: ResumePlan} | undefined; logger: Logger; onFailure: () => void}) {
		this.#config = config;
		this.#resume = resume;
		this.#logger = logger;
		this.#onFailure = onFailure;
	}

	async open(columns: Columns): Promise<void> {
		const config = this.#config;
		const header = resultHeader(columns.header);
		if (config.resume) {
			if (!this.#resume) {
				throw new AltbatchError('internal', 'internal_error', '--resume compares the rows with the input as checked, and it was not checked');
			}

			this.#journal = await ResultsJournal.continue({path: config.out, header, earlier: this.#resume.earlier.journal});
			this.plan = this.#resume.plan;
			this.#logger.info({carried: this.plan.carried, out: config.out}, 'resuming');
		} else {
			// Earlier results are never lost: a real run keeps the file it would replace (the summary says where).
			this.keptAside = config.dryRun ? undefined : keepEarlier(config.out);
			// A dry run changes nothing, so its results need not survive a kill line by line.
			this.#journal = ResultsJournal.create({path: config.out, header, durable: !config.dryRun});
		}
	}

	get #open(): ResultsJournal {
		if (!this.#journal) {
			throw new AltbatchError('internal', 'internal_error', 'a row came before the results file was opened');
		}

		return this.#journal;
	}

	/** A line as it stands (a carried row's, refreshed). */
	writeLine(cells: readonly string[]): void {
		this.#open.write(cells);
	}

	/** A row's result; false when it could not be written (and nothing more will be). */
	write(cells: readonly string[]): boolean {
		if (this.#failure) {
			return false; // Nothing more can be written; --resume redoes this row.
		}

		try {
			this.#open.write(cells);
			return true;
		} catch (error) {
			this.#failure = {error};
			this.#onFailure();
			return false;
		}
	}

	/** A refused single pass: an earlier results file stays as it was. */
	discard(): void {
		this.#journal?.discard();
	}

	/** After the last row: the file put in input order (or, after a write failed, left as written). */
	close(read: CheckedInput | undefined): void {
		const journal = this.#journal;
		if (this.#failure) {
			journal?.discard(); // A file written in place stays as written, for --resume.
			return;
		}

		try {
			journal?.finish({lastRow: read?.lastRow ?? Number.MAX_SAFE_INTEGER});
		} catch (error) {
			journal?.discard();
			const why = error instanceof Error ? error.message : String(error);
			const config = this.#config;
			// A real run's journal stays as written (every finished row); only putting it in order failed.
			throw new AltbatchError('internal', 'results_not_written', config.dryRun
				? `the dry run's results could not be written to ${config.out} (${why})`
				: `${config.out} could not be rewritten in input order (${why}); every finished row is in it as written: free the space and run again with --resume`, {cause: error});
		}
	}

	/** Throws `results_not_written` when a row's result could not be written. */
	assertAllWritten(): void {
		if (this.#failure) {
			const {error} = this.#failure;
			throw new AltbatchError('internal', 'results_not_written', `a row's result could not be written to ${this.#config.out} (${error instanceof Error ? error.message : String(error)}); the run stopped there. The file holds every row finished before it: free the space and run again with --resume`, {cause: error});
		}
	}
}

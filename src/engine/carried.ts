import {withRoom} from '../files/csv/in-order.js';
import type {Columns, Job} from '../rows/job.js';
import {altKey, altTextWarnings, WARNING_CODES, type DuplicateAltTracker, type WarningCode} from '../rows/warnings.js';
import {hash53} from '../rows/hash.js';
import {judgedAlt} from '../targets/assets/rows.js';
import type {EarlierResults, InputPrints} from './resume.js';
import {perSite} from './route.js';
import type {RunConfig} from './run-config.js';

/** The most rows a resume that reads the input once keeps to redo; past them it reads the input again. */
export const REPLAY_ROWS = 20_000;

/** Set for a row whose alt text is judged; the bits below it are its warnings, in `WARNING_CODES` order. */
const JUDGED = 0x80;
const DUPLICATE = 1 << WARNING_CODES.indexOf('alt_duplicate');
const NONE: readonly WarningCode[] = [];

/**
 * Whether a `--resume` may read the input once: its carried rows' warnings depend on nothing but
 * the file (no site read: no `--site`, `--prefetch` or `--tokens`; no rows found by image URL, which
 * need the site), and no `--report` lists them row by row.
 */
export function replayable(config: RunConfig, columns: Columns): boolean {
	return config.resume && config.site === undefined && !perSite(config) && config.report === undefined && columns.index.imageUrl === undefined;
}

/**
 * `--resume`, the input read once: as the check reads each row, one that may be carried over
 * leaves what its warnings need (the alt text's own warnings as bits, the print of the text and of
 * its image for the duplicate tracker: 17 bytes), and every other row is kept whole (up to
 * `REPLAY_ROWS`), to be taken after the check. The run then goes through the rows in order without
 * reading the file again, the duplicate tracker fed in file order as a second read would feed it.
 */
export class ResumeReplay {
	readonly #earlier: EarlierResults;
	#kept: Job[] = [];
	#overflow = false;
	#bits: Uint8Array;
	#alts: Float64Array;
	#images: Float64Array;
	readonly #codes = new Map<number, readonly WarningCode[]>();

	constructor(earlier: EarlierResults) {
		this.#earlier = earlier;
		const rows = Math.max(1024, earlier.rowsHint);
		this.#bits = new Uint8Array(rows);
		this.#alts = new Float64Array(rows);
		this.#images = new Float64Array(rows);
	}

	/** Whether every row to redo was kept: otherwise the input is read again. */
	get whole(): boolean {
		return !this.#overflow;
	}

	/** The rows to redo (and the carried ones whose other cells were edited since), in row order. */
	get kept(): readonly Job[] {
		return this.#kept;
	}

	/** A row as the check read it, after its prints were taken. */
	see(job: Job, prints: InputPrints): void {
		if (this.#earlier.mayCarry(job.row, prints)) {
			this.#remember(job);
			if (this.#earlier.carriesAsIs(job.row, prints)) {
				return;
			}
		}

		if (this.#overflow) {
			return;
		}

		if (this.#kept.length >= REPLAY_ROWS) {
			this.#overflow = true;
			this.#kept = [];
			return;
		}

		this.#kept.push(job);
	}

	/** A carried row's warnings (no site read: judged on the file alone), the duplicate tracker fed as a fresh read would. */
	warnings(row: number, duplicates: DuplicateAltTracker): readonly WarningCode[] {
		let bits = this.#bits[row] ?? 0;
		if ((bits & JUDGED) === 0) {
			return NONE;
		}

		if (duplicates.seenPrinted(this.#alts[row] ?? 0, this.#images[row] ?? 0)) {
			bits |= DUPLICATE;
		}

		let codes = this.#codes.get(bits);
		if (!codes) {
			codes = WARNING_CODES.filter((_, i) => (bits & (1 << i)) !== 0);
			this.#codes.set(bits, codes);
		}

		return codes;
	}

	#remember(job: Job): void {
		const {row} = job;
		if (row >= this.#bits.length) {
			this.#bits = withRoom(this.#bits, row);
			this.#alts = withRoom(this.#alts, row);
			this.#images = withRoom(this.#images, row);
		}

		const judged = judgedAlt(job, undefined);
		if (!judged) {
			this.#bits[row] = 0;
			return;
		}

		let bits = JUDGED;
		for (const code of altTextWarnings(judged)) {
			bits |= 1 << WARNING_CODES.indexOf(code);
		}

		this.#bits[row] = bits;
		this.#alts[row] = altKey(judged.altText);
		this.#images[row] = hash53(judged.image);
	}
}

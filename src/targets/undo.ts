import type {StoredWrite} from '../ledger/read.js';
import {mapHeader, type Columns, type Job} from '../rows/job.js';
import {AssetUndo} from './assets/undo.js';
import {CmsUndo} from './cms/undo.js';
import {UNDO_COLUMNS, type UndoRow} from './target.js';

/**
 * Undo across the targets, as a lane routes rows to them: each row of a run's results, or each
 * write on record, to the target that wrote it (a CMS image's to the CMS target, the rest to the
 * asset target); each target's groups back as the rows that put them back, in row order.
 */
export class TargetsUndo {
	readonly #assets: AssetUndo;
	readonly #cms: CmsUndo;
	/** Groups opened from writes (`undo --run`): each is the next row of undo's results. */
	#opened = 0;

	constructor() {
		const nextRow = () => 2 + this.#opened++;
		this.#assets = new AssetUndo({nextRow});
		this.#cms = new CmsUndo({nextRow});
	}

	/** A row of the run's results (its job read back): to the target that wrote it. */
	takeRow(row: UndoRow): void {
		(row.job.cms === undefined ? this.#assets : this.#cms).takeRow(row);
	}

	/** A write of the run on record: to the target that wrote it. */
	takeWrite(write: StoredWrite): void {
		(write.target.kind === 'cms' ? this.#cms : this.#assets).takeWrite(write);
	}

	/** The columns of `undo --run`'s results: a write's site, asset, locale and fields, and what the targets that wrote add. */
	writeColumns(file: string): Columns {
		return mapHeader({header: [...UNDO_COLUMNS, ...this.#assets.writeColumns, ...this.#cms.writeColumns], file, line: 1});
	}

	/** Every group with something to put back, as the row that does, in row order. */
	jobs(columns: Columns): Job[] {
		return [...this.#assets.jobs(columns), ...this.#cms.jobs(columns)].sort((a, b) => a.row - b.row);
	}
}

import type {StoredWrite} from '../ledger/read.js';
import {mapHeader, withProblem, type Columns, type Job} from '../rows/job.js';
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
		(row.job.cms === undefined ? this.#assets : this.#cms).takeRow(row.job.image === undefined ? row : byImageUrl(row));
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

/**
 * A row keyed by an image URL: its cells may name no asset (a URL matched by `hostedUrl`), and
 * with the site read the run may have written its image in several places (its asset and CMS
 * images: engine/url-row.ts). The ledger says where: one asset, and the row is undone as that
 * asset's row; several places, and the row is `invalid` (one row of undo's results cannot put
 * several places back) naming the `undo --run` that does. Without the ledger, a URL the cells
 * cannot resolve is the targets' to refuse (nothing sent).
 */
function byImageUrl(row: UndoRow): UndoRow {
	const {job, writes} = row;
	if (writes === undefined || writes.length === 0) {
		return row;
	}

	const places = new Set(writes.map(({target}) => target.kind === 'asset' ? `asset ${target.assetId}` : `CMS item ${target.itemId} field "${target.field}"`));
	const [only] = writes;
	if (places.size === 1 && only?.target.kind === 'asset') {
		return {...row, job: withProblem({...job, assetId: only.target.assetId}, undefined)};
	}

	const message = `the run wrote this row's image in ${places.size} places (${[...places].join(', ')}): one row of undo's results cannot put them back; altbatch undo --run ${only?.run ?? '<id>'} takes back that run, every place`;
	return {...row, job: withProblem(job, {code: 'written_in_places', message})};
}

import {mapHeader, type Columns, type EditField} from '../rows/job.js';
import {mayHaveLanded, readLedger, type StoredWrite} from './read.js';

/** Everything undo does to one asset and locale: one PATCH at most (undo.ts makes them from a results file, this module from the ledger). */
export type UndoGroup = {
	readonly row: number;
	readonly cells: readonly string[];
	readonly assetId: string;
	readonly localeId: string | undefined;
	readonly siteId: string | undefined;
	readonly fields: Partial<Record<EditField, {before: string; written: string}>>;
	unknown: boolean;
};

/** The columns of `undo --run`'s results (its own results can be undone like any). */
const HEADER = ['siteId', 'assetId', 'localeId', 'displayName', 'altText'] as const;

const isEditField = (field: string): field is EditField => field === 'displayName' || field === 'altText';

/**
 * `undo --run <id>`: the run's asset writes that may be on the site — written, or never answered
 * (a kill, a timeout, a truncated answer: whether or not its row said `failed`), unless a later
 * read found it did not land — as undo's groups: per asset and locale, the value before the run's
 * first write of each field and what its last write sent. The three-way guard then decides each
 * against the site (a write that never landed finds the value before there: `unchanged`).
 */
export function ledgerGroups({ledger, id, file}: {ledger: string; id: string; file: string}): {columns: Columns; groups: UndoGroup[]} {
	const columns = mapHeader({header: [...HEADER], file, line: 1});
	const run = readLedger(ledger).find(r => r.id === id);
	const groups = new Map<string, UndoGroup>();
	const displayNames = new Map<string, UndoGroup>();
	const writes: StoredWrite[] = run?.writes.filter(write => write.target.kind === 'asset' && isEditField(write.field) && mayHaveLanded(write)) ?? [];
	for (const write of writes) {
		if (write.target.kind !== 'asset' || !isEditField(write.field)) {
			continue;
		}

		const {site, assetId, localeId} = write.target;
		const key = `${assetId}\u0000${localeId ?? ''}`;
		let group = groups.get(key);
		if (!group) {
			group = {row: groups.size + 2, cells: [site ?? '', assetId, localeId ?? '', '', ''], assetId, localeId, siteId: site, fields: {}, unknown: false};
			groups.set(key, group);
		}

		const owner = write.field === 'displayName' ? displayNames.get(assetId) ?? group : group;
		if (write.field === 'displayName') {
			displayNames.set(assetId, owner);
		}

		if (write.before === undefined) {
			owner.unknown = true;
			continue;
		}

		const restore = owner.fields[write.field];
		owner.fields[write.field] = {before: restore?.before ?? write.before ?? '', written: write.sent};
	}

	return {columns, groups: [...groups.values()].filter(g => g.unknown || Object.keys(g.fields).length > 0)};
}

import {fileURLToPath} from 'node:url';
import {audit, type AuditSummary} from './audit/audit.js';
import {defaultRunConfig, type RunConfig} from '../cli/config.js';
import type {Logger} from '../logger.js';
import {readResults} from '../files/csv/read-back.js';
import {writeCsvFile} from '../files/csv/write.js';
import {CLEARED_CODE} from '../targets/assets/target.js';
import {run, type Summary} from './run.js';
import type {ImageValue} from '../sandbox/cms.js';
import {Sandbox} from '../sandbox/server.js';
import {undo} from './undo.js';

/** Where the example job lives: beside the package, one level above `dist/`. */
export const EXAMPLE_JOBS = fileURLToPath(new URL('../../jobs.example.csv', import.meta.url));

/** One command of the demo, its summary, and lines to show after it (undo: what was put back, and the conflict). */
export type DemoStep = {readonly title: string; readonly command: string; readonly summary: Summary; readonly details?: readonly string[]};

/** The demo's last step: the audit of the demo site, where its images render and what is wrong there. */
export type DemoAudit = {readonly title: string; readonly command: string; readonly summary: AuditSummary};

/** The asset of the example's first row: an editor fixes its alt text after the run, so undo leaves it alone. */
const EDITED = {assetId: '00312e3c6080bc90990ccb9b', altText: 'Snowy peaks at dawn (fixed by an editor in the Designer)'};

/**
 * `npm start`: the example job against an in-process sandbox (10 requests/s so it takes seconds),
 * the whole product offline: a dry run that previews, the real run, a nightly re-run with
 * `--only-missing` that changes nothing an editor wrote, and the safety net: an editor changes one
 * asset, then `undo` puts back everything the real run changed except that asset (a conflict).
 */
export async function demo({logger, out, interrupt}: {logger: Logger; out: string; interrupt?: AbortSignal}): Promise<{steps: DemoStep[]; audit?: DemoAudit; sandbox: string}> {
	const sandbox = new Sandbox({rate: {count: 10, windowMs: 1000}, tokens: [{token: 'demo-token'}]});
	const url = await sandbox.listen();
	const [site] = sandbox.sites.keys();
	if (site === undefined) {
		throw new Error('the demo sandbox has no site');
	}
	const base: RunConfig = {...defaultRunConfig(EXAMPLE_JOBS), out, apiBase: url, token: 'demo-token', site};
	const preview = out.replace(/\.csv$/, '.preview.csv');
	const nightly = out.replace(/\.csv$/, '.nightly.csv');
	const plan: Array<[string, string, Partial<RunConfig>]> = [
		['Preview: what would change', `altbatch run jobs.example.csv --site ${site} --dry-run --out ${preview}`, {dryRun: true, out: preview}],
		['Apply', `altbatch run jobs.example.csv --site ${site} --out ${out}`, {}],
		['Nightly re-run: fill only missing alt text', `altbatch run jobs.example.csv --site ${site} --only-missing --out ${nightly}`, {onlyMissing: true, out: nightly}],
	];
	const steps: DemoStep[] = [];
	try {
		for (const [title, command, overrides] of plan) {
			const summary = await run({...base, ...overrides}, {logger, interrupt});
			steps.push({title, command, summary});
			if (summary.stopped) {
				return {steps, sandbox: url};
			}
		}

		sandbox.editAsset({id: EDITED.assetId, altText: EDITED.altText});
		const undoOut = out.replace(/\.csv$/, '.undo.csv');
		const summary = await undo({...base, input: out, out: undoOut, allowClear: true}, {logger, interrupt});
		steps.push({
			title: `Undo the apply run, after an editor changed the alt text of asset ${EDITED.assetId}`,
			command: `altbatch undo ${out} --site ${site} --allow-clear --out ${undoOut}`,
			summary,
			details: await undoneLines(undoOut),
		});
		await cmsSteps({sandbox, base, out, steps, logger, interrupt});
		if (steps.some(step => step.summary.stopped)) {
			return {steps, sandbox: url};
		}

		// Last, where the alt text renders: every image of the demo site's pages and component.
		const auditOut = out.replace(/\.csv$/, '.audit.csv');
		const audited = await audit({...base, site, locales: [], out: auditOut, report: undefined, compare: undefined}, {logger, interrupt});
		return {steps, sandbox: url, audit: {title: 'Audit: every place an image renders on the demo site, the alt text it gets there, what is wrong', command: `altbatch audit --site ${site} --out ${auditOut}`, summary: audited}};
	} finally {
		await sandbox.close();
	}
}

/** What undo put back, row by row, and what it left alone. */
async function undoneLines(path: string): Promise<string[]> {
	const {rows} = await readResults(path);
	const lines: string[] = [];
	const show = (text: string) => text === '' ? '(no alt text)' : JSON.stringify(text.length > 50 ? `${text.slice(0, 47)}...` : text);
	for (const row of rows.values()) {
		const get = (name: string) => row.values.get(name) ?? '';
		const where = `${get('assetId')}${get('localeId') === '' ? '' : ` (locale ${get('localeId')})`}`;
		const fields = [['displayName', 'previous_display_name', 'display name'], ['altText', 'previous_alt_text', 'alt text']] as const;
		if (get('status') === 'updated') {
			for (const [field, previous, label] of fields) {
				if (get(field) !== '' || (field === 'altText' && get('error_code') === CLEARED_CODE)) {
					lines.push(`put back   ${where}: ${label} ${show(get(previous))} → ${show(get(field))}`);
				}
			}
		} else if (get('status') === 'conflict') {
			lines.push(`conflict   ${where}: left alone — ${get('error_message')}`);
		}
	}

	return lines;
}

/** The CMS image the demo fixes: the blog's first post's main image, published, without alt text. */
function demoCmsImage(sandbox: Sandbox): {collectionId: string; itemId: string; value: () => {staged: string; live: string}; fileId: string} {
	const site = [...sandbox.sites.values()][0];
	const collection = site && [...site.collections.values()][0];
	const item = collection && [...collection.items.values()][0];
	const variant = site && item?.variants.get(site.primaryLocale);
	const image = variant?.fieldData['main-image'] as ImageValue | undefined;
	if (!collection || !item || !variant || !image) {
		throw new Error('the demo sandbox has no CMS image');
	}

	const altOf = (fieldData: Record<string, unknown> | undefined) => (fieldData?.['main-image'] as ImageValue | undefined)?.alt ?? '';
	return {collectionId: collection.id, itemId: item.id, fileId: image.fileId, value: () => ({staged: altOf(variant.fieldData), live: altOf(variant.live)})};
}

/** CMS: a published post's main image gets alt text, staged and live (nothing published), then undo takes it back. */
async function cmsSteps({sandbox, base, out, steps, logger, interrupt}: {sandbox: Sandbox; base: RunConfig; out: string; steps: DemoStep[]; logger: Logger; interrupt?: AbortSignal | undefined}): Promise<void> {
	const image = demoCmsImage(sandbox);
	const jobs = out.replace(/\.csv$/, '.cms-jobs.csv');
	const cmsOut = out.replace(/\.csv$/, '.cms.csv');
	const cmsUndo = out.replace(/\.csv$/, '.cms.undo.csv');
	writeCsvFile({path: jobs, rows: [['collectionId', 'itemId', 'field', 'fileId', 'altText'], [image.collectionId, image.itemId, 'main-image', image.fileId, 'Snowy mountain ridge under a clear sky']], bom: false});
	const show = (text: string) => text === '' ? '(no alt text)' : JSON.stringify(text);
	const before = image.value();
	const fixed = await run({...base, input: jobs, out: cmsOut}, {logger, interrupt});
	const after = image.value();
	steps.push({
		title: 'Fix a CMS image: the blog post "Hello, mountains", field main-image (published: staged and live item written, nothing published)',
		command: `altbatch run ${jobs} --site ${base.site ?? ''} --out ${cmsOut}`,
		summary: fixed,
		details: [`staged item: ${show(before.staged)} → ${show(after.staged)}`, `live item:   ${show(before.live)} → ${show(after.live)}`],
	});
	if (fixed.stopped) {
		return;
	}

	const undone = await undo({...base, input: cmsOut, out: cmsUndo}, {logger, interrupt});
	const back = image.value();
	steps.push({
		title: 'Undo the CMS fix: staged and live put back',
		command: `altbatch undo ${cmsOut} --site ${base.site ?? ''} --out ${cmsUndo}`,
		summary: undone,
		details: [`staged item: ${show(after.staged)} → ${show(back.staged)}`, `live item:   ${show(after.live)} → ${show(back.live)}`],
	});
}

import type {ReadCounts, Unread} from './read.js';
import {coverageBy, type Comparison, type GroupCoverage, type Place} from './sheet.js';
import {writeDocument} from '../../files/csv/write.js';
import {percent, type PlaceCoverage} from '../../rows/render.js';
import type {RunStopped} from '../../engine/session.js';
import {describeWindow} from '../../schedule/window-peak.js';
import type {ReportOutcome} from '../../report/summary.js';

export type AuditSiteSummary = PlaceCoverage & {
	readonly problems: Record<string, number>;
	readonly requests: number;
	readonly reads: ReadCounts & {readonly introspect: number};
	/** Parts of the site not audited, and why (a token without `pages:read`, say): coverage is then partial. */
	readonly unread: readonly Unread[];
	readonly stopped: RunStopped | undefined;
};

export type AuditSummary = PlaceCoverage & {
	readonly out: string;
	readonly written: boolean;
	readonly problems: Record<string, number>;
	/** Places by what fixes them (`asset`, `cms`, `designer`), those with a problem. */
	readonly fixWith: Record<string, number>;
	readonly requests: number;
	readonly elapsedSeconds: number;
	/** Requests against the budget of the window they fell in: the most sent in any one window, the budget, the window. */
	readonly budget: {readonly perWindow: number; readonly windowSeconds: number; readonly peak: number};
	readonly sites: Record<string, AuditSiteSummary>;
	readonly compare: (Omit<Comparison, 'fixed' | 'new' | 'stillOpen'> & {readonly file: string; readonly fixed: number; readonly new: number; readonly stillOpen: number}) | undefined;
	readonly stopped: RunStopped | undefined;
	readonly report?: ReportOutcome | undefined;
};


/** The most places listed in each table; the rest are counted (the CSV has all). */
const CAP = 1000;

function escape(text: string): string {
	return text.replace(/[&<>"']/g, ch => `&#${ch.charCodeAt(0)};`);
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, id: string): string {
	const body = rows.slice(0, CAP).map(row => `<tr>${row.map(cell => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('\n');
	const more = rows.length > CAP ? `<p>… and ${rows.length - CAP} more (the audit CSV has every one).</p>` : '';
	return `<table id="${id}"><thead><tr>${head.map(h => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>${more}`;
}

const coverageCells = (c: GroupCoverage) => [String(c.places), String(c.withAlt), String(c.covered), percent(c)];
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "10 of 10 have alt text, 5 without a problem: 50% covered" — never 100% for placeholders. */
export function describeCoverage({places, withAlt, covered}: {places: number; withAlt: number; covered: number}): string {
	return places === 0 ? 'no image places found' : `${withAlt} of ${plural(places, 'place')} have alt text, ${covered} without a problem: ${percent({places, covered, withAlt})} covered`;
}

/** The audit's HTML page: coverage per site, per page and per collection, worst first; the problems; the designer-only places with page and node. */
export function renderAuditReport({summary, places, comparison}: {summary: AuditSummary; places: readonly Place[]; comparison: Comparison | undefined}): string {
	const bySite = coverageBy(places, place => place.siteId);
	const byPage = coverageBy(places, place => place.kind === 'page' ? `${place.siteId}|${place.pageId}` : undefined);
	const byCollection = coverageBy(places, place => place.kind === 'cms' ? `${place.siteId}|${place.collectionId}` : undefined);
	const byComponent = coverageBy(places, place => place.kind === 'component' ? `${place.siteId}|${place.where}` : undefined);
	const problems = places.filter(place => place.problem !== undefined && place.fixWith !== 'designer');
	const designer = places.filter(place => place.problem !== undefined && place.fixWith === 'designer');
	const unread = Object.entries(summary.sites).flatMap(([site, part]) => part.unread.map(u => [site, u.part, u.reason]));
	const head = ['places', 'with alt text', 'without a problem', 'covered'];
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>altbatch audit</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}.warn{color:#cf222e}</style></head>
<body><h1>Alt-text audit</h1>
<p>${escape(describeCoverage(summary))}. Coverage counts only alt text without a problem (a placeholder, a file name or a duplicate is not coverage).</p>
${unread.length > 0 ? `<p class="warn" id="partial">Partial audit: some parts were not read, so coverage covers only what was. ${escape(unread.map(([site, part, reason]) => `site ${site ?? ''}: ${part ?? ''} not audited (${reason ?? ''})`).join('; '))}</p>` : ''}
<p>${escape(`${plural(summary.requests, 'request')} in ${summary.elapsedSeconds} s; at most ${summary.budget.peak} of ${summary.budget.perWindow} in ${describeWindow(summary.budget.windowSeconds)} (the budget)`)}</p>
${summary.compare ? `<section id="compare"><h2>Since ${escape(summary.compare.file)}</h2><p>${summary.compare.fixed} fixed, ${summary.compare.new} new, ${summary.compare.stillOpen} still open.</p>${table(['where', 'node', 'problem'], (comparison?.new ?? []).map(p => [p.where, p.nodeId, p.problem ?? '']), 'new-places')}</section>` : ''}
<section id="sites"><h2>Coverage per site</h2>${table(['site', ...head], bySite.map(c => [c.siteId, ...coverageCells(c)]), 'site-coverage')}</section>
<section id="pages"><h2>Coverage per page, worst first</h2>${table(['site', 'page', 'path', ...head], byPage.map(c => [c.siteId, c.group, c.where, ...coverageCells(c)]), 'page-coverage')}</section>
<section id="collections"><h2>Coverage per collection, worst first</h2>${byCollection.length === 0 ? '<p>No CMS images audited.</p>' : table(['site', 'collection', ...head], byCollection.map(c => [c.siteId, c.group, ...coverageCells(c)]), 'collection-coverage')}</section>
${byComponent.length === 0 ? '' : `<section id="components"><h2>Coverage per component</h2>${table(['site', 'component', ...head], byComponent.map(c => [c.siteId, c.where, ...coverageCells(c)]), 'component-coverage')}</section>`}
<section id="problems"><h2>Problems the Data API can fix (fill altText in the audit CSV and run it back)</h2>${problems.length === 0 ? '<p>None.</p>' : table(['where', 'node / item', 'asset', 'locale', 'alt text', 'problem', 'fix with'], problems.map(p => [p.where, p.nodeId || p.itemId, p.assetId, p.localeId || 'primary', p.altText, p.problem ?? '', p.fixWith]), 'problem-places')}</section>
<section id="designer"><h2>Only the Designer can fix these</h2><p>An image element's own alt text (and a component's) is not writable through the Data API: open the page, select the node, fix it in the Designer.</p>${designer.length === 0 ? '<p>None.</p>' : table(['where', 'page', 'node', 'locale', 'alt text', 'problem'], designer.map(p => [p.where, p.pageId, p.nodeId, p.localeId || 'primary', p.altText, p.problem ?? '']), 'designer-places')}</section>
</body></html>
`;
}

/** Written whole beside the file and renamed (a device as it is); a failure leaves the CSV standing and is said. */
export function writeAuditReport(path: string, data: Parameters<typeof renderAuditReport>[0] & {perMinute: number}): ReportOutcome {
	try {
		writeDocument(path, renderAuditReport(data));
		return {path, written: true};
	} catch (error) {
		return {path, written: false, error: (error as NodeJS.ErrnoException).code ?? String(error)};
	}
}

/** The audit's end as people read it. */
export function formatAuditSummary(summary: AuditSummary): string {
	const lines: string[] = [];
	if (summary.written) {
		lines.push(`Audited ${plural(summary.places, 'place')} where images render: ${describeCoverage(summary)}`);
		const problems = Object.entries(summary.problems).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`);
		if (problems.length > 0) {
			const fix = Object.entries(summary.fixWith).map(([how, n]) => `${how} ${n}`).join(', ');
			lines.push(`  problems: ${problems.join(', ')} (fixed with: ${fix})`);
		}
	} else if (summary.stopped) {
		lines.push(`Audit stopped (${summary.stopped.reason}): ${summary.stopped.message}`);
	}

	lines.push(`  ${plural(summary.requests, 'request')} in ${summary.elapsedSeconds} s; at most ${summary.budget.peak} of ${summary.budget.perWindow} in ${describeWindow(summary.budget.windowSeconds)} (the budget)`);
	for (const [site, part] of Object.entries(summary.sites)) {
		const reads = part.reads;
		const detail = `${reads.introspect} introspect, ${reads.assets} asset pages, ${reads.pages} page lists, ${reads.dom} page DOM reads, ${reads.components} component reads${reads.cms > 0 ? `, ${reads.cms} CMS reads` : ''}`;
		lines.push(part.stopped
			? `  site ${site}: not audited (${part.stopped.reason}): ${part.stopped.message}`
			: `  site ${site}: ${describeCoverage(part)}; ${plural(part.requests, 'request')} (${detail})`);
		for (const unread of part.unread) {
			lines.push(`  site ${site}: ${unread.part} NOT audited: ${unread.reason}; coverage counts only what was read`);
		}
	}

	if (summary.compare) {
		lines.push(`  since ${summary.compare.file}: ${summary.compare.fixed} fixed, ${summary.compare.new} new, ${summary.compare.stillOpen} still open`);
	}

	if (summary.written) {
		lines.push(`Audit: ${summary.out} (fill altText, then: altbatch run ${summary.out} ${Object.keys(summary.sites).length === 1 ? `--site ${Object.keys(summary.sites)[0] ?? ''}` : '--tokens <file> --prefetch'})`);
	}

	if (summary.report) {
		lines.push(summary.report.written ? `Report: ${summary.report.path}` : `The report could not be written to ${summary.report.path} (${summary.report.error ?? 'error'}); the audit above stands`);
	}

	return lines.join('\n');
}

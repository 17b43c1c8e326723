import {PROBLEM_STATUSES} from '../rows/result.js';
import type {BudgetMode} from '../schedule/rate.js';
import {describeWindow} from '../schedule/window-peak.js';
import type {CoverageCount, ExportSummary, Progress, Summary} from './summary.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function duration(seconds: number): string {
	if (seconds < 60) {
		return `${Math.round(seconds)} s`;
	}

	const m = Math.floor(seconds / 60);
	return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The end-of-run summary as people read it. */
export function formatSummary(summary: Summary): string {
	const lines: string[] = [];
	const counts = Object.entries(summary.statuses).filter(([, n]) => n > 0).map(([status, n]) => `${status} ${n}`);
	lines.push(`${summary.dryRun ? 'Dry run: ' : ''}${plural(summary.rows, 'row')} in ${summary.elapsedSeconds} s: ${counts.join(', ') || 'nothing to do'}`);
	const codes = Object.entries(summary.errorCodes).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`);
	if (codes.length > 0) {
		lines.push(`  error codes: ${codes.join(', ')}`);
	}

	const warnings = Object.entries(summary.warnings).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`);
	if (warnings.length > 0) {
		lines.push(`  alt-text warnings: ${warnings.join(', ')}`);
	}

	const cleared = summary.errorCodes.alt_text_cleared ?? 0;
	if (cleared > 0) {
		lines.push(summary.dryRun
			? `  alt text would be cleared on ${plural(cleared, 'row')} (--allow-clear): a real undo sends altText "", which Webflow does not document`
			: `  alt text cleared on ${plural(cleared, 'row')} (--allow-clear): sent altText "", which Webflow does not document`);
	}

	const needsClear = summary.errorCodes.needs_allow_clear ?? 0;
	if (needsClear > 0) {
		lines.push(`  ${plural(needsClear, 'row')} not put back: the alt text was empty before the run, and putting that back sends altText "" (not documented by Webflow); pass --allow-clear to send it`);
	}

	if (summary.carriedOver !== undefined) {
		lines.push(`  carried over by --resume: ${plural(summary.carriedOver, 'row')} (already done; counted above with the status they had)`);
	}

	if (summary.estimatedRequests !== undefined) {
		lines.push(`  a real run would send ${plural(summary.estimatedRequests, 'request')}${summary.listRequests > 0 ? ` (${plural(summary.listRequests, 'list page')} included)` : ''}`);
	}

	if (summary.requests > 0 || !summary.dryRun) {
		const window = summary.window ? `at most ${summary.window.peak} of ${summary.window.perWindow} in ${describeWindow(summary.window.windowSeconds)}, ` : '';
		lines.push(`  ${plural(summary.requests, 'request')}, ${summary.tooManyRequests} answered 429, paused ${summary.pausedSeconds} s; ${window}${describeRate(summary.rateLimitPerMinute, summary.rateSource)}`);
	}

	for (const c of summary.coverage ?? []) {
		const pct = (count: CoverageCount) => count.total === 0 ? 'n/a' : `${Math.floor(count.covered * 100 / count.total)}%`;
		lines.push(`  alt-text coverage${summary.coverage && summary.coverage.length > 1 ? ` (site ${c.site}, ${c.locale || 'primary'})` : ''}: ${pct(c.before)} before, ${pct(c.after)} after (${c.after.covered} of ${c.after.total} with alt text without a problem; ${c.after.withAlt} with any)`);
	}

	if (summary.budget.kind !== 'local') {
		lines.push(`  budget: ${describeBudget(summary.budget)}`);
	}

	lines.push(...atAGlance({
		sites: Object.entries(summary.sites ?? {}),
		trouble: ([, part]) => (part.stopped ? 1_000_000_000 : 0) + part.conflicts + PROBLEM_STATUSES.reduce((sum, status) => sum + part.statuses[status], 0),
		line([site, part]) {
			const parts = Object.entries(part.statuses).filter(([, n]) => n > 0).map(([status, n]) => `${status} ${n}`);
			const estimate = part.estimatedRequests === undefined ? '' : `, a real run would send ${part.estimatedRequests}`;
			const pages = part.listRequests > 0 ? ` (${plural(part.listRequests, 'list page')})` : '';
			if (part.requests === 0 && part.rateLimitPerMinute === 0 && !part.stopped) {
				// Rows settled before any request (invalid, no token for the site): no budget to speak of.
				return `  site ${site}: ${parts.join(', ') || 'no rows'}; nothing sent`;
			}

			return `  site ${site}: ${parts.join(', ') || 'no rows'}; ${plural(part.requests, 'request')}${pages}${estimate}, ${plural(part.conflicts, 'conflict')}, ${part.tooManyRequests} answered 429, budget ${part.rateLimitPerMinute}/min${part.stopped ? `; stopped (${part.stopped.reason}): ${part.stopped.message}` : ''}`;
		},
		fine: 'fine',
	}));

	if (summary.stopped) {
		lines.push(`  stopped early (${summary.stopped.reason}): ${summary.stopped.message}`);
	}

	if (summary.settled && summary.settled.writes > 0) {
		lines.push(`  ${plural(summary.settled.writes, 'earlier write')} whose answer never came read back from the site (${plural(summary.settled.reads, 'read')}): on record in the ledger`);
	}

	lines.push(`Results: ${summary.out}`);
	if (summary.earlierResults !== undefined) {
		lines.push(`Earlier results kept: ${summary.earlierResults}`);
	}

	if (summary.ledgerRun !== undefined) {
		lines.push(`On record: ${summary.ledgerRun} (altbatch history; altbatch undo --run ${summary.ledgerRun})`);
	}

	if (summary.report) {
		lines.push(summary.report.written ? `Report: ${summary.report.path}` : `The report could not be written to ${summary.report.path} (${summary.report.error ?? 'error'}); the results above stand`);
	}

	return lines.join('\n');
}

/** Up to this many sites the summary has a line for each; past it, the sites with problems and a count of the rest. */
export const SITE_LINES = 10;
/** The most sites with problems listed by name (the rest counted). */
const PROBLEM_SITE_LINES = 25;

/**
 * Per-site lines people can take in at a glance: every site while there are a few; with many (an
 * agency's 200 clients), only the sites with problems — most trouble first — and "198 sites fine".
 * `--json` and the report keep every site.
 */
function atAGlance<T>({sites, trouble, line, fine}: {sites: ReadonlyArray<[string, T]>; trouble: (site: [string, T]) => number; line: (site: [string, T]) => string; fine: string}): string[] {
	if (sites.length <= SITE_LINES) {
		return sites.map(site => line(site));
	}

	const troubled = sites.map(site => ({site, trouble: trouble(site)})).filter(site => site.trouble > 0).sort((a, b) => b.trouble - a.trouble);
	const lines = troubled.slice(0, PROBLEM_SITE_LINES).map(({site}) => line(site));
	if (troubled.length > PROBLEM_SITE_LINES) {
		lines.push(`  and ${plural(troubled.length - PROBLEM_SITE_LINES, 'more site')} with problems`);
	}

	lines.push(`  ${plural(sites.length - troubled.length, 'site')} ${fine}${troubled.length === 0 ? '' : ` (of ${sites.length})`}; every site in --json${fine === 'fine' ? ' and the report' : ''}`);
	return lines;
}

/** The budget line: shared through Redis, or local after Redis went away. */
function describeBudget(mode: BudgetMode): string {
	if (mode.kind === 'local') {
		return 'local';
	}

	if (mode.kind === 'shared') {
		return `shared through Redis (${mode.peers} other process${mode.peers === 1 ? '' : 'es'} seen)`;
	}

	// Redis never reached (the reason says why) is not Redis that went away.
	const when = mode.reason.startsWith('Redis unreachable at start') ? 'local, Redis not reached' : 'local after Redis went away';
	return `${when} (${Math.round(mode.share * 100)}% of the rate): ${mode.reason}`;
}

/** The end of an export as people read it: the file, and with several sites one line per site. */
export function formatExportSummary(summary: ExportSummary): string {
	const lines: string[] = [];
	if (summary.written) {
		const what = summary.site === undefined ? `${plural(Object.values(summary.sites ?? {}).filter(site => !site.stopped).length, 'site')}` : `site ${summary.site}`;
		// Rows are per asset and locale, and --missing-only leaves some assets out: the assets are those read.
		lines.push(`Exported ${plural(summary.rows, 'row')} (of ${plural(summary.assets, 'asset')} read) of ${what} with ${plural(summary.requests, 'request')} to ${summary.out}`);
	} else if (summary.stopped) {
		lines.push(`Export stopped (${summary.stopped.reason}): ${summary.stopped.message}`);
	}

	lines.push(...atAGlance({
		sites: Object.entries(summary.sites ?? {}),
		trouble: ([, part]) => (part.stopped ? 2 : 0) + (part.skippedLocales.length > 0 ? 1 : 0),
		line([site, part]) {
			const skipped = part.skippedLocales.length > 0 ? `; not a locale of this site: ${part.skippedLocales.join(', ')}` : '';
			return part.stopped
				? `  site ${site}: not exported (${part.stopped.reason}): ${part.stopped.message}`
				: `  site ${site}: ${plural(part.rows, 'row')} (${plural(part.assets, 'asset')}), ${plural(part.requests, 'request')}${skipped}`;
		},
		fine: 'exported',
	}));

	return lines.join('\n');
}

/** One progress line: done/total, rows per minute, ETA, and a rate-limit pause when there is one. */
export function formatProgress(progress: Progress, now: number): string {
	const perMinute = progress.elapsedMs > 0 ? progress.done * 60_000 / progress.elapsedMs : 0;
	const left = progress.total - progress.done;
	// A pause going on is waited out before the rest goes at the pace so far: the ETA counts it.
	const pausedMs = Math.max(0, progress.pausedUntil - now);
	const eta = perMinute > 0 ? ` ETA ${duration((pausedMs / 1000) + (left / perMinute * 60))}` : '';
	const paused = pausedMs > 0 ? ` — paused ${Math.ceil(pausedMs / 1000)} s by the rate limit` : '';
	return `${progress.done}/${progress.total} rows, ${Math.round(perMinute)}/min,${eta}${paused}`;
}

/**
 * The rate as what it is: a per-minute budget, spent as fast as it allows (a burst shows more per
 * minute sent than the budget, which is no overrun), or, told with --rate, a ceiling.
 */
function describeRate(perMinute: number, source: Summary['rateSource']): string {
	return source === 'told' ? `at most ${perMinute}/min (--rate)` : `budget ${perMinute}/min (${source})`;
}

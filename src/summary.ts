import type {ExportSummary} from './export.js';
import type {Progress, Summary} from './run.js';

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
		lines.push(`  alt text cleared on ${plural(cleared, 'row')} (--allow-clear): sent altText "", which Webflow does not document`);
	}

	const needsClear = summary.errorCodes.needs_allow_clear ?? 0;
	if (needsClear > 0) {
		lines.push(`  ${plural(needsClear, 'row')} not put back: the alt text was empty before the run, and putting that back sends altText "" (not documented by Webflow); pass --allow-clear to send it`);
	}

	if (summary.estimatedRequests !== undefined) {
		lines.push(`  a real run would send ${plural(summary.estimatedRequests, 'request')}${summary.listRequests > 0 ? ` (${summary.listRequests} list pages included)` : ''}`);
	}

	if (summary.requests > 0 || !summary.dryRun) {
		lines.push(`  ${plural(summary.requests, 'request')}, ${summary.tooManyRequests} answered 429, paused ${summary.pausedSeconds} s; ${summary.effectiveRatePerMinute}/min sent, paced to ${summary.rateLimitPerMinute}/min (${summary.rateSource})`);
	}

	if (summary.budget !== 'local') {
		lines.push(`  budget: ${summary.budget}`);
	}

	for (const [site, part] of Object.entries(summary.sites ?? {})) {
		const parts = Object.entries(part.statuses).filter(([, n]) => n > 0).map(([status, n]) => `${status} ${n}`);
		const estimate = part.estimatedRequests === undefined ? '' : `, a real run would send ${part.estimatedRequests}`;
		const pages = part.listRequests > 0 ? ` (${part.listRequests} list pages)` : '';
		lines.push(`  site ${site}: ${parts.join(', ') || 'no rows'}; ${plural(part.requests, 'request')}${pages}${estimate}, ${plural(part.conflicts, 'conflict')}, ${part.tooManyRequests} answered 429, paced to ${part.rateLimitPerMinute}/min${part.stopped ? `; stopped (${part.stopped.reason}): ${part.stopped.message}` : ''}`);
	}

	if (summary.stopped) {
		lines.push(`  stopped early (${summary.stopped.reason}): ${summary.stopped.message}`);
	}

	lines.push(`Results: ${summary.out}`);
	return lines.join('\n');
}

/** The end of an export as people read it: the file, and with several sites one line per site. */
export function formatExportSummary(summary: ExportSummary): string {
	const lines: string[] = [];
	if (summary.written) {
		const what = summary.site === undefined ? `${plural(Object.values(summary.sites ?? {}).filter(site => !site.stopped).length, 'site')}` : `site ${summary.site}`;
		lines.push(`Exported ${plural(summary.rows, 'row')} (${plural(summary.assets, 'asset')}) of ${what} with ${plural(summary.requests, 'request')} to ${summary.out}`);
	} else if (summary.stopped) {
		lines.push(`Export stopped (${summary.stopped.reason}): ${summary.stopped.message}`);
	}

	for (const [site, part] of Object.entries(summary.sites ?? {})) {
		const skipped = part.skippedLocales.length > 0 ? `; not a locale of this site: ${part.skippedLocales.join(', ')}` : '';
		lines.push(part.stopped
			? `  site ${site}: not exported (${part.stopped.reason}): ${part.stopped.message}`
			: `  site ${site}: ${plural(part.rows, 'row')} (${plural(part.assets, 'asset')}), ${plural(part.requests, 'request')}${skipped}`);
	}

	return lines.join('\n');
}

/** One progress line: done/total, rows per minute, ETA, and a rate-limit pause when there is one. */
export function formatProgress(progress: Progress, now: number): string {
	const perMinute = progress.elapsedMs > 0 ? progress.done * 60_000 / progress.elapsedMs : 0;
	const left = progress.total - progress.done;
	const eta = perMinute > 0 ? ` ETA ${duration(left / perMinute * 60)}` : '';
	const paused = progress.pausedUntil > now ? ` — paused ${Math.ceil((progress.pausedUntil - now) / 1000)} s by the rate limit` : '';
	return `${progress.done}/${progress.total} rows, ${Math.round(perMinute)}/min,${eta}${paused}`;
}

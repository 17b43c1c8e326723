import {writeDocument} from '../files/csv/write.js';
import type {Summary} from './summary.js';
import type {RateTimeline} from '../schedule/rate.js';
import type {ChangeRow, ReportRow, WarningRow} from '../engine/tally.js';

export type CoverageRow = {
	readonly site: string;
	readonly locale: string;
	/** `covered`: alt text without a problem (a placeholder or a file name is not coverage); `withAlt`: any alt text. */
	readonly before: {readonly total: number; readonly withAlt: number; readonly covered: number};
	readonly after: {readonly total: number; readonly withAlt: number; readonly covered: number};
};

export type ReportData = {
	readonly summary: Summary;
	readonly startedAt: number;
	readonly endedAt: number;
	readonly timelines: readonly RateTimeline[];
	readonly coverage: readonly CoverageRow[];
	readonly warnings: readonly WarningRow[];
	readonly problems: readonly ReportRow[];
	/** How many rows with warnings / problems there were in all (the lists are capped). */
	readonly warningRows: number;
	readonly problemRows: number;
	readonly conflicts?: readonly ChangeRow[];
	readonly conflictRows?: number;
	/** Set for undo: the fields put back (or, in a dry run, that would be). */
	readonly restored?: readonly ChangeRow[] | undefined;
	readonly restoredRows?: number;
};

const STATUS_COLOURS: Readonly<Record<string, string>> = {
	updated: '#1a7f37', unchanged: '#57606a', skipped: '#8250df', would_update: '#0969da', invalid: '#bf8700', failed: '#cf222e', not_attempted: '#953800', conflict: '#a40e26',
};

function escape(text: string): string {
	return text.replace(/[&<>"']/g, ch => `&#${ch.charCodeAt(0)};`);
}

function percent(part: number, whole: number): string {
	return whole === 0 ? '–' : `${Math.round(part * 1000 / whole) / 10}%`;
}

/** Requests per time bucket (at most 240 bars), 429s in red, pauses shaded: an inline SVG. */
function chart(data: ReportData): string {
	const duration = Math.max(1, Math.ceil((data.endedAt - data.startedAt) / 1000));
	const bucket = Math.max(1, Math.ceil(duration / 240));
	const bars = Math.ceil(duration / bucket);
	const sent = Array.from({length: bars}, () => 0);
	const limited = Array.from({length: bars}, () => 0);
	const firstSecond = Math.floor(data.startedAt / 1000);
	for (const timeline of data.timelines) {
		for (const [second, n] of timeline.sent) {
			const i = Math.min(bars - 1, Math.max(0, Math.floor((second - firstSecond) / bucket)));
			sent[i] = (sent[i] ?? 0) + n;
		}

		for (const [second, n] of timeline.limited) {
			const i = Math.min(bars - 1, Math.max(0, Math.floor((second - firstSecond) / bucket)));
			limited[i] = (limited[i] ?? 0) + n;
		}
	}

	const width = 720;
	const height = 200;
	const left = 40;
	const barWidth = (width - left) / bars;
	const peak = Math.max(1, ...sent);
	const y = (n: number) => height - 20 - (n / peak) * (height - 40);
	const x = (ms: number) => left + ((ms - data.startedAt) / 1000 / bucket) * barWidth;
	const pauses = data.timelines.flatMap(t => t.pauses).map(p => {
		const from = Math.max(left, x(p.from));
		const to = Math.min(width, x(p.until));
		return `<rect class="pause" x="${from.toFixed(1)}" y="10" width="${Math.max(1, to - from).toFixed(1)}" height="${height - 30}"><title>paused ${Math.round((p.until - p.from) / 100) / 10} s (${escape(p.reason === '429' ? '429 Retry-After' : 'budget spent')})</title></rect>`;
	});
	const rects = sent.map((n, i) => {
		const okHeight = height - 20 - y(n - (limited[i] ?? 0));
		const badHeight = height - 20 - y(limited[i] ?? 0);
		const bx = (left + i * barWidth).toFixed(1);
		const w = Math.max(0.5, barWidth - 0.5).toFixed(1);
		return `<rect class="sent" x="${bx}" y="${(height - 20 - okHeight).toFixed(1)}" width="${w}" height="${okHeight.toFixed(1)}"/>`
			+ (limited[i] ? `<rect class="limited" x="${bx}" y="${(height - 20 - okHeight - badHeight).toFixed(1)}" width="${w}" height="${badHeight.toFixed(1)}"/>` : '');
	});
	return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="Requests over time">
${pauses.join('\n')}
${rects.join('')}
<line x1="${left}" y1="${height - 20}" x2="${width}" y2="${height - 20}" stroke="#888"/>
<text x="${left - 4}" y="${y(peak) + 4}" text-anchor="end">${peak}</text><text x="${left - 4}" y="${height - 16}" text-anchor="end">0</text>
<text x="${left}" y="${height - 4}">0 s</text><text x="${width}" y="${height - 4}" text-anchor="end">${duration} s</text>
</svg>
<p class="legend"><span class="key sent"></span> requests per ${bucket === 1 ? 'second' : `${bucket} s`} <span class="key limited"></span> answered 429 <span class="key pause"></span> paused by the rate limit</p>`;
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, id: string): string {
	return `<table id="${id}"><thead><tr>${head.map(h => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows.map(r => `<tr>${r.map(c => `<td>${escape(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
}

/** One self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched). */
export function renderReport(data: ReportData): string {
	const {summary} = data;
	const byRow = <T extends {row: number}>(rows: readonly T[]) => [...rows].sort((a, b) => a.row - b.row);
	const statusCards = Object.entries(summary.statuses).filter(([, n]) => n > 0)
		.map(([status, n]) => `<div class="card" style="border-color:${STATUS_COLOURS[status] ?? '#888'}"><div class="n">${n}</div><div>${escape(status)}</div></div>`).join('');
	const figures: Array<[string, string]> = [
		['rows', String(summary.rows)],
		['requests', String(summary.requests)],
		['answered 429', String(summary.tooManyRequests)],
		['paused', `${summary.pausedSeconds} s`],
		['elapsed', `${summary.elapsedSeconds} s`],
		['effective rate', `${summary.effectiveRatePerMinute}/min`],
		['budget', `${summary.rateLimitPerMinute}/min (${summary.rateSource})`],
	];
	const sites = Object.entries(summary.sites ?? {}).map(([site, part]) => [
		site,
		Object.entries(part.statuses).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', '),
		String(part.requests) + (part.estimatedRequests === undefined ? '' : ` (a real run: ${part.estimatedRequests})`),
		String(part.listRequests),
		String(part.conflicts),
		String(part.tooManyRequests),
		`${part.rateLimitPerMinute}/min`,
		part.stopped ? `${part.stopped.reason}: ${part.stopped.message}` : '',
	]);
	const coverage = data.coverage.map(c => `<tr><td>${escape(c.site)}</td><td>${escape(c.locale || 'primary')}</td>
<td>${c.before.covered} / ${c.before.total} (${percent(c.before.covered, c.before.total)}; ${c.before.withAlt} with alt text)</td>
<td>${c.after.covered} / ${c.after.total} (${percent(c.after.covered, c.after.total)}; ${c.after.withAlt} with alt text)</td>
<td><div class="bar"><div class="before" style="width:${percent(c.before.covered, c.before.total).replace('–', '0%')}"></div><div class="after" style="width:${percent(c.after.covered, c.after.total).replace('–', '0%')}"></div></div></td></tr>`).join('\n');
	// With several sites, the lists of conflicts and rows not applied say each row's site first.
	const siteHead = summary.sites === undefined ? [] : ['site'];
	const siteCell = (row: {siteId?: string}) => summary.sites === undefined ? [] : [row.siteId ?? ''];
	const warningCounts = Object.entries(summary.warnings).map(([code, n]) => [code, String(n)]);
	const more = (shown: number, all: number) => all > shown ? `<p class="more">and ${all - shown} more rows (see the results CSV)</p>` : '';
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>altbatch report — ${escape(summary.input)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.meta{color:#57606a}.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:2px solid;border-radius:6px;padding:.4rem .8rem;min-width:6rem}
.card .n{font-size:1.4rem;font-weight:600}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{color:#57606a}dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
svg{width:100%;height:auto;background:#fff;border:1px solid #d0d7de}svg text{font-size:11px;fill:#57606a}
rect.sent{fill:#0969da}rect.limited{fill:#cf222e}rect.pause{fill:#fb8f44;opacity:.25}
.legend .key{display:inline-block;width:.8rem;height:.8rem;margin:0 .2rem 0 .8rem;vertical-align:middle}.key.sent{background:#0969da}.key.limited{background:#cf222e}.key.pause{background:#fb8f44;opacity:.5}
.bar{position:relative;height:.8rem;background:#eaeef2;min-width:8rem}.bar .before,.bar .after{position:absolute;top:0;bottom:0;left:0}.bar .after{background:#1a7f37;opacity:.5}.bar .before{background:#1a7f37}
.stopped{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .8rem;border-radius:6px}.more{color:#57606a}
</style></head><body>
<h1>altbatch ${summary.dryRun ? 'dry run ' : ''}report</h1>
<p class="meta">${escape(summary.input)} → ${escape(summary.out)} · ${escape(new Date(data.endedAt).toISOString())}</p>
${summary.stopped ? `<p class="stopped" id="stopped">Stopped early (${escape(summary.stopped.reason)}): ${escape(summary.stopped.message)}</p>` : ''}
<section id="summary"><h2>Summary</h2><div class="cards">${statusCards}</div>
<dl>${figures.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('')}</dl>
${Object.keys(summary.errorCodes).length > 0 ? table(['error code', 'rows'], Object.entries(summary.errorCodes).map(([c, n]) => [c, String(n)]), 'codes') : ''}
${sites.length > 0 ? `<h3>Per site</h3>${table(['site', 'rows', 'requests', 'list pages', 'conflicts', '429s', 'budget', 'stopped'], sites, 'sites')}` : ''}</section>
<section id="requests"><h2>Requests over time</h2>${chart(data)}</section>
<section id="coverage"><h2>Alt-text coverage</h2><p>Coverage counts only alt text without a problem: a placeholder (<code>image</code>), a file name or text over 250 characters is not coverage.</p>${coverage === '' ? '<p>Known only with <code>--site</code>: run with it to see coverage before and after.</p>' : `<table><thead><tr><th>site</th><th>locale</th><th>before</th><th>after${summary.dryRun ? ' (if applied)' : ''}</th><th></th></tr></thead><tbody>${coverage}</tbody></table>`}</section>
<section id="warnings"><h2>Alt-text warnings</h2>${warningCounts.length === 0 ? '<p>None.</p>' : `${table(['warning', 'rows'], warningCounts, 'warning-counts')}
${table(['row', 'asset', 'alt text', 'warnings'], byRow(data.warnings).map(w => [String(w.row), w.assetId, w.altText, w.codes.join(', ')]), 'warning-rows')}${more(data.warnings.length, data.warningRows)}`}</section>
${data.restored === undefined ? '' : `<section id="restored"><h2>${summary.dryRun ? 'Would be put back' : 'Put back'}</h2>${data.restored.length === 0 ? '<p>Nothing.</p>' : `${table(['row', 'asset', 'locale', 'field', 'the site had', 'put back'], byRow(data.restored).map(r => [String(r.row), r.assetId, r.localeId || 'primary', r.field, r.from, r.to]), 'restored-rows')}${more(data.restored.length, data.restoredRows ?? 0)}`}</section>`}
<section id="conflicts"><h2>Conflicts</h2>${(data.conflicts ?? []).length === 0 ? '<p>None: no field was changed both here and on the site.</p>' : `<p>Changed both ${data.restored === undefined ? 'in the file and on the site since the export' : 'by the run and on the site since'}: not written.</p>${table([...siteHead, 'row', 'asset', 'locale', 'field', 'the site now has', data.restored === undefined ? 'the file has' : 'undo would put back', data.restored === undefined ? 'exported' : 'the run wrote'], byRow(data.conflicts ?? []).map(c => [...siteCell(c), String(c.row), c.assetId, c.localeId || 'primary', c.field, c.from, c.to, c.base]), 'conflict-rows')}${more((data.conflicts ?? []).length, data.conflictRows ?? 0)}`}</section>
<section id="failed"><h2>Rows not applied</h2>${data.problems.length === 0 ? '<p>None: every row is updated, unchanged, skipped, would update or a conflict.</p>' : `${table([...siteHead, 'row', 'asset', 'status', 'code', 'message'], byRow(data.problems).map(p => [...siteCell(p), String(p.row), p.assetId, p.status, p.code, p.message]), 'failed-rows')}${more(data.problems.length, data.problemRows)}`}</section>
</body></html>
`;
}

/** The report, written whole to a temporary file and renamed into place (to a device, as it is). */
export function writeReport(path: string, data: ReportData): void {
	writeDocument(path, renderReport(data));
}

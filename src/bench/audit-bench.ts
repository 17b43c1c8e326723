/**
 * `npm run bench audit`: the audit of a big site — 200 static pages holding 3,000 image nodes (and
 * text nodes and component instances), components with images, 2,000 CMS images (100 items of a
 * 20-image gallery) — on a per-minute budget scaled 1:10 in time (60 requests per 6 s). Stated: the
 * requests by kind (nothing per image), our time against what the budget's windows need for that
 * many requests, 429s.
 */
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {audit, type AuditConfig} from '../commands/audit/audit.js';
import {DEFAULTS} from '../cli/options.js';
import {silentLogger} from '../logger.js';
import {addComponent, addPage, imageNode, nodeId, textNode, type SandboxNode} from '../sandbox/pages.js';
import {Sandbox} from '../sandbox/server.js';
import {addGalleryCollection} from '../sandbox/cms-demo.js';
import {newAsset, newSite, objectId, type SandboxSite} from '../sandbox/state.js';

export type BenchRow = Record<string, string | number>;

const PAGES = 200;
const IMAGE_NODES = 3000;
const ASSETS = 1000;
const COMPONENTS = 10;

/** A site of 200 pages with 3,000 image nodes between them (15 a page, with text between), half showing the asset's alt, a third their own. */
export function bigSite(label: string): SandboxSite {
	const site = newSite(objectId(`${label}/site`), 0);
	const ids = Array.from({length: ASSETS}, (_, i) => objectId(`${label}/asset/${i}`));
	for (const [i, id] of ids.entries()) {
		newAsset({site, id, fileName: `photo-${i}.jpg`, altText: i % 4 === 0 ? null : i % 4 === 1 ? 'image' : `Photo ${i} of the catalogue`});
	}

	const components = Array.from({length: COMPONENTS}, (_, c) => addComponent(site, {
		name: `Block ${c}`,
		nodes: [imageNode(`${label}/component/${c}/image`, {assetId: ids[c]}), textNode(`${label}/component/${c}/text`, 'Text')],
		properties: [{propertyId: nodeId(`${label}/component/${c}/alt`), type: 'Alt Text', label: 'Alt', text: new Map([['', `Block ${c}`]])}],
	}));
	const perPage = IMAGE_NODES / PAGES;
	for (let p = 0; p < PAGES; p++) {
		const nodes: SandboxNode[] = [];
		for (let n = 0; n < perPage; n++) {
			const k = p * perPage + n;
			const assetId = ids[k % ASSETS];
			nodes.push(textNode(`${label}/page/${p}/text/${n}`, `Paragraph ${n}`), imageNode(`${label}/page/${p}/image/${n}`, k % 3 === 0 ? {assetId, alt: `Own words for image ${k}`} : {assetId}));
		}

		const component = components[p % COMPONENTS];
		if (component) {
			nodes.push({id: nodeId(`${label}/page/${p}/instance`), type: 'component-instance', componentId: component.id, overrides: []});
		}

		addPage(site, {slug: `page-${p}`, title: `Page ${p}`, nodes});
	}

	return site;
}

/** The audit of `bigSite` (plus whatever `extend` adds, CMS images say) on 60 requests per 6 s. */
export async function auditBench({extend, what}: {extend?: (site: SandboxSite) => void; what?: string} = {}): Promise<BenchRow> {
	const limit = {count: 60, windowMs: 6000};
	const dir = await mkdtemp(join(tmpdir(), 'altbatch-bench-audit-'));
	const site = bigSite('bench-audit');
	// 2,000 CMS images: 100 published items, each a MultiImage gallery of 20.
	addGalleryCollection({site, label: 'Gallery', items: 100, images: 20});
	extend?.(site);
	const sandbox = new Sandbox({sites: [site], rate: limit, tokens: [{token: 'bench', reportedRateLimit: 600}]});
	const url = await sandbox.listen();
	const config: AuditConfig = {
		apiBase: url, token: 'bench', rate: undefined, concurrency: DEFAULTS.concurrency, timeoutMs: DEFAULTS.timeoutMs, maxAttempts: DEFAULTS.maxAttempts,
		backoffBaseMs: DEFAULTS.backoffBaseMs, maxWaitMs: DEFAULTS.maxWaitMs, site: site.id, locales: [], out: join(dir, 'audit.csv'), report: undefined, compare: undefined,
	};
	try {
		const summary = await audit(config, {logger: silentLogger()});
		const reads = summary.sites[site.id]?.reads;
		const need = (Math.ceil(summary.requests / limit.count) - 1) * limit.windowMs / 1000;
		const atMinute = (perMinute: number) => `${Math.ceil(summary.requests / perMinute)} min`;
		return {
			case: `audit: ${PAGES} pages, ${IMAGE_NODES} image nodes, ${COMPONENTS} components, 2000 CMS images${what ?? ''}`,
			places: summary.places,
			requests: summary.requests,
			'by kind': reads ? `introspect ${reads.introspect}, assets ${reads.assets}, page lists ${reads.pages}, DOM ${reads.dom}, components ${reads.components}, CMS ${reads.cms}` : '',
			'ours s (60/6s)': summary.elapsedSeconds,
			'windows need s': need,
			'429s': sandbox.requests.filter(request => request.status === 429).length,
			'at 60/min': atMinute(60),
			'at 120/min': atMinute(120),
		};
	} finally {
		await sandbox.close();
		await rm(dir, {recursive: true, force: true});
	}
}

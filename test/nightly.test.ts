import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
// js-yaml: a devDependency of its own (the workflow file is YAML; parsing it by hand would be a YAML parser of our own).
import {load} from 'js-yaml';
import {describe, expect, it} from 'vitest';
import {objectId} from '../src/sandbox/state.js';
import {assetIds, CLI, makeSite, patchesSent, results, startSandbox, tempDir, writeCsv} from './helpers.js';

const WORKFLOW = fileURLToPath(new URL('../examples/nightly.yml', import.meta.url));

type Step = {name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; 'continue-on-error'?: unknown};
type Workflow = {on: {schedule: Array<{cron: string}>}; jobs: Record<string, {env: Record<string, string>; steps: Step[]; 'continue-on-error'?: unknown}>};

async function workflow(): Promise<Workflow> {
	return load(await readFile(WORKFLOW, 'utf8')) as Workflow;
}

/** A step's script as GitHub runs it (bash -e -o pipefail), with `npx altbatch` our built CLI against the sandbox. */
async function runStep(script: string, {cwd, env, apiBase}: {cwd: string; env: Record<string, string>; apiBase: string}): Promise<number> {
	const local = script.split('\n').map(line => line.includes('npx altbatch') ? `${line.replace('npx altbatch', `"${process.execPath}" "${CLI}"`)} --api-base ${apiBase}` : line).join('\n');
	return new Promise(resolve => {
		execFile('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', local], {cwd, env: {PATH: process.env.PATH ?? '', HOME: cwd, ...env}, timeout: 240_000}, error => {
			resolve(error ? (typeof error.code === 'number' ? error.code : 99) : 0);
		});
	});
}

describe('the nightly recipe (examples/nightly.yml)', () => {
	it('is a scheduled workflow: token from a secret, the ledger restored and kept, artifacts kept even when the job fails', async () => {
		const flow = await workflow();
		expect(flow.on.schedule[0]?.cron).toMatch(/^(\S+\s+){4}\S+$/);
		const job = Object.values(flow.jobs)[0]!;
		expect(job.env.WEBFLOW_TOKEN).toBe('${{ secrets.WEBFLOW_TOKEN }}');
		expect(job.env.ALTBATCH_LEDGER).toBeDefined();
		expect(job['continue-on-error']).toBeUndefined();
		for (const step of job.steps) {
			expect(step['continue-on-error'], step.name).toBeUndefined();
			// The token never appears on a command line.
			expect(step.run ?? '').not.toMatch(/--token\b|secrets\./);
		}

		const upload = job.steps.find(step => step.uses?.startsWith('actions/upload-artifact'));
		expect(upload?.if).toBe('always()');
		expect(String(upload?.with?.path)).toContain('ledger/');
		expect(String(upload?.with?.path)).toContain('results/');
		const altbatch = job.steps.filter(step => step.run?.includes('npx altbatch run'));
		expect(altbatch.length).toBeGreaterThanOrEqual(2);
		expect(job.steps.indexOf(upload!)).toBeGreaterThan(job.steps.indexOf(altbatch.at(-1)!));
	});

	it('its altbatch commands run against the sandbox: a good night exits 0 with results, report and summary; a failing row fails the job', {timeout: 600_000}, async () => {
		const flow = await workflow();
		const job = Object.values(flow.jobs)[0]!;
		const steps = job.steps.filter(step => step.run?.includes('npx altbatch'));
		const site = makeSite({label: 'nightly-recipe', count: 6});
		const ids = assetIds(site);
		site.assets.get(ids[0]!)!.altText.set(site.primaryLocale, 'An editor wrote this');
		const sandbox = await startSandbox({sites: [site], rate: {count: 2000, windowMs: 1000}});
		const dir = await tempDir();
		await mkdir(join(dir, 'alt-text'));
		await writeCsv(join(dir, 'alt-text', 'nightly.csv'), [['assetId', 'altText'], ...ids.map((id, i) => [id, `Nightly alt ${i}`])]);
		const env = {WEBFLOW_TOKEN: 'sandbox-token', SITE: site.id, ALTBATCH_LEDGER: join(dir, 'ledger')};
		for (const step of steps) {
			expect(await runStep(step.run!, {cwd: dir, env, apiBase: sandbox.url}), step.name).toBe(0);
		}

		expect(patchesSent(sandbox)).toHaveLength(5);
		expect(sandbox.asset(ids[0]!)!.altText.get(site.primaryLocale)).toBe('An editor wrote this');
		const summary = JSON.parse(await readFile(join(dir, 'results', 'summary.json'), 'utf8')) as {statuses: Record<string, number>};
		expect(summary.statuses).toMatchObject({updated: 5, skipped: 1});
		expect((await results(join(dir, 'results', 'nightly.results.csv'))).map(r => r.status)).toEqual(['skipped', 'updated', 'updated', 'updated', 'updated', 'updated']);
		expect(existsSync(join(dir, 'results', 'nightly.html'))).toBe(true);
		expect(existsSync(join(dir, 'results', 'nightly.log'))).toBe(true);

		// The next night the sheet holds an id the site does not have: that row fails, and so does the job.
		await writeCsv(join(dir, 'alt-text', 'nightly.csv'), [['assetId', 'altText'], [objectId('nightly-recipe/gone'), 'Gone'], [ids[1]!, 'Nightly alt 1']]);
		const codes = [];
		for (const step of steps) {
			codes.push(await runStep(step.run!, {cwd: dir, env, apiBase: sandbox.url}));
		}

		expect(codes.at(-1)).toBe(1);
		expect((await results(join(dir, 'results', 'nightly.results.csv'))).map(r => [r.status, r.error_code])).toEqual([['failed', 'not_in_site'], ['unchanged', '']]);
	});
});

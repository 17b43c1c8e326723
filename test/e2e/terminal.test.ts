import {execFile} from 'node:child_process';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';
import {assetIds, CLI, defaultTestLedger, makeSite, runCli, startSandbox, tempDir, writeCsv} from '../helpers.js';

const TOKEN = 'wf-terminal-token-1a2b3c';
const COLOUR = /\u001B\[\d+(?:;\d+)*m/;

/** A run of 20 rows whose 11th row is answered 429 (Retry-After 1 s) once: a pause while the progress line shows. */
async function pausedJob(label: string): Promise<{input: string; apiBase: string}> {
	const site = makeSite({label, count: 20});
	const sandbox = await startSandbox({sites: [site], tokens: [{token: TOKEN}], rate: {count: 50, windowMs: 1000}});
	sandbox.failNextFor(assetIds(site)[10]!, 'limited');
	const dir = await tempDir();
	const input = await writeCsv(join(dir, 'jobs.csv'), [['assetId', 'altText'], ...assetIds(site).map((id, i) => [id, `alt ${i}`])]);
	return {input, apiBase: sandbox.url};
}

/** The CLI on a pseudo-terminal (`script`), as a person at a terminal runs it: everything it showed. */
async function onTerminal(args: string[], env: Record<string, string>): Promise<string> {
	const command = [process.execPath, CLI, ...args].map(word => `'${word}'`).join(' ');
	const {stdout} = await promisify(execFile)('script', ['-qefc', command, '/dev/null'], {
		env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ALTBATCH_LEDGER: defaultTestLedger(), WEBFLOW_TOKEN: TOKEN, ...env},
	});
	return stdout;
}

describe('output on a terminal and off it', () => {
	it('on a terminal shows logs as readable lines above the progress line, in colour when the terminal has it, and never JSON', async () => {
		const {input, apiBase} = await pausedJob('tty-colour');
		const shown = await onTerminal(['run', input, '--api-base', apiBase], {TERM: 'xterm-256color'});
		expect(shown).toMatch(/INFO.*: .*rate limit hit: every request paused/);
		expect(shown).toMatch(/\d+\/20 rows, \d+\/min/);
		expect(shown).toContain('20 rows in');
		expect(shown).toMatch(COLOUR);
		expect(shown).not.toContain('{"level"');
		expect(shown).not.toContain(TOKEN);
	});

	it('on a terminal without colours (NO_COLOR) writes the same lines uncoloured', async () => {
		const {input, apiBase} = await pausedJob('tty-plain');
		const shown = await onTerminal(['run', input, '--api-base', apiBase], {TERM: 'xterm-256color', NO_COLOR: '1'});
		expect(shown).toMatch(/INFO: rate limit hit: every request paused/);
		// The progress line is cleared for the log line and drawn again under it.
		expect(shown).toMatch(/\d+\/20 rows[^\n]*\r\u001B\[2K\[\d\d:\d\d:\d\d\] INFO: rate limit hit[^\n]*\n\d+\/20 rows/);
		expect(shown).toMatch(/\d+\/20 rows/);
		expect(shown).not.toMatch(COLOUR);
		expect(shown).not.toContain('{"level"');
	});

	it('--quiet on a terminal shows only the summary', async () => {
		const {input, apiBase} = await pausedJob('tty-quiet');
		const shown = await onTerminal(['run', input, '--api-base', apiBase, '--quiet'], {TERM: 'dumb'});
		expect(shown).toContain('20 rows in');
		expect(shown).not.toContain('INFO');
		expect(shown).not.toMatch(/\/20 rows/);
	});

	it('off a terminal writes NDJSON logs with level and msg on stderr, and no progress line', async () => {
		const {input, apiBase} = await pausedJob('pipe');
		const {code, stderr} = await runCli(['run', input, '--api-base', apiBase], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(code).toBe(0);
		const logs = stderr.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as {level: number; msg: string});
		expect(logs.length).toBeGreaterThan(2);
		expect(logs.every(log => typeof log.level === 'number' && typeof log.msg === 'string')).toBe(true);
		expect(logs.map(log => log.msg)).toContain('rate limit hit: every request paused');
		expect(stderr).not.toMatch(/\/20 rows/);
		expect(stderr).toContain('20 rows in');
	});

	it('--quiet off a terminal (cron) writes only the summary on stderr, no info logs', async () => {
		const {input, apiBase} = await pausedJob('pipe-quiet');
		const {code, stderr} = await runCli(['run', input, '--api-base', apiBase, '--quiet'], {env: {WEBFLOW_TOKEN: TOKEN}});
		expect(code).toBe(0);
		expect(stderr).not.toContain('{"level"');
		expect(stderr).toMatch(/^20 rows in/);
	});
});

import {spawn} from 'node:child_process';
import {copyFile, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {createLogger} from '../src/logger.js';
import {CLI, spawnCli, tempDir, until} from './helpers.js';

/**
 * The README's own examples, run. A fenced block right after a `<!-- doctest -->` line is run
 * command by command, in order, all tagged blocks in one folder (with `jobs.example.csv` copied in):
 * - `altbatch …` (or `npx altbatch …`) runs the built CLI; `export NAME=value` sets a variable for
 *   the commands after it; `altbatch sandbox --port 8787` is started and left serving (as in a
 *   terminal of its own), and every `http://127.0.0.1:8787` then means that sandbox, wherever its
 *   port really is.
 * - `# ` lines right after a command (no blank line between) are what it shows: each must be a line
 *   of its output (stdout and stderr, trimmed), `…` standing for any text. `# (exit N…)` is its exit
 *   code, 0 when none is shown. Other comments (after a blank line, or first in a block) are prose.
 */
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const EXAMPLE_JOBS = fileURLToPath(new URL('../jobs.example.csv', import.meta.url));
const TAG = '<!-- doctest -->';
const SANDBOX_URL = 'http://127.0.0.1:8787';

type Step = {readonly line: number; readonly command: string; readonly shows: string[]};

/** The tagged blocks' steps, in README order, with their line numbers (for the failure message). */
function doctestSteps(markdown: string): Step[] {
	const lines = markdown.split('\n');
	const steps: Step[] = [];
	for (let i = 0; i < lines.length; i++) {
		if (lines[i]!.trim() !== TAG || !lines[i + 1]?.startsWith('```')) {
			continue;
		}

		let current: Step | undefined;
		for (i += 2; i < lines.length && !lines[i]!.startsWith('```'); i++) {
			const text = lines[i]!.trim();
			if (text === '') {
				current = undefined;
			} else if (text.startsWith('#')) {
				current?.shows.push(text.replace(/^#\s?/, '').trim());
			} else {
				current = {line: i + 1, command: text, shows: []};
				steps.push(current);
			}
		}
	}

	return steps;
}

/** A shown line as a pattern: the line whole, `…` for any text. */
function shownPattern(shown: string): RegExp {
	return new RegExp(`^${shown.split('…').map(part => part.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function expectShown(step: Step, output: string, code: number | null): void {
	const lines = output.split('\n').map(line => line.trim());
	const exit = step.shows.map(shown => /^\(exit (\d+)/.exec(shown)?.[1]).find(Boolean);
	expect({line: step.line, command: step.command, code}).toEqual({line: step.line, command: step.command, code: Number(exit ?? 0)});
	for (const shown of step.shows.filter(shown => !shown.startsWith('(exit'))) {
		const pattern = shownPattern(shown);
		const found = lines.some(line => pattern.test(line));
		expect({line: step.line, shown, found, output: found ? '' : output}).toEqual({line: step.line, shown, found: true, output: ''});
	}
}

async function bash(command: string, {cwd, env}: {cwd: string; env: Record<string, string>}): Promise<{code: number | null; output: string}> {
	const child = spawn('bash', ['-c', command], {cwd, env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env}, stdio: ['ignore', 'pipe', 'pipe']});
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	child.stderr.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	const code = await new Promise<number | null>(resolve => {
		child.on('close', resolve);
	});
	return {code, output};
}

describe('the README\'s examples do what it shows', () => {
	it('finds its tagged blocks', async () => {
		const steps = doctestSteps(await readFile(README, 'utf8'));
		expect(steps.filter(step => / sandbox /.test(` ${step.command} `))).toHaveLength(1);
		expect(steps.length).toBeGreaterThanOrEqual(6);
		expect(steps.filter(step => step.shows.length > 0).length).toBeGreaterThanOrEqual(4);
	});

	it('uses the installed command in its examples, never npx altbatch (outside the clone npx fetches a registry\'s package)', async () => {
		const examples = (await readFile(README, 'utf8')).split('\n').filter(line => /^\s*npx altbatch\b/.test(line) || /\(`npx altbatch \w/.test(line));
		expect(examples).toEqual([]);
	});

	it('shows a terminal\'s log line as the terminal shows it', async () => {
		const shown = /logs are readable lines \(`([^`]*? INFO: )/.exec(await readFile(README, 'utf8'))?.[1];
		const lines: string[] = [];
		createLogger({level: 'info', pretty: {colorize: false, write: line => lines.push(line)}}).info('rate limit hit: every request paused');
		const digits = (text: string) => text.replaceAll(/\d/g, '0');
		expect(digits(lines[0] ?? '')).toMatch(new RegExp(`^${digits(shown ?? 'not shown').replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
	});

	it('runs every tagged command against the sandbox and finds the output it shows', async () => {
		const steps = doctestSteps(await readFile(README, 'utf8'));
		const dir = await tempDir();
		await copyFile(EXAMPLE_JOBS, join(dir, 'jobs.example.csv'));
		const env: Record<string, string> = {};
		let sandboxUrl: string | undefined;
		for (const step of steps) {
			const exported = /^export (\w+)=(\S*)$/.exec(step.command);
			if (exported) {
				env[exported[1]!] = exported[2]!;
				continue;
			}

			const args = /^(?:npx )?altbatch (.*)$/.exec(step.command)?.[1];
			expect({line: step.line, command: step.command, runsTheTool: args !== undefined}).toMatchObject({runsTheTool: true});
			if (args!.startsWith('sandbox ')) {
				// Serves until stopped, as in a terminal of its own: started, its banner checked, left running.
				const words = args!.replace('--port 8787', '--port 0').split(' ');
				const {child} = spawnCli(words, {cwd: dir, env});
				let banner = '';
				child.stdout!.on('data', (chunk: Buffer) => {
					banner += chunk.toString();
				});
				await until(() => banner.includes('Site:'));
				await new Promise(resolve => setTimeout(resolve, 100));
				sandboxUrl = /Sandbox: (\S+)/.exec(banner)![1];
				expectShown(step, banner.replaceAll(sandboxUrl!, SANDBOX_URL), 0);
				continue;
			}

			const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ${sandboxUrl ? args!.replaceAll(SANDBOX_URL, sandboxUrl) : args!}`;
			const {code, output} = await bash(command, {cwd: dir, env});
			expectShown(step, sandboxUrl ? output.replaceAll(sandboxUrl, SANDBOX_URL) : output, code);
		}
	}, 120_000);
});

import {execFileSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {completionScript} from '../../src/cli/completion.js';
import {formatHelp} from '../../src/cli/help.js';
import {COMMANDS, OPTIONS} from '../../src/cli/options.js';
import {runCli} from '../helpers.js';

const optionsIn = (text: string) => new Set(text.match(/(?<=^\s+)--[a-z-]+/gm));

/** What bash offers after `altbatch <words…>`, from the script `altbatch completion bash` prints. */
function bashCompletes(words: string[]): string[] {
	const script = completionScript('bash');
	const line = ['altbatch', ...words].map(word => `'${word}'`).join(' ');
	const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length}; _altbatch; printf '%s\\n' "\${COMPREPLY[@]}"`], {encoding: 'utf8'});
	return out.split('\n').filter(Boolean).sort();
}

describe('help and shell completion', () => {
	it('--help lists every command and every option of the table', async () => {
		const {code, stdout} = await runCli(['--help']);
		expect(code).toBe(0);
		for (const command of COMMANDS) {
			expect(stdout).toContain(`altbatch ${command.name}`);
		}

		for (const option of OPTIONS.filter(o => !o.hidden && o.name !== 'help')) {
			expect(stdout).toMatch(new RegExp(`^  --${option.name}\\b`, 'm'));
		}
	});

	it('<command> --help shows that command\'s options and no other command\'s', async () => {
		const run = await runCli(['run', '--help']);
		expect(run.code).toBe(0);
		expect(run.stdout).toMatch(/^Usage: altbatch run <jobs.csv>/);
		expect(optionsIn(run.stdout)).toContain('--concurrency');
		expect(optionsIn(run.stdout)).toContain('--quiet');
		expect(optionsIn(run.stdout)).not.toContain('--port');
		expect(optionsIn(run.stdout)).not.toContain('--token');
		const sandbox = await runCli(['sandbox', '--help']);
		expect(optionsIn(sandbox.stdout)).toEqual(new Set(['--port', '--host', '--token', '--tokens', '--seed', '--rate', '--window', '--faults']));
		expect((await runCli(['help', 'export'])).stdout).toBe((await runCli(['export', '-h'])).stdout);
	});

	it('completes in bash every option that --help shows, per command, and the values it knows', () => {
		for (const command of COMMANDS) {
			const listed = [...optionsIn(formatHelp(command.name)), '--help'].sort();
			expect(bashCompletes([command.name, '--']), command.name).toEqual(listed);
		}

		expect(bashCompletes(['r'])).toEqual(['run']);
		expect(bashCompletes(['run', '--log-level', 'd'])).toEqual(['debug']);
		expect(bashCompletes(['sandbox', '--window', ''])).toEqual(['fixed', 'sliding']);
		expect(bashCompletes(['completion', ''])).toEqual(['bash', 'zsh']);
	});

	it('the zsh script names every option --help shows, under its command', async () => {
		const script = (await runCli(['completion', 'zsh'])).stdout;
		expect(script).toMatch(/^#compdef altbatch/);
		expect(script).toBe(completionScript('zsh'));
		for (const command of COMMANDS) {
			const section = script.slice(script.indexOf(`\t\t${command.name}) `), script.indexOf(' ;;', script.indexOf(`\t\t${command.name}) `)));
			for (const option of optionsIn(formatHelp(command.name))) {
				expect(section, `${command.name} ${option}`).toMatch(new RegExp(`'\\*?${option}\\[`));
			}
		}
	});
});

#!/usr/bin/env node
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {audit, auditFiles, type AuditConfig} from './commands/audit/audit.js';
import {formatAuditSummary} from './commands/audit/report.js';
import {hostname} from 'node:os';
import {completionScript} from './cli/completion.js';
import type {SandboxConfig} from './cli/command-config.js';
import {parseCommandLine, type OutputConfig} from './cli/command-line.js';
import type {RunConfig} from './cli/config.js';
import {demo} from './commands/demo.js';
import {AltbatchError} from './errors.js';
import {exportFiles, exportSite, type ExportConfig} from './commands/export.js';
import {formatHelp} from './cli/help.js';
import {formatHistory, history} from './commands/history.js';
import {lockResults} from './files/lock.js';
import {createLogger, type Logger} from './logger.js';
import {assertFilesSafe} from './files/paths.js';
import {PROBLEM_STATUSES} from './rows/result.js';
import {run, runFiles, type Progress, type StopReason, type Summary} from './commands/run.js';
import {loadSeed} from './sandbox/seed.js';
import {Sandbox, siteTokens} from './sandbox/server.js';
import {formatExportSummary, formatProgress, formatSummary} from './report/format.js';
import {undo} from './commands/undo.js';

const version = () => (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version;

/** The one map from how a command ended to its exit code (README, "Exit codes"). */
function exitCode(outcome: {stopped: {reason: StopReason} | undefined; rowsNotFine?: number; sitesStopped?: number; reportNotWritten?: boolean} | {error: unknown}): number {
	if ('error' in outcome) {
		const kind = outcome.error instanceof AltbatchError ? outcome.error.kind : 'internal';
		return {usage: 2, input: 2, stop: 3, internal: 1}[kind];
	}

	if (outcome.stopped) {
		return outcome.stopped.reason === 'interrupted' ? 130 : 3;
	}

	// 1 for rows not done; for a site not exported while the others were (as a run's refused token);
	// and for a report not written, in a run otherwise fine (a script that mails it must not take 0 for "it is there").
	return (outcome.rowsNotFine ?? 0) > 0 || (outcome.sitesStopped ?? 0) > 0 || outcome.reportNotWritten === true ? 1 : 0;
}

const rowsNotFine = (summary: Summary) => PROBLEM_STATUSES.reduce((sum, status) => sum + summary.statuses[status], 0);

/**
 * stderr as people see it. On a terminal, a progress line stays at the bottom: log lines and
 * messages are printed above it (the line cleared, the text written, the line drawn again).
 */
function stderrView({progress}: {progress: boolean}) {
	const tty = process.stderr.isTTY === true;
	const clearLine = '\r\u001B[2K';
	let line = '';
	let last = 0;
	return {
		tty,
		print(text: string) {
			process.stderr.write(line === '' ? text : `${clearLine}${text}${line}`);
		},
		onProgress: tty && progress ? (state: Progress) => {
			const now = Date.now();
			if (now - last >= 250 || state.done === state.total) {
				last = now;
				line = formatProgress(state, now);
				process.stderr.write(`${clearLine}${line}`);
			}
		} : undefined,
		clear() {
			if (line !== '') {
				process.stderr.write(clearLine);
				line = '';
			}
		},
	};
}

type View = ReturnType<typeof stderrView>;

/** NDJSON off a terminal and always in a `--log-file`; readable lines on a terminal, coloured when it has colours. */
function loggerFor(output: Pick<OutputConfig, 'logLevel' | 'logFile'>, view: View): Logger {
	const pretty = view.tty ? {colorize: process.stderr.hasColors(), write: view.print} : undefined;
	return createLogger({level: output.logLevel, file: output.logFile, pretty});
}

/** The signals that stop a run: Ctrl-C, `kill`, and a terminal (or SSH session) that went away. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Ctrl-C once: stop taking rows, let requests in flight finish. Twice: cancel them too. */
function watchSignals(view: View): {interrupt: AbortController; abort: AbortController; dispose: () => void} {
	const interrupt = new AbortController();
	const abort = new AbortController();
	const onSignal = (signal: NodeJS.Signals) => {
		if (interrupt.signal.aborted) {
			abort.abort();
			return;
		}

		interrupt.abort();
		if (signal !== 'SIGHUP') {
			view.print('\nStopping: finishing the requests in flight and writing every row (Ctrl-C again to cancel them)…\n');
		}
	};

	for (const signal of STOP_SIGNALS) {
		process.on(signal, onSignal);
	}

	return {
		interrupt,
		abort,
		dispose() {
			for (const signal of STOP_SIGNALS) {
				process.off(signal, onSignal);
			}
		},
	};
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function printJson(value: unknown): void {
	process.stdout.write(`${JSON.stringify(value, undefined, 2)}\n`);
}

/** `run`, and `undo` (which runs the same way, from a results file). */
async function commandRun(config: RunConfig, output: OutputConfig, go: typeof run = run): Promise<number> {
	// Before the log file is opened or the lock taken: either could land on another of the run's files.
	assertFilesSafe([...runFiles(config), {role: '--log-file', path: output.logFile, use: 'log'}]);
	const view = stderrView({progress: !output.quiet});
	const logger = loggerFor(output, view);
	const unlock = lockResults({out: config.out, pid: process.pid, isAlive});
	const signals = watchSignals(view);
	try {
		const summary = await go(config, {logger, interrupt: signals.interrupt.signal, abort: signals.abort.signal, onProgress: view.onProgress, command: process.argv.slice(2), pid: process.pid, isAlive});
		view.clear();
		process.stderr.write(`${formatSummary(summary)}\n`);
		if (output.json) {
			printJson(summary);
		}

		return exitCode({stopped: summary.stopped, rowsNotFine: rowsNotFine(summary), reportNotWritten: summary.report?.written === false});
	} finally {
		view.clear();
		signals.dispose();
		unlock();
	}
}

async function commandExport(config: ExportConfig, output: OutputConfig): Promise<number> {
	// Checked before the first request: a typo in a path costs nothing.
	assertFilesSafe([...exportFiles(config), {role: '--log-file', path: output.logFile, use: 'log'}]);
	const view = stderrView({progress: false});
	const logger = loggerFor(output, view);
	const unlock = lockResults({out: config.out, pid: process.pid, isAlive});
	const signals = watchSignals(view);
	try {
		const summary = await exportSite(config, {logger, interrupt: signals.interrupt.signal});
		process.stderr.write(`${formatExportSummary(summary)}\n`);
		if (output.json) {
			printJson(summary);
		}

		return exitCode({stopped: summary.stopped, sitesStopped: Object.values(summary.sites ?? {}).filter(site => site.stopped).length});
	} finally {
		signals.dispose();
		unlock();
	}
}

/** `altbatch audit`: 0 no problem (with --compare: none new), 1 problems (new ones) or a part not audited, 3 stopped. */
async function commandAudit(config: AuditConfig, output: OutputConfig): Promise<number> {
	assertFilesSafe([...auditFiles(config), {role: '--log-file', path: output.logFile, use: 'log'}]);
	const view = stderrView({progress: false});
	const logger = loggerFor(output, view);
	const unlock = lockResults({out: config.out, pid: process.pid, isAlive});
	const signals = watchSignals(view);
	try {
		const summary = await audit(config, {logger, interrupt: signals.interrupt.signal});
		process.stderr.write(`${formatAuditSummary(summary)}\n`);
		if (output.json) {
			printJson(summary);
		}

		const sites = Object.values(summary.sites);
		const partial = sites.some(site => site.stopped !== undefined || site.unread.length > 0);
		const open = summary.compare ? summary.compare.new : summary.places - summary.covered;
		return exitCode({stopped: summary.stopped, rowsNotFine: open, sitesStopped: partial ? 1 : 0, reportNotWritten: summary.report?.written === false});
	} finally {
		signals.dispose();
		unlock();
	}
}

async function commandSandbox(config: SandboxConfig): Promise<number> {
	const sites = config.seed === undefined ? undefined : await loadSeed(config.seed);
	const {port, host, token, tokens, rate, window, faults} = config;
	const sandbox = new Sandbox({port, host, tokens: [...token === undefined ? [] : [{token}], ...siteTokens(tokens ?? [])], rate, window, sites, faults});
	const url = await sandbox.listen();
	process.stdout.write(`Sandbox: ${url}\n${token === undefined ? '' : `Token: ${token}\n`}`);
	for (const site of sandbox.sites.values()) {
		process.stdout.write(`Site: ${site.id} (${site.assets.size} assets; locales: ${[site.primaryLocale, ...site.secondaryLocales].join(', ')})\n`);
	}

	await Promise.race(STOP_SIGNALS.map(async signal => once(process, signal)));
	await sandbox.close();
	return 0;
}

async function commandDemo(): Promise<number> {
	const view = stderrView({progress: false});
	const logger = loggerFor({logLevel: 'warn', logFile: undefined}, view);
	const out = 'jobs.example.results.csv';
	const signals = watchSignals(view);
	try {
		const {steps, audit: audited, sandbox} = await demo({logger, out, interrupt: signals.interrupt.signal});
		process.stderr.write(`The example job (jobs.example.csv) against the built-in sandbox at ${sandbox}\n`);
		for (const step of steps) {
			process.stderr.write(`\n== ${step.title}\n$ ${step.command}\n${formatSummary(step.summary)}\n`);
			for (const line of step.details ?? []) {
				process.stderr.write(`  ${line}\n`);
			}
		}

		if (audited) {
			process.stderr.write(`\n== ${audited.title}\n$ ${audited.command}\n${formatAuditSummary(audited.summary)}\n`);
		}

		const stopped = steps.find(step => step.summary.stopped);
		return stopped ? exitCode({stopped: stopped.summary.stopped, rowsNotFine: rowsNotFine(stopped.summary)}) : 0;
	} finally {
		signals.dispose();
	}
}

async function main(argv: string[]): Promise<number> {
	const invocation = parseCommandLine(argv, process.env);
	switch (invocation.command) {
		case 'help': {
			process.stdout.write(`${formatHelp(invocation.topic)}\n`);
			return invocation.asked ? 0 : 2;
		}

		case 'version': {
			process.stdout.write(`${version()}\n`);
			return 0;
		}

		case 'completion': {
			process.stdout.write(completionScript(invocation.shell));
			return 0;
		}

		case 'run': {
			return commandRun(invocation.config, invocation.output);
		}

		case 'export': {
			return commandExport(invocation.config, invocation.output);
		}

		case 'undo': {
			return commandRun(invocation.config, invocation.output, undo);
		}

		case 'audit': {
			return commandAudit(invocation.config, invocation.output);
		}

		case 'history': {
			const entries = history(invocation.config, {isAlive, host: hostname()});
			process.stdout.write(invocation.json ? `${JSON.stringify(entries, undefined, 2)}\n` : `${formatHistory(entries, invocation.config.ledger)}\n`);
			return 0;
		}

		case 'sandbox': {
			return commandSandbox(invocation.config);
		}

		case 'demo': {
			return commandDemo();
		}
	}
}

// A reader that went away (`| head`, a closed terminal) must not crash a run before its rows are written.
for (const stream of [process.stdout, process.stderr]) {
	stream.on('error', () => undefined);
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	const code = error instanceof AltbatchError ? ` [${error.code}]` : '';
	process.stderr.write(`altbatch: ${error instanceof Error ? error.message : String(error)}${code}\n`);
	process.exitCode = exitCode({error});
}

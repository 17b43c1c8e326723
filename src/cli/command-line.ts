import {UsageError} from '../errors.js';
import type {AuditConfig} from '../commands/audit/audit.js';
import type {ExportConfig} from '../commands/export.js';
import type {HistoryConfig} from '../commands/history.js';
import {auditConfig, exportConfig, ledgerFolder, runConfig, sandboxConfig, undoConfig, type SandboxConfig} from './command-config.js';
import type {RunConfig} from './config.js';
import {isCommand, noPositionals, parseOptions, reader, type Environment, type Flags} from './flags.js';
import {DEFAULTS, LOG_LEVELS, type CommandName, type LogLevel} from './options.js';
import {parseLogLevel, parseSiteId} from './values.js';

/** How a command talks to the person running it; `cli.ts` applies it. */
export type OutputConfig = {
	/** `--json`: the summary as JSON on stdout. */
	readonly json: boolean;
	/** `--quiet`: on stderr only the summary and errors. */
	readonly quiet: boolean;
	/** @default 'info' */
	readonly logLevel: LogLevel;
	/** `--log-file`: NDJSON logs there instead of stderr. */
	readonly logFile: string | undefined;
};

/** What the command line asks for, checked whole: nothing has been sent or written yet. */
export type Invocation =
	| {readonly command: 'help'; readonly topic: CommandName | undefined; readonly asked: boolean}
	| {readonly command: 'version'}
	| {readonly command: 'run'; readonly config: RunConfig; readonly output: OutputConfig}
	| {readonly command: 'export'; readonly config: ExportConfig; readonly output: OutputConfig}
	| {readonly command: 'undo'; readonly config: RunConfig; readonly output: OutputConfig}
	| {readonly command: 'audit'; readonly config: AuditConfig; readonly output: OutputConfig}
	| {readonly command: 'history'; readonly config: HistoryConfig; readonly json: boolean}
	| {readonly command: 'sandbox'; readonly config: SandboxConfig}
	| {readonly command: 'demo'}
	| {readonly command: 'completion'; readonly shell: 'bash' | 'zsh'};

/** argv (without node and the script), the environment and the files they name → what to do. */
export function parseCommandLine(argv: readonly string[], env: Environment): Invocation {
	const [command, ...rest] = argv;
	switch (command) {
		case undefined: {
			return {command: 'help', topic: undefined, asked: false};
		}

		case '--help':
		case '-h':
		case 'help': {
			const topic = rest[0];
			if (topic !== undefined && !isCommand(topic)) {
				throw new UsageError(`Unknown command ${JSON.stringify(topic)}; see altbatch --help`);
			}

			return {command: 'help', topic, asked: true};
		}

		case '--version':
		case '-v': {
			return {command: 'version'};
		}

		default: {
			break;
		}
	}

	if (!isCommand(command)) {
		throw new UsageError(`Unknown command ${JSON.stringify(command)}; see altbatch --help`);
	}

	const {values, positionals} = parseOptions(command, rest);
	const flags = reader(values);
	if (flags.flag('help')) {
		return {command: 'help', topic: command, asked: true};
	}

	switch (command) {
		case 'run': {
			return {command, config: runConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'export': {
			return {command, config: exportConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'undo': {
			return {command, config: undoConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'audit': {
			return {command, config: auditConfig(flags, positionals, env), output: outputConfig(flags)};
		}

		case 'history': {
			noPositionals(command, positionals);
			return {command, config: {ledger: ledgerFolder(flags, env), site: flags.read('site', parseSiteId, undefined)}, json: flags.flag('json')};
		}

		case 'sandbox': {
			noPositionals(command, positionals);
			return {command, config: sandboxConfig(flags)};
		}

		case 'demo': {
			noPositionals(command, positionals);
			return {command};
		}

		case 'completion': {
			const [shell] = positionals;
			if ((shell !== 'bash' && shell !== 'zsh') || positionals.length > 1) {
				throw new UsageError('Usage: altbatch completion bash|zsh');
			}

			return {command, shell};
		}
	}
}

/** `--quiet` keeps only errors on stderr; logs going to a `--log-file` keep their `--log-level`. */
function outputConfig(flags: Flags): OutputConfig {
	const quiet = flags.flag('quiet');
	const logFile = flags.text('log-file');
	const level = flags.read('log-level', parseLogLevel, DEFAULTS.logLevel);
	const quieter = quiet && logFile === undefined && LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf('error') && level !== 'silent';
	return {json: flags.flag('json'), quiet, logLevel: quieter ? 'error' : level, logFile};
}

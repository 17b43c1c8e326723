import {parseArgs} from 'node:util';
import {UsageError} from '../errors.js';
import {COMMANDS, optionsOf, type CommandName} from './options.js';

/** The environment variables read: `WEBFLOW_TOKEN`, `REDIS_URL`. */
export type Environment = Readonly<Record<string, string | undefined>>;

export function isCommand(name: string): name is CommandName {
	return COMMANDS.some(command => command.name === name);
}

type Values = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;

/** node:util's parseArgs over the table's rows for this command; its errors become usage errors. */
export function parseOptions(command: CommandName, args: string[]): {values: Values; positionals: string[]} {
	const options = Object.fromEntries(optionsOf(command).map(option => [option.name, {
		type: option.kind === 'flag' ? 'boolean' as const : 'string' as const,
		multiple: option.kind === 'values',
		...(option.short === undefined ? {} : {short: option.short}),
	}]));
	try {
		return parseArgs({args: withBareValues(command, args), options, allowPositionals: true, strict: true});
	} catch (error) {
		if ((error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
			throw new UsageError(`${(error as Error).message} (see altbatch ${command} --help)`);
		}

		throw error;
	}
}

/**
 * Options that may stand alone (`--refuse-warnings`) get their `bare` value unless what follows is
 * a list of their words (`--refuse-warnings alt_placeholder,alt_is_file_name`).
 */
function withBareValues(command: CommandName, args: readonly string[]): string[] {
	const bare = new Map(optionsOf(command).flatMap(option => option.bare === undefined ? [] : [[`--${option.name}` as string, {bare: option.bare, complete: option.complete}] as const]));
	const out: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const arg = args[i] ?? '';
		const option = bare.get(arg);
		if (option === undefined) {
			out.push(arg);
			continue;
		}

		const next = args[i + 1];
		const words = Array.isArray(option.complete) ? option.complete as readonly string[] : [];
		if (next !== undefined && next.split(',').every(part => words.includes(part.trim()))) {
			out.push(`${arg}=${next}`);
			i++;
		} else {
			out.push(`${arg}=${option.bare}`);
		}
	}

	return out;
}

export type Flags = ReturnType<typeof reader>;

export function reader(values: Values) {
	const text = (name: string): string | undefined => {
		const value = values[name];
		return typeof value === 'string' ? value : undefined;
	};

	return {
		text,
		flag: (name: string): boolean => values[name] === true,
		list: (name: string): string[] => (values[name] as string[] | undefined) ?? [],
		/** The option's value parsed, or `fallback` when it was not given. */
		read<T>(name: string, parse: (text: string, option: string) => T, fallback: T): T {
			const value = text(name);
			return value === undefined ? fallback : parse(value, `--${name}`);
		},
	};
}

export function noPositionals(command: CommandName, positionals: readonly string[]): void {
	if (positionals.length > 0) {
		throw new UsageError(`altbatch ${command} takes no ${JSON.stringify(positionals[0])} (see altbatch ${command} --help)`);
	}
}

/** The one file a command takes (`run <jobs.csv>`, `undo <results.csv>`), or a usage error. */
export function theInput(positionals: readonly string[], usage: string): string {
	const input = positionals[0];
	if (input === undefined || positionals.length > 1) {
		throw new UsageError(`Usage: altbatch ${usage} [options] (see altbatch ${usage.split(' ')[0] ?? ''} --help)`);
	}

	return input;
}

import {COMMANDS, optionsOf, type CommandName, type CommandSpec, type OptionSpec} from './options.js';

const WIDTH = 100;
const COLUMN = 26;

const TOKEN_NOTE = 'The token comes from WEBFLOW_TOKEN or --token-file <path>, never from a flag value.';

const EXIT_CODES = `Exit codes: 0 all rows fine · 1 some rows invalid, failed or conflict · 2 usage or input error, nothing sent ·
3 stopped early (token refused, API unreachable, Retry-After beyond --max-wait) · 130 interrupted.`;

/** The options a person can see: the table's rows, less those accepted only to be refused and `--help` itself. */
export function listedOptions(command: CommandName): OptionSpec[] {
	return optionsOf(command).filter(option => !option.hidden && option.name !== 'help');
}

function wrap(text: string, width: number): string[] {
	const lines: string[] = [];
	let line = '';
	for (const word of text.split(' ')) {
		if (line !== '' && line.length + 1 + word.length > width) {
			lines.push(line);
			line = word;
		} else {
			line = line === '' ? word : `${line} ${word}`;
		}
	}

	return [...lines, line];
}

/** `  --rate <n>/<s|min>     most requests per second or minute (default: …)`, wrapped under its column. */
function optionLines(option: OptionSpec): string[] {
	const name = `  --${option.name}${option.value === undefined ? '' : ` ${option.value}`}`;
	const text = `${option.help}${option.default === undefined ? '' : ` (default: ${option.default})`}`;
	const [first = '', ...rest] = wrap(text, WIDTH - COLUMN);
	const lines = name.length < COLUMN - 1 ? [`${name.padEnd(COLUMN)}${first}`] : [name, `${' '.repeat(COLUMN)}${first}`];
	return [...lines, ...rest.map(line => `${' '.repeat(COLUMN)}${line}`)];
}

function specOf(command: CommandName): CommandSpec {
	const spec = COMMANDS.find(c => c.name === command);
	if (spec === undefined) {
		throw new Error(`no command ${command} in the option table`);
	}

	return spec;
}

function usageLine(command: CommandName): string {
	const spec = specOf(command);
	return `altbatch ${command}${spec.usage === '' ? '' : ` ${spec.usage}`}`;
}

/** `altbatch --help` (every command and option), or `altbatch <command> --help` (that command's). */
export function formatHelp(topic?: CommandName): string {
	if (topic !== undefined) {
		const spec = specOf(topic);
		const options = listedOptions(topic);
		return [
			`Usage: ${usageLine(topic)}`,
			'',
			`${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`,
			...(options.some(option => option.name === 'token-file') ? ['', TOKEN_NOTE] : []),
			...(options.length > 0 ? ['', 'Options:', ...options.flatMap(optionLines)] : []),
			'',
			EXIT_CODES,
		].join('\n');
	}

	const usages = COMMANDS.map(spec => [usageLine(spec.name), spec.summary] as const);
	const column = Math.max(...usages.map(([usage]) => usage.length)) + 4;
	return [
		'altbatch — apply a spreadsheet of Webflow asset alt text and display names, at the rate limit',
		'',
		'Usage:',
		...usages.map(([usage, summary]) => `  ${usage.padEnd(column)}${summary}`),
		'  altbatch <command> --help',
		'  altbatch --help | --version',
		'',
		TOKEN_NOTE,
		...COMMANDS.flatMap(spec => {
			const options = listedOptions(spec.name);
			return options.length === 0 ? [] : ['', `${spec.name} options:`, ...options.flatMap(optionLines)];
		}),
		'',
		EXIT_CODES,
	].join('\n');
}

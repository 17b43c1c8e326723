import {listedOptions} from './help.js';
import {COMMANDS, type Completion, type OptionSpec} from './options.js';

/**
 * Shell completion scripts, generated from the option table that `--help` prints, so an option
 * can't be in one and not the other. `source <(altbatch completion bash)`, or put the zsh script
 * in a folder on `$fpath` as `_altbatch`.
 */
export function completionScript(shell: 'bash' | 'zsh'): string {
	return shell === 'bash' ? bash() : zsh();
}

const TOP_LEVEL = [...COMMANDS.map(command => command.name), 'help', '--help', '--version'];

const words = (list: readonly string[]) => list.join(' ');

function bashValues(complete: Completion | undefined): string {
	if (complete === 'file') {
		return 'COMPREPLY=($(compgen -f -- "$cur"))';
	}

	return complete === undefined ? 'COMPREPLY=()' : `COMPREPLY=($(compgen -W "${words(complete)}" -- "$cur"))`;
}

function bash(): string {
	const valueCases: string[] = [];
	const commandCases: string[] = [];
	for (const command of COMMANDS) {
		const options = listedOptions(command.name);
		for (const option of options.filter(o => o.kind !== 'flag')) {
			valueCases.push(`\t\t'${command.name} --${option.name}') ${bashValues(option.complete)}; return ;;`);
		}

		const positional = command.positional === undefined ? '' : `\n\t\t\t[[ "$cur" != -* ]] && { ${bashValues(command.positional)}; return; }`;
		commandCases.push(`\t\t${command.name})${positional}\n\t\t\tCOMPREPLY=($(compgen -W "${words(options.map(o => `--${o.name}`))} --help" -- "$cur")) ;;`);
	}

	return `# bash completion for altbatch: source <(altbatch completion bash)
_altbatch() {
	local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" command="\${COMP_WORDS[1]}"
	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "${words(TOP_LEVEL)}" -- "$cur"))
		return
	fi
	case "$command $prev" in
${valueCases.join('\n')}
	esac
	case "$command" in
${commandCases.join('\n')}
		help) COMPREPLY=($(compgen -W "${words(COMMANDS.map(c => c.name))}" -- "$cur")) ;;
	esac
}
complete -o filenames -F _altbatch altbatch
`;
}

/** Text inside a zsh `_arguments` spec, itself inside single quotes. */
function zshText(text: string): string {
	return text.replaceAll('\'', '\'\\\'\'').replaceAll('[', '\\[').replaceAll(']', '\\]').replaceAll(':', '\\:');
}

function zshValues(complete: Completion | undefined): string {
	if (complete === 'file') {
		return '_files';
	}

	return complete === undefined ? ' ' : `(${complete.join(' ')})`;
}

function zshOption(option: OptionSpec): string {
	const repeat = option.kind === 'values' ? '*' : '';
	const description = `[${zshText((option.help.split(/; |: | \(/)[0] ?? option.help).trim())}]`;
	const value = option.kind === 'flag' ? '' : `:${zshText(option.value ?? 'value')}:${zshValues(option.complete)}`;
	return `'${repeat}--${option.name}${description}${value}'`;
}

function zsh(): string {
	const cases = COMMANDS.map(command => {
		const specs = [...listedOptions(command.name).map(zshOption), '\'--help[show this command\\\'\'s options]\''];
		if (command.positional !== undefined) {
			specs.push(`'1:${command.name === 'run' ? 'jobs.csv' : 'argument'}:${zshValues(command.positional)}'`);
		}

		return `\t\t${command.name}) _arguments -s \\\n\t\t\t${specs.join(' \\\n\t\t\t')} ;;`;
	});
	const commands = COMMANDS.map(command => `'${command.name}:${zshText(command.summary)}'`).join(' ');
	return `#compdef altbatch
# zsh completion for altbatch: source <(altbatch completion zsh), or save as _altbatch on $fpath
_altbatch() {
	local -a commands
	commands=(${commands})
	if (( CURRENT == 2 )); then
		_describe -t commands 'altbatch command' commands
		compadd -- --help --version
		return
	fi
	local command=$words[2]
	shift words
	(( CURRENT-- ))
	case $command in
${cases.join('\n')}
		help) _describe -t commands 'altbatch command' commands ;;
	esac
}
if [[ "\${funcstack[1]}" == _altbatch ]]; then
	_altbatch "$@"
else
	compdef _altbatch altbatch
fi
`;
}

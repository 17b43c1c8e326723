import {readdirSync, readFileSync} from 'node:fs';
import {join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The modules the README's map in "Development" names: `src/x.ts` lines, and `  name.ts` lines under a `src/folder/` line. */
function mapped(readme: string): string[] {
	const development = readme.slice(readme.indexOf('## Development'));
	const start = development.indexOf('```\nsrc/');
	const block = development.slice(start + 4, development.indexOf('\n```', start + 4));
	const names: string[] = [];
	let folder: string | undefined;
	for (const line of block.split('\n')) {
		const top = /^(src\/\S+)\s/.exec(`${line} `)?.[1];
		const under = /^ {2}(\S+\.ts)\s/.exec(`${line} `)?.[1];
		if (top?.endsWith('/')) {
			folder = top;
		} else if (top === undefined && under !== undefined && folder !== undefined) {
			names.push(folder + under);
		} else {
			folder = undefined;
			if (top !== undefined) {
				names.push(top);
			}
		}
	}

	return names;
}

function modules(dir: string): string[] {
	return readdirSync(dir, {withFileTypes: true}).flatMap(entry => {
		const path = join(dir, entry.name);
		return entry.isDirectory() ? modules(path) : entry.name.endsWith('.ts') ? [relative(ROOT, path).split('\\').join('/')] : [];
	});
}

describe('the README\'s map of src/', () => {
	it('names every module once, and nothing that is not one (the map and ls src tell the same story)', () => {
		const names = mapped(readFileSync(join(ROOT, 'README.md'), 'utf8'));
		const files = modules(join(ROOT, 'src'));
		expect(names.length).toBeGreaterThan(50);
		expect({missing: files.filter(file => !names.includes(file)).sort(), gone: names.filter(name => !files.includes(name)), twice: names.filter((name, i) => names.indexOf(name) !== i)}).toEqual({missing: [], gone: [], twice: []});
	});

	it('reads folders, their modules and top-level files apart (the check itself works)', () => {
		const readme = '## Development\n\n```\nsrc/cli.ts   x\nsrc/rows/    y\n  job.ts     z\n  a/b.ts     w\nsrc/bench/bench.ts v\ntest/        u\n  not.ts     t\n```\n';
		expect(mapped(readme)).toEqual(['src/cli.ts', 'src/rows/job.ts', 'src/rows/a/b.ts', 'src/bench/bench.ts']);
	});
});

import {readdirSync, readFileSync} from 'node:fs';
import {dirname, join, normalize, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Every module of src/ with the modules of ours it imports (type imports included: they tie modules together for a reader too). */
function importGraph(): Map<string, string[]> {
	const graph = new Map<string, string[]>();
	const walk = (dir: string) => {
		for (const entry of readdirSync(dir, {withFileTypes: true})) {
			const path = join(dir, entry.name);
			if (entry.isDirectory()) {
				walk(path);
			} else if (entry.name.endsWith('.ts')) {
				const text = readFileSync(path, 'utf8');
				const imports = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)].map(match => relative(SRC, normalize(join(dirname(path), (match[1] ?? '').replace(/\.js$/, '.ts')))));
				graph.set(relative(SRC, path), imports);
			}
		}
	};

	walk(SRC);
	return graph;
}

/** The first cycle found, as a path that ends where it starts; undefined when there is none. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
	const done = new Set<string>();
	const visit = (module: string, path: string[]): string[] | undefined => {
		const at = path.indexOf(module);
		if (at >= 0) {
			return [...path.slice(at), module];
		}

		if (done.has(module)) {
			return undefined;
		}

		for (const next of graph.get(module) ?? []) {
			const cycle = visit(next, [...path, module]);
			if (cycle) {
				return cycle;
			}
		}

		done.add(module);
		return undefined;
	};

	for (const module of graph.keys()) {
		const cycle = visit(module, []);
		if (cycle) {
			return cycle;
		}
	}

	return undefined;
}

describe('how the modules of src/ depend on each other', () => {
	const graph = importGraph();

	it('has no import cycle', () => {
		expect(findCycle(graph)).toBeUndefined();
	});

	it('finds a cycle when there is one (the check itself works)', () => {
		expect(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']]]))).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
	});

	it('keeps rows/ pure: it imports only rows/ and the error types, no package and no node: module', () => {
		const rows = [...graph].filter(([module]) => module.startsWith('rows/'));
		expect(rows.length).toBeGreaterThan(0);
		const outside = rows.flatMap(([module, imports]) => imports.filter(to => !to.startsWith('rows/') && to !== 'errors.ts').map(to => `${module} → ${to}`));
		// The graph holds our own modules only: anything else (node:fs, a package) is read from the text.
		const packages = rows.flatMap(([module]) => [...readFileSync(join(SRC, module), 'utf8').matchAll(/(?:^(?:import|export)\s[^;]*?from\s+|\bimport\(\s*|\brequire\(\s*)'([^.'][^']*)'/gms)].map(match => `${module} → ${match[1] ?? ''}`));
		expect([...outside, ...packages]).toEqual([]);
	});

	it('keeps the commands on top: only cli.ts, cli/ (their configs), bench/ and commands/ themselves import commands/', () => {
		const above = (module: string) => module === 'cli.ts' || ['cli/', 'bench/', 'commands/'].some(folder => module.startsWith(folder));
		const below = [...graph].filter(([module]) => !above(module)).flatMap(([module, imports]) => imports.filter(to => to.startsWith('commands/')).map(to => `${module} → ${to}`));
		expect(below).toEqual([]);
	});

	it('keeps the command line on top: the engine, the targets and everything below import nothing from cli/ (a run\'s settings are engine/run-config.ts)', () => {
		const lower = ['engine/', 'rows/', 'schedule/', 'files/', 'ledger/', 'targets/', 'webflow/', 'sandbox/', 'report/'];
		const modules = [...graph].filter(([module]) => lower.some(folder => module.startsWith(folder)));
		expect(modules.length).toBeGreaterThan(10);
		expect(modules.flatMap(([module, imports]) => imports.filter(to => to.startsWith('cli/') || to === 'cli.ts').map(to => `${module} → ${to}`))).toEqual([]);
	});

	it('keeps report/ a reader of the run\'s data: the tally and everything below the engine import nothing from report/', () => {
		const lower = ['rows/', 'schedule/', 'files/', 'ledger/', 'targets/', 'webflow/', 'sandbox/'];
		const modules = [...graph].filter(([module]) => module === 'engine/tally.ts' || lower.some(folder => module.startsWith(folder)));
		expect(modules.length).toBeGreaterThan(1);
		expect(modules.flatMap(([module, imports]) => imports.filter(to => to.startsWith('report/')).map(to => `${module} → ${to}`))).toEqual([]);
	});

	it('keeps the summary\'s data apart from how it reads: report/format.ts is for cli.ts alone (the rest hand back data)', () => {
		expect(graph.has('report/format.ts')).toBe(true);
		const importers = [...graph].filter(([, imports]) => imports.includes('report/format.ts')).map(([module]) => module);
		expect(importers).toEqual(['cli.ts']);
	});

	it('keeps schedule/ apart from the Webflow client: retries and pacing read replies, not the client', () => {
		const client = [...graph].filter(([module]) => module.startsWith('schedule/')).flatMap(([module, imports]) => imports.filter(to => to.startsWith('webflow/')).map(to => `${module} → ${to}`));
		expect(client).toEqual([]);
	});
});

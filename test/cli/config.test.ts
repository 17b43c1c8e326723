import {homedir} from 'node:os';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {parseCommandLine, type Invocation} from '../../src/cli/command-line.js';
import {defaultRunConfig} from '../../src/cli/config.js';
import type {Environment} from '../../src/cli/flags.js';
import {parseApiBase, parseDuration, parseRate} from '../../src/cli/values.js';
import {UsageError} from '../../src/errors.js';
import {parseRetryAfter} from '../../src/webflow/client.js';
import {tempDir} from '../helpers.js';

describe('option values', () => {
	it('reads rates per second and per minute', () => {
		expect(parseRate('60/min')).toEqual({count: 60, windowMs: 60_000});
		expect(parseRate('2/s')).toEqual({count: 2, windowMs: 1000});
		expect(parseRate('50/sec')).toEqual({count: 50, windowMs: 1000});
		expect(parseRate('10/10s')).toEqual({count: 10, windowMs: 10_000});
		expect(() => parseRate('fast')).toThrow(UsageError);
		expect(() => parseRate('0/s')).toThrow(/--rate/);
		expect(() => parseRate('5/ms')).toThrow(/--rate/);
	});

	it('reads durations, a bare number as seconds', () => {
		expect(parseDuration('15min', '--max-wait')).toBe(900_000);
		expect(parseDuration('90s', '--max-wait')).toBe(90_000);
		expect(parseDuration('500ms', '--max-wait')).toBe(500);
		expect(parseDuration('2', '--max-wait')).toBe(2000);
		expect(() => parseDuration('soon', '--max-wait')).toThrow(/--max-wait/);
	});

	it('takes https anywhere and http only to this machine, without a version path', () => {
		expect(parseApiBase('https://api.webflow.com/v2/')).toBe('https://api.webflow.com');
		expect(parseApiBase('http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787');
		expect(parseApiBase('http://[::1]:8787')).toBe('http://[::1]:8787');
		expect(parseApiBase('http://localhost:9')).toBe('http://localhost:9');
		expect(() => parseApiBase('http://api.webflow.com')).toThrow(/https/);
		expect(() => parseApiBase('http://10.0.0.5:8787')).toThrow(/https/);
		expect(() => parseApiBase('https://user:secret@api.webflow.com')).toThrow(/credentials/);
	});

	it('reads Retry-After as seconds or an HTTP date', () => {
		expect(parseRetryAfter('60')).toBe(60_000);
		expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(60_000);
		expect(parseRetryAfter('soon')).toBeUndefined();
		expect(parseRetryAfter(undefined)).toBeUndefined();
	});
});

function parse(argv: string[], env: Environment = {WEBFLOW_TOKEN: 'tok'}): Invocation {
	return parseCommandLine(argv, env);
}

function runOf(invocation: Invocation) {
	if (invocation.command !== 'run') {
		throw new Error(`expected run, got ${invocation.command}`);
	}

	return invocation;
}

describe('the command line as a config', () => {
	it('gives a run with no options exactly the defaults, plus the token from the environment', () => {
		const {config, output} = runOf(parse(['run', 'jobs.csv']));
		// The CLI always names a ledger: here the default folder, HOME being unset in this environment.
		expect(config).toEqual({...defaultRunConfig('jobs.csv'), token: 'tok', ledger: join(homedir(), '.local', 'share', 'altbatch')});
		expect(config.out).toBe('jobs.results.csv');
		expect(output).toEqual({json: false, quiet: false, logLevel: 'info', logFile: undefined});
	});

	it('reads every run option into the config', async () => {
		const dir = await tempDir();
		const tokens = join(dir, 'tokens.txt');
		await writeFile(tokens, `# a comment\n\n${'a'.repeat(24)} = one\r\n${'B'.repeat(24)}=two\n`);
		const tokenFile = join(dir, 'token');
		await writeFile(tokenFile, ' from-file \n');
		const {config, output} = runOf(parse([
			'run', 'in.csv', '--out', join(dir, 'o.csv'), '--api-base', 'http://127.0.0.1:9/v2', '--rate', '2/s', '--concurrency', '3',
			'--max-attempts', '2', '--timeout', '100', '--max-wait', '90s', '--dry-run', '--resume', '--encoding', 'cp1252', '--tokens', tokens,
			'--token-file', tokenFile, '--json', '--report', 'r.html', '--redis', 'redis://127.0.0.1:1', '--log-level', 'debug', '--log-file', 'l.ndjson',
		]));
		expect(config).toMatchObject({
			out: join(dir, 'o.csv'), apiBase: 'http://127.0.0.1:9', rate: {count: 2, windowMs: 1000}, concurrency: 3, maxAttempts: 2, timeoutMs: 100,
			maxWaitMs: 90_000, dryRun: true, resume: true, encoding: 'windows-1252', token: 'from-file', report: 'r.html', redis: 'redis://127.0.0.1:1',
		});
		expect(config.tokens).toEqual(new Map([['a'.repeat(24), 'one'], ['b'.repeat(24), 'two']]));
		expect(output).toEqual({json: true, quiet: false, logLevel: 'debug', logFile: 'l.ndjson'});
	});

	it('takes REDIS_URL when --redis is not given, and refuses a URL that is not redis', () => {
		expect(runOf(parse(['run', 'j.csv'], {WEBFLOW_TOKEN: 't', REDIS_URL: 'redis://h:6379'})).config.redis).toBe('redis://h:6379');
		expect(runOf(parse(['run', 'j.csv'], {WEBFLOW_TOKEN: 't', REDIS_URL: ''})).config.redis).toBeUndefined();
		expect(() => parse(['run', 'j.csv', '--redis', 'http://h'])).toThrow(/redis:\/\//);
	});

	it('refuses options that do not go together, before anything is read or sent', () => {
		expect(() => parse(['run', 'j.csv', '--only-missing'])).toThrow(/--only-missing needs --prefetch \(every site of the file\) or --site/);
		expect(runOf(parse(['run', 'j.csv', '--only-missing', '--prefetch'], {WEBFLOW_TOKEN: 't'})).config).toMatchObject({onlyMissing: true, prefetch: true});
		expect(() => parse(['run', 'j.csv', '--prefetch'], {})).toThrow(/No token/);
		expect(() => parse(['run', 'j.csv', '--out', 'j.csv'])).toThrow(/input file itself/);
		expect(() => parse(['run', 'j.csv'], {})).toThrow(/No token/);
		expect(runOf(parse(['run', 'j.csv', '--dry-run'], {})).config.token).toBeUndefined();
		expect(() => parse(['run', 'j.csv', '--dry-run', '--site', 'a'.repeat(24)], {})).toThrow(/No token/);
		expect(() => parse(['run', 'j.csv', '--token', 'secret'])).toThrow(/--token is not accepted/);
		expect(() => parse(['export'])).toThrow(/--site/);
		expect(() => parse(['export', '--site', 'a'.repeat(24)], {})).toThrow(/No token/);
		expect(() => parse(['undo', 'j.results.csv', '--dry-run'], {})).toThrow('No token: set WEBFLOW_TOKEN or pass --token-file <path> (undo reads the site, even on a dry run)');
	});

	it('names the file and line of a tokens file it cannot use, and never echoes a token', async () => {
		const dir = await tempDir();
		const tokens = join(dir, 'tokens.txt');
		await writeFile(tokens, `${'a'.repeat(24)}=fine\nnot-a-site=secret-token\n`);
		expect(() => parse(['run', 'j.csv', '--tokens', tokens])).toThrow(`${tokens}:2:`);
		try {
			parse(['run', 'j.csv', '--tokens', tokens]);
		} catch (error) {
			expect((error as Error).message).not.toContain('secret-token');
		}

		// One site twice (also in another case): refused, naming both lines, never echoing either token.
		await writeFile(tokens, `# sites\n${'a'.repeat(24)}=first-secret\n${'b'.repeat(24)}=token-b\n${'A'.repeat(24)}=second-secret\n`);
		expect(() => parse(['run', 'j.csv', '--tokens', tokens])).toThrow(`${tokens}:4: site ${'a'.repeat(24)} is listed twice (lines 2 and 4)`);
		expect(() => parse(['export', '--tokens', tokens])).toThrow(/listed twice \(lines 2 and 4\)/);
		try {
			parse(['run', 'j.csv', '--tokens', tokens]);
		} catch (error) {
			expect((error as Error).message).not.toMatch(/secret/);
		}

		await writeFile(tokens, `${'a'.repeat(24)}=token-a\n${'b'.repeat(24)}=token-b\n`);
		// --site with --tokens: the one site, through its token from the file.
		expect(runOf(parse(['run', 'j.csv', '--tokens', tokens, '--site', 'a'.repeat(24), '--only-missing'], {})).config).toMatchObject({site: 'a'.repeat(24), onlyMissing: true});
		expect(() => parse(['run', 'j.csv', '--tokens', tokens, '--site', 'c'.repeat(24)], {})).toThrow(/--tokens has no token for --site c{24}/);
		const exported = parse(['export', '--tokens', tokens], {});
		expect(exported.command === 'export' && exported.config).toMatchObject({site: undefined, out: 'assets-all-sites.csv', tokens: new Map([['a'.repeat(24), 'token-a'], ['b'.repeat(24), 'token-b']])});
		expect(() => parse(['export', '--tokens', tokens, '--site', 'c'.repeat(24)], {})).toThrow(/--tokens has no token for --site/);
		await writeFile(tokens, '# only a comment\n');
		expect(() => parse(['run', 'j.csv', '--tokens', tokens])).toThrow(/no siteId=token lines/);
		expect(() => parse(['run', 'j.csv', '--tokens', join(dir, 'missing')])).toThrow(/ENOENT/);
	});

	it('--quiet keeps only errors on stderr, but a --log-file keeps its level', () => {
		expect(runOf(parse(['run', 'j.csv', '--quiet'])).output).toMatchObject({quiet: true, logLevel: 'error'});
		expect(runOf(parse(['run', 'j.csv', '--quiet', '--log-level', 'debug'])).output.logLevel).toBe('error');
		expect(runOf(parse(['run', 'j.csv', '--quiet', '--log-level', 'silent'])).output.logLevel).toBe('silent');
		expect(runOf(parse(['run', 'j.csv', '--quiet', '--log-file', 'x.log'])).output.logLevel).toBe('info');
		expect(() => parse(['run', 'j.csv', '--log-level', 'loud'])).toThrow(/--log-level/);
	});

	it('reads the sandbox options, checking the port, the faults and the window', () => {
		expect(parse(['sandbox'])).toEqual({command: 'sandbox', config: {port: 8787, host: '127.0.0.1', token: 'sandbox-token', tokens: undefined, seed: undefined, rate: undefined, window: undefined, faults: {}}});
		expect(parse(['sandbox', '--port', '0', '--faults', 'error500=0.1,limited=1', '--window', 'sliding', '--rate', '5/s'])).toMatchObject({
			config: {port: 0, faults: {error500: 0.1, limited: 1}, window: 'sliding', rate: {count: 5, windowMs: 1000}},
		});
		expect(() => parse(['sandbox', '--port', '70000'])).toThrow(/--port/);
		expect(() => parse(['sandbox', '--faults', 'fire=0.5'])).toThrow(/--faults/);
		expect(() => parse(['sandbox', '--window', 'rolling'])).toThrow(/--window/);
	});

	it('answers help, version and completion, and turns unknown options into usage errors naming the command', () => {
		expect(parse([])).toEqual({command: 'help', topic: undefined, asked: false});
		expect(parse(['--help'])).toEqual({command: 'help', topic: undefined, asked: true});
		expect(parse(['help', 'export'])).toEqual({command: 'help', topic: 'export', asked: true});
		expect(parse(['run', '--help'])).toEqual({command: 'help', topic: 'run', asked: true});
		expect(parse(['sandbox', '-h'])).toEqual({command: 'help', topic: 'sandbox', asked: true});
		expect(parse(['-v'])).toEqual({command: 'version'});
		expect(parse(['completion', 'zsh'])).toEqual({command: 'completion', shell: 'zsh'});
		expect(() => parse(['completion', 'fish'])).toThrow(UsageError);
		expect(() => parse(['run', 'j.csv', '--bogus'])).toThrow(/--bogus.*altbatch run --help/);
		expect(() => parse(['launch'])).toThrow(/Unknown command "launch"/);
		expect(() => parse(['demo', 'extra'])).toThrow(UsageError);
	});
});

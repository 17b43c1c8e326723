import {readFileSync} from 'node:fs';
import {UsageError} from '../errors.js';
import type {Environment} from './flags.js';

/** The token: `--token-file`'s content, else `WEBFLOW_TOKEN`. Never echoed in a message. */
export function readToken(tokenFile: string | undefined, env: Environment): string | undefined {
	if (tokenFile === undefined) {
		const fromEnv = env.WEBFLOW_TOKEN?.trim();
		return fromEnv === '' || fromEnv === undefined ? undefined : wellFormedToken(fromEnv, 'WEBFLOW_TOKEN');
	}

	const token = readText(tokenFile, '--token-file').trim();
	if (token === '') {
		throw new UsageError(`--token-file ${JSON.stringify(tokenFile)} is empty`);
	}

	return wellFormedToken(token, `--token-file ${JSON.stringify(tokenFile)}`);
}

/**
 * A token goes in an HTTP header: one run of visible ASCII characters. Anything else (a line
 * break, a tab, a space, a character outside ASCII) could never be sent, so it is refused before
 * the first request, saying what is wrong and never showing the token.
 */
function wellFormedToken(token: string, where: string): string {
	const bad = /[^\x21-\x7e]/.exec(token)?.[0];
	if (bad !== undefined) {
		const what = bad === '\n' || bad === '\r' ? 'a line break' : bad === ' ' ? 'a space' : bad.charCodeAt(0) < 0x20 || bad === '\u007f' ? 'a control character' : 'a character outside ASCII';
		throw new UsageError(`${where}: the token is malformed: it holds ${what} (a token is one line of visible ASCII characters); nothing was sent`, 'token_malformed');
	}

	return token;
}

function readText(path: string, option: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		throw new UsageError(`Cannot read ${option} ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
	}
}

export type TokensFile = {tokens: Map<string, string>; lines: Map<string, number>};

export function tokensOf(file: TokensFile | undefined): {tokens: ReadonlyMap<string, string> | undefined; tokenLines: ReadonlyMap<string, number> | undefined} {
	return {tokens: file?.tokens, tokenLines: file?.lines};
}

/**
 * `--tokens`: `siteId=token` lines (blank lines and `#` comments allowed), each site once (in any
 * case): a site listed twice is refused naming both lines. The tokens are never echoed.
 */
export function readTokensFile(path: string): TokensFile {
	const text = readText(path, '--tokens');
	const tokens = new Map<string, string>();
	const lines = new Map<string, number>();
	for (const [i, raw] of text.replace(/^\uFEFF/, '').split(/\r?\n/).entries()) {
		const line = raw.trim();
		if (line === '' || line.startsWith('#')) {
			continue;
		}

		const at = line.indexOf('=');
		const site = at < 0 ? '' : line.slice(0, at).trim().toLowerCase();
		const token = at < 0 ? '' : line.slice(at + 1).trim();
		if (!/^[\da-f]{24}$/.test(site) || token === '') {
			throw new UsageError(`${path}:${i + 1}: expected siteId=token (a 24-character hex site id, then the token)`);
		}

		const earlier = lines.get(site);
		if (earlier !== undefined) {
			throw new UsageError(`${path}:${i + 1}: site ${site} is listed twice (lines ${earlier} and ${i + 1}); keep one token per site`);
		}

		tokens.set(site, wellFormedToken(token, `${path}:${i + 1}`));
		lines.set(site, i + 1);
	}

	if (tokens.size === 0) {
		throw new UsageError(`${path}: no siteId=token lines`);
	}

	return {tokens, lines};
}

/** A token to send with: WEBFLOW_TOKEN (or --token-file) or --tokens, and with --site and --tokens, one for that site. */
export function assertTokenFor({token, tokens, site, why = ''}: {token: string | undefined; tokens: ReadonlyMap<string, string> | undefined; site: string | undefined; why?: string}): void {
	const hasToken = token !== undefined && token !== '';
	if (!hasToken && !tokens) {
		throw new UsageError(`No token: set WEBFLOW_TOKEN or pass --token-file <path>${why}`, 'no_token');
	}

	// `--site` with `--tokens`: the one site, through its token from the file.
	if (!hasToken && site !== undefined && tokens && !tokens.has(site)) {
		throw new UsageError(`--tokens has no token for --site ${site}, and WEBFLOW_TOKEN is not set`, 'no_token');
	}
}

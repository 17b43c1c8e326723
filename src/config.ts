import {basename, dirname, extname, join} from 'node:path';
import type {Encoding} from './csv/decode.js';
import {ENCODINGS} from './csv/decode.js';
import {UsageError} from './errors.js';
import {isObjectId} from './rows/job.js';
import type {Rate} from './schedule/rate.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = typeof LOG_LEVELS[number];

/** Everything `run` needs, checked once at the edge. */
export type RunConfig = {
	readonly input: string;
	/** @default `<jobs>.results.csv` beside the input */
	readonly out: string;
	/** @default 'https://api.webflow.com' */
	readonly apiBase: string;
	readonly token: string | undefined;
	/** `--redis` / `REDIS_URL`: share the budget with every process using the same token. */
	readonly redis?: string | undefined;
	/** `--report`: where to write the HTML report. */
	readonly report?: string | undefined;
	/** `--tokens`: site id → token; rows are routed by their siteId column. */
	readonly tokens?: ReadonlyMap<string, string> | undefined;
	/** Told with `--rate`; otherwise the token's own limit, else 60/min. */
	readonly rate: Rate | undefined;
	/** @default 4 */
	readonly concurrency: number;
	/** @default 5 */
	readonly maxAttempts: number;
	/** @default 30000 */
	readonly timeoutMs: number;
	readonly dryRun: boolean;
	readonly resume: boolean;
	readonly site: string | undefined;
	readonly onlyMissing: boolean;
	/** @default 15 minutes */
	readonly maxWaitMs: number;
	readonly encoding: Encoding | undefined;
	/** First retry backoff. @default 500 */
	readonly backoffBaseMs: number;
};

export const DEFAULTS = {
	apiBase: 'https://api.webflow.com',
	concurrency: 4,
	maxAttempts: 5,
	timeoutMs: 30_000,
	maxWaitMs: 15 * 60_000,
	backoffBaseMs: 500,
	rate: {count: 60, windowMs: 60_000},
} as const;

const UNITS: Readonly<Record<string, number>> = {
	ms: 1,
	s: 1000,
	sec: 1000,
	second: 1000,
	m: 60_000,
	min: 60_000,
	minute: 60_000,
	h: 3_600_000,
	hour: 3_600_000,
};

/** `60/min`, `50/s`, `2/sec` → a rate. */
export function parseRate(text: string, option = '--rate'): Rate {
	const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d*)\s*([a-z]+)\s*$/i.exec(text);
	const unitName = match?.[3]?.toLowerCase() ?? '';
	const unit = UNITS[unitName] ?? UNITS[unitName.replace(/s$/, '')];
	const count = Number(match?.[1]);
	const per = match?.[2] ? Number(match[2]) : 1;
	if (!match || unit === undefined || unit < 1000 || !(count > 0) || !(per > 0)) {
		throw new UsageError(`Expected ${option} to be a number of requests per second or minute, like 60/min or 2/s, got ${JSON.stringify(text)}`);
	}

	return {count, windowMs: unit * per};
}

/** `15min`, `90s`, `500ms`, `1h`; a bare number is seconds. */
export function parseDuration(text: string, option: string): number {
	const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
	const unitName = match?.[2]?.toLowerCase() ?? '';
	const unit = unitName === '' ? 1000 : UNITS[unitName] ?? UNITS[unitName.replace(/s$/, '')];
	if (!match || unit === undefined) {
		throw new UsageError(`Expected ${option} to be a duration like 15min, 90s or 500ms, got ${JSON.stringify(text)}`);
	}

	return Number(match[1]) * unit;
}

export function parsePositiveInteger(text: string, option: string): number {
	const n = Number(text);
	if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
		throw new UsageError(`Expected ${option} to be a whole number of at least 1, got ${JSON.stringify(text)}`);
	}

	return n;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** The API origin: https, or http to this machine only (a token never crosses a network in the clear). */
export function parseApiBase(text: string): string {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new UsageError(`Expected --api-base to be a URL like https://api.webflow.com, got ${JSON.stringify(text)}`);
	}

	if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
		throw new UsageError(`Expected --api-base to use https (http only for localhost), got ${JSON.stringify(text)}`);
	}

	if (url.username !== '' || url.password !== '' || url.search !== '') {
		throw new UsageError('Expected --api-base without credentials or a query string');
	}

	// The API version is ours to add: `https://api.webflow.com/v2` means the same origin.
	return url.href.replace(/\/+$/, '').replace(/\/(?:v2|beta)$/, '');
}

export function parseSiteId(text: string, option = '--site'): string {
	const id = text.trim().toLowerCase();
	if (!isObjectId(id)) {
		throw new UsageError(`Expected ${option} to be a 24-character hex site id, got ${JSON.stringify(text)}`);
	}

	return id;
}

export function parseEncoding(text: string): Encoding {
	const value = text.toLowerCase().replace(/^(cp|win)-?1252$/, 'windows-1252').replace(/^utf8$/, 'utf-8') as Encoding;
	if (!ENCODINGS.includes(value)) {
		throw new UsageError(`Expected --encoding to be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(text)}`);
	}

	return value;
}

export function defaultOut(input: string): string {
	const extension = extname(input);
	return join(dirname(input), `${basename(input, extension)}.results.csv`);
}

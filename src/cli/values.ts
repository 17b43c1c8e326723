import type {Encoding} from '../files/csv/decode.js';
import {ENCODINGS} from '../files/csv/decode.js';
import {UsageError} from '../errors.js';
import {FAULT_KINDS, LOG_LEVELS, type LogLevel} from './options.js';
import {isObjectId} from '../rows/job.js';
import {isWarningCode, WARNING_CODES, type WarningCode} from '../rows/warnings.js';
import type {Rate} from '../schedule/rate.js';

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

export function parseSheet(text: string): string {
	if (text.trim() === '') {
		throw new UsageError('--sheet needs the name of a sheet of the .xlsx input');
	}

	return text;
}

/** `--include`: what an export writes, `assets` and/or `cms`, comma-separated. */
export function parseInclude(text: string, option: string): ReadonlySet<'assets' | 'cms'> {
	const words = text.split(',').map(word => word.trim().toLowerCase()).filter(Boolean);
	const wrong = words.filter(word => word !== 'assets' && word !== 'cms');
	if (words.length === 0 || wrong.length > 0) {
		throw new UsageError(`Expected ${option} to be assets, cms or assets,cms, got ${JSON.stringify(text)}`);
	}

	return new Set(words as Array<'assets' | 'cms'>);
}

/** `--refuse-warnings`: `all`, or alt-text warning codes separated by commas. */
export function parseWarningCodes(text: string, option: string): ReadonlySet<WarningCode> {
	const words = text.split(',').map(code => code.trim()).filter(Boolean);
	if (words.length === 1 && words[0] === 'all') {
		return new Set(WARNING_CODES);
	}

	const codes = words.filter(isWarningCode);
	if (codes.length === 0 || codes.length < words.length) {
		throw new UsageError(`Expected ${option} to be alt-text warning codes separated by commas (${WARNING_CODES.join(', ')}), or nothing for all of them, got ${JSON.stringify(text)}`);
	}

	return new Set(codes);
}

export function parseLogLevel(text: string): LogLevel {
	const level = text as LogLevel;
	if (!LOG_LEVELS.includes(level)) {
		throw new UsageError(`Expected --log-level to be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
	}

	return level;
}

export function parsePort(text: string): number {
	const port = Number(text);
	if (!Number.isInteger(port) || port < 0 || port > 65_535) {
		throw new UsageError(`Expected --port to be a port number (0 picks a free one), got ${JSON.stringify(text)}`);
	}

	return port;
}

/** `error500=0.08,drop=0.04` → the share of PATCHes answered with each fault. */
export function parseFaults(text: string): Record<string, number> {
	const faults: Record<string, number> = {};
	for (const part of text.split(',').filter(Boolean)) {
		const [kind = '', share = ''] = part.split('=');
		if (!(FAULT_KINDS as readonly string[]).includes(kind) || !(Number(share) >= 0 && Number(share) <= 1)) {
			throw new UsageError(`Expected --faults like error500=0.08,html503=0.04,drop=0.04,truncate=0.03,slow=0.02, got ${JSON.stringify(part)}`);
		}

		faults[kind] = Number(share);
	}

	return faults;
}

/** `--redis` or `REDIS_URL`: a redis:// or rediss:// URL; empty means none. */
export function parseRedisUrl(text: string | undefined): string | undefined {
	if (text === undefined || text.trim() === '') {
		return undefined;
	}

	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new UsageError('Expected --redis (or REDIS_URL) to be a URL like redis://127.0.0.1:6379');
	}

	if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
		throw new UsageError(`Expected --redis to be a redis:// or rediss:// URL, got ${url.protocol}`);
	}

	return url.href;
}

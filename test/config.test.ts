import {describe, expect, it} from 'vitest';
import {parseApiBase, parseDuration, parseRate} from '../src/config.js';
import {UsageError} from '../src/errors.js';
import {parseRetryAfter} from '../src/webflow/client.js';

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

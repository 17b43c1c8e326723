import pino, {type Logger} from 'pino';
import {prettyFactory} from 'pino-pretty';
import type {LogLevel} from './cli/options.js';

export type {Logger} from 'pino';

/** Only these facts of an error are ever logged: got's errors carry the token in `options`. */
export function safeError(error: unknown): Record<string, unknown> {
	if (!(error instanceof Error)) {
		return {message: String(error)};
	}

	const {code, status} = error as {code?: unknown; status?: unknown};
	return {type: error.name, message: error.message, code, status};
}

/** Log lines for people (a terminal): each handed to `write` as one finished line, coloured or not. */
export type PrettyOutput = {readonly colorize: boolean; readonly write: (line: string) => void};

/**
 * NDJSON logs on a synchronous destination (nothing lost at exit): stderr, or a file. With `pretty`
 * and no file, readable lines (pino-pretty) instead, formatted as they are logged. The token is
 * never handed to the logger; `redact` is a second guard for headers should one ever be.
 */
export function createLogger({level, file, pretty}: {level: LogLevel; file?: string | undefined; pretty?: PrettyOutput | undefined}): Logger {
	return pino(
		{
			level,
			base: undefined,
			serializers: {err: safeError, error: safeError},
			redact: {paths: ['authorization', 'headers.authorization', 'headers.Authorization', 'token', '*.token'], censor: '[redacted]'},
		},
		pretty === undefined || file !== undefined
			? pino.destination({dest: file ?? 2, sync: true})
			: prettyDestination(pretty),
	);
}

/** `12:30:05 INFO: rate limit hit: every request paused {"seconds":2,"reason":"429"}` */
function prettyDestination({colorize, write}: PrettyOutput): {write: (line: string) => void} {
	const format = prettyFactory({colorize, singleLine: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,summary'});
	return {
		write(line: string) {
			write(format(line));
		},
	};
}

export function silentLogger(): Logger {
	return pino({level: 'silent'});
}

import pino, {type Logger} from 'pino';
import type {LogLevel} from './config.js';

export type {Logger} from 'pino';

/** Only these facts of an error are ever logged: got's errors carry the token in `options`. */
export function safeError(error: unknown): Record<string, unknown> {
	if (!(error instanceof Error)) {
		return {message: String(error)};
	}

	const {code, status} = error as {code?: unknown; status?: unknown};
	return {type: error.name, message: error.message, code, status};
}

/**
 * NDJSON logs on a synchronous destination (nothing lost at exit): stderr, or a file. The token is
 * never handed to the logger; `redact` is a second guard for headers should one ever be.
 */
export function createLogger({level, file}: {level: LogLevel; file?: string | undefined}): Logger {
	return pino(
		{
			level,
			base: undefined,
			serializers: {err: safeError, error: safeError},
			redact: {paths: ['authorization', 'headers.authorization', 'headers.Authorization', 'token', '*.token'], censor: '[redacted]'},
		},
		pino.destination({dest: file ?? 2, sync: true, mkdir: file !== undefined}),
	);
}

export function silentLogger(): Logger {
	return pino({level: 'silent'});
}

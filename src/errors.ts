/**
 * Errors with stable codes. `kind` tells the CLI which exit code a failure maps to:
 * `usage` and `input` → 2 (nothing was sent), `stop` → 3 (going on was pointless).
 */
export type ErrorKind = 'usage' | 'input' | 'stop' | 'internal';

/** A code Webflow's error answer gave (its body's `code`, else the HTTP status's name): open by nature, and marked so that no code of ours passes for one. */
export type ApiCode = string & {readonly __apiCode: true};

/** Marks a code read from an API answer. */
export const apiCode = (code: string): ApiCode => code as ApiCode;

export class AltbatchError extends Error {
	readonly code: string;
	readonly kind: ErrorKind;

	constructor(kind: ErrorKind, code: string, message: string, options?: {cause?: unknown}) {
		super(message, options);
		this.name = 'AltbatchError';
		this.kind = kind;
		this.code = code;
	}
}

/** A flag or environment value is wrong. */
export class UsageError extends AltbatchError {
	constructor(message: string, code = 'usage') {
		super('usage', code, message);
		this.name = 'UsageError';
	}
}

/** The input file cannot be used as a whole; names the file and line. */
export class InputError extends AltbatchError {
	readonly file: string;
	readonly line: number | undefined;

	constructor({file, line, code, message}: {file: string; line?: number; code: string; message: string}) {
		super('input', code, `${file}${line === undefined ? '' : `:${line}`}: ${message}`);
		this.name = 'InputError';
		this.file = file;
		this.line = line;
	}
}

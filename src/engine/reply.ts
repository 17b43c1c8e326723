import type {ApiCode} from '../errors.js';

/** What the API said about the budget on one answer. */
export type RateHeaders = {readonly limit: number | undefined; readonly remaining: number | undefined};

/**
 * One API answer, or why there was none. Failures are data here, never throws. The client makes
 * them (src/webflow/), retries and pacing read them (src/schedule/) without knowing the client.
 */
export type ApiReply =
	| {readonly kind: 'ok'; readonly status: number; readonly body: unknown; readonly rate: RateHeaders}
	| {readonly kind: 'error'; readonly status: number; readonly code: ApiCode; readonly message: string; readonly retryAfterMs: number | undefined; readonly rate: RateHeaders}
	| {readonly kind: 'transport'; readonly code: 'timeout' | 'network_error' | 'bad_body' | 'aborted'; readonly message: string; readonly status: number | undefined; readonly rate: RateHeaders | undefined};

import type {LoggedRequest, Sandbox} from '../../src/sandbox/server.js';

/**
 * The test oracle for "a client waits out Retry-After", computed from the sandbox's request log:
 * the requests that arrived while a `Retry-After` given to their token was running. `graceMs`: a
 * request already on its way before the client could have read the 429 is not counted (in tests
 * client and sandbox share one event loop, which a loaded machine can stall for 100 ms; a client
 * that ignored the pause would still send well inside the 1 s or more that remain). With `method`,
 * only that client's requests and 429s (another client on the token uses another method).
 */
export function requestsDuringRetryAfter(sandbox: Pick<Sandbox, 'requests'>, graceMs = 250, {method}: {method?: string} = {}): LoggedRequest[] {
	const mine = method === undefined ? sandbox.requests : sandbox.requests.filter(r => r.method === method);
	const limited = mine.filter(r => r.retryUntil !== undefined);
	return mine.filter(request => limited.some(r => r.token === request.token && request.at > r.at + graceMs && request.at < r.retryUntil!));
}

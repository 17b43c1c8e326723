import type {IncomingMessage, ServerResponse} from 'node:http';

/** What the API answers: a status and a JSON body. */
export type Answer = {readonly status: number; readonly body: unknown};

/** How an answer goes out on the wire, faults included. */
export type Delivery =
	| {readonly kind: 'json'; readonly status: number; readonly body: unknown; readonly headers: Readonly<Record<string, string>>}
	/** A body that is not the JSON it claims or should be (an HTML 503, half a JSON body). */
	| {readonly kind: 'text'; readonly status: number; readonly contentType: string; readonly text: string; readonly headers: Readonly<Record<string, string>>}
	/** The connection closed with no answer. */
	| {readonly kind: 'drop'}
	/** The answer, `ms` later. */
	| {readonly kind: 'late'; readonly ms: number; readonly then: Delivery};

/**
 * How lists page (tests of a stand-in with limits of its own): `maxLimit`, the most items a page
 * holds whatever `limit` asks (Webflow: 100); `total`, whether `pagination` carries it.
 */
export type Paging = {readonly maxLimit: number; readonly total: boolean};

export const WEBFLOW_PAGING: Paging = {maxLimit: 100, total: true};

/** One page of a list as asked (`offset`, `limit`), and its `pagination` (the limit echoed as applied). */
export function paged<T>(all: readonly T[], query: URLSearchParams, paging: Paging = WEBFLOW_PAGING): {items: T[]; pagination: {limit: number; offset: number; total?: number}} {
	const offset = Math.max(0, Number.parseInt(query.get('offset') ?? '0', 10) || 0);
	const limit = Math.min(paging.maxLimit, Math.max(1, Number.parseInt(query.get('limit') ?? '100', 10) || 100));
	return {items: all.slice(offset, offset + limit), pagination: paging.total ? {limit, offset, total: all.length} : {limit, offset}};
}

/** Webflow's error body. */
export function errorBody(code: string, message: string, details: unknown[] = []) {
	return {code, message, externalReference: null, details};
}

export function json({status, body}: Answer, headers: Readonly<Record<string, string>>): Delivery {
	return {kind: 'json', status, body, headers};
}

/** The status a delivery shows the client (0: none, the connection dropped). */
export function statusOf(delivery: Delivery): number {
	return delivery.kind === 'drop' ? 0 : delivery.kind === 'late' ? statusOf(delivery.then) : delivery.status;
}

export async function deliver(request: IncomingMessage, response: ServerResponse, delivery: Delivery): Promise<void> {
	switch (delivery.kind) {
		case 'json': {
			const text = JSON.stringify(delivery.body);
			response.writeHead(delivery.status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...delivery.headers});
			response.end(text);
			return;
		}

		case 'text': {
			// No content-length: a cut JSON body arrives as a complete HTTP answer that does not parse.
			response.writeHead(delivery.status, {'content-type': delivery.contentType, ...delivery.headers});
			response.end(delivery.text);
			return;
		}

		case 'drop': {
			request.socket.destroy();
			return;
		}

		case 'late': {
			await new Promise(resolve => setTimeout(resolve, delivery.ms).unref());
			if (!response.destroyed) {
				await deliver(request, response, delivery.then);
			}
		}
	}
}

/** Whether the request comes with a body (one that a refusal leaves unread). */
export function hasBody(request: IncomingMessage): boolean {
	return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/** The body as text, or `undefined` as soon as it grows past `maxBytes` (the rest is left unread). */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const onData = (chunk: Buffer) => {
			size += chunk.length;
			if (size > maxBytes) {
				request.off('data', onData);
				request.pause();
				resolve(undefined);
				return;
			}

			chunks.push(chunk);
		};

		request.on('data', onData);
		request.once('end', () => {
			resolve(Buffer.concat(chunks).toString('utf8'));
		});
		request.once('error', reject);
	});
}

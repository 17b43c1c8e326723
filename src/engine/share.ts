import type {Attempted} from '../schedule/attempts.js';
import type {ApiReply} from '../webflow/client.js';
import type {Session, Stop} from './session.js';

/**
 * One site's share of a token's session: the requests sent for it (every try, 429s included) and
 * why it stopped when the site alone stopped (the token is fine, the site can't be reached), so
 * sites sharing a workspace token are counted and stopped each on its own.
 */
export class SiteShare {
	readonly session: Session;
	requests = 0;
	/** Of `requests`, the list pages (every one sent, whether or not the listing was finished). */
	listRequests = 0;
	tooManyRequests = 0;
	#stop: Stop | undefined;

	constructor(session: Session) {
		this.session = session;
	}

	/** The site's stop, or its token's (refused, unreachable, interrupted). */
	get stopped(): Stop | undefined {
		return this.session.stop.current ?? this.#stop;
	}

	/** Stops this site only. */
	stop(stop: Stop): void {
		this.#stop ??= stop;
	}

	/** One call through the token's pacing and retries, counted for this site. */
	async request(send: () => Promise<ApiReply>, maxAttempts?: number): Promise<Attempted> {
		return this.session.request(async () => {
			this.requests++;
			const reply = await send();
			if (reply.kind === 'error' && reply.status === 429) {
				this.tooManyRequests++;
			}

			return reply;
		}, maxAttempts);
	}
}

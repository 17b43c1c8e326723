import type {Session} from './session.js';

/**
 * One session per token, however many sites (lanes) share it: sites that share a token share its
 * budget, pauses and stop. Made on a token's first use, by the command's own `open`; closed together.
 */
export class Sessions {
	readonly #byToken = new Map<string, Session>();
	readonly #open: (token: string, site: string | undefined) => Session;

	/** `open`: the session of a token first used by `site`. */
	constructor(open: (token: string, site: string | undefined) => Session) {
		this.#open = open;
	}

	/** The token's session, opened for `site` when it is the token's first. */
	of(token: string, site: string | undefined): Session {
		let session = this.#byToken.get(token);
		if (!session) {
			session = this.#open(token, site);
			this.#byToken.set(token, session);
		}

		return session;
	}

	/** Each session once, in the order they were opened. */
	all(): readonly Session[] {
		return [...this.#byToken.values()];
	}

	async close(): Promise<void> {
		await Promise.all(this.all().map(async session => session.close()));
	}
}

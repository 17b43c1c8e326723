/**
 * A list's pages after the first, from what each page says about itself — never from a fixed step.
 * Webflow's lists (assets, CMS items, pages, DOM nodes, components) take `offset` and `limit` (at
 * most 100); a stand-in may cap `limit` lower, echo the limit it applied, or leave `total` out (the
 * description does not require it). Offsets advance by the entries a page held as sent (before
 * any filtering of ours); with a total, every page up to it is asked for (side by side); without,
 * one page after another until an empty one or one shorter than its limit. Pure: `ask` does the I/O.
 */

/** What one list page says about paging: the entries it held as sent, and its `pagination.total`/`limit` when numbers. */
export type PageFacts = {readonly raw: number; readonly total: number | undefined; readonly limit: number | undefined};

const count = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;

/** The paging facts of a list answer whose entries are under `key`. */
export function pageFacts(body: unknown, key: string): PageFacts {
	const page = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {};
	const list = page[key];
	const pagination = typeof page.pagination === 'object' && page.pagination !== null ? page.pagination as Record<string, unknown> : {};
	const limit = count(pagination.limit);
	return {raw: Array.isArray(list) ? list.length : 0, total: count(pagination.total), limit: limit === 0 ? undefined : limit};
}

/** One page asked for: read (with its facts), or how it failed. */
export type Paged<P, F> = {readonly page: P; readonly facts: PageFacts} | {readonly failure: F};

/**
 * The pages after `first` (in offset order), or the first failure. `asked`: the `limit` sent.
 */
export async function laterPages<P, F>({first, asked, ask}: {first: PageFacts; asked: number; ask: (offset: number) => Promise<Paged<P, F>>}): Promise<{pages: P[]} | {failure: F}> {
	const pages: P[] = [];
	const step = first.raw;
	if (step === 0) {
		return {pages};
	}

	const {total} = first;
	if (total !== undefined) {
		const offsets: number[] = [];
		for (let offset = step; offset < total; offset += step) {
			offsets.push(offset);
		}

		const answers = await Promise.all(offsets.map(ask));
		for (const [i, answer] of answers.entries()) {
			if ('failure' in answer) {
				return answer;
			}

			pages.push(answer.page);
			// A page short of its share (the list moved, a server's own cap): the rest of the share, in turn.
			const end = offsets[i + 1] ?? total;
			for (let at = (offsets[i] ?? 0) + answer.facts.raw, raw = answer.facts.raw; raw > 0 && at < end; at += raw) {
				const more = await ask(at);
				if ('failure' in more) {
					return more;
				}

				pages.push(more.page);
				raw = more.facts.raw;
			}
		}

		return {pages};
	}

	for (let offset = step, last = first; last.raw > 0 && last.raw >= (last.limit ?? asked); offset += last.raw) {
		const next = await ask(offset);
		if ('failure' in next) {
			return next;
		}

		pages.push(next.page);
		last = next.facts;
	}

	return {pages};
}

import {InputError} from '../errors.js';
import {hash53} from './hash.js';
import type {Job} from './job.js';

/** The row that writes an image's alt text, for the other rows listing the same image. */
export type Carrier = {readonly row: number; readonly line: number};

const NONE = '\u0001';

/** The image a row found by its URL names, in its locale; undefined for a row with an asset id, or one too wrong to be grouped. */
function imageKey(job: Job): number | undefined {
	if (job.image === undefined || (job.problem !== undefined && job.problem.code !== 'nothing_to_update' && job.problem.code !== 'image_url_unresolved')) {
		return undefined;
	}

	const image = job.image.ref.kind === 'cdn' ? `asset:${job.image.ref.assetId}` : `url:${job.image.ref.key}`;
	return hash53(`${image}\u0000${job.localeId ?? ''}`);
}

function editOf(job: Job): string | undefined {
	return job.displayName === undefined && job.altText === undefined ? undefined : `${job.displayName ?? NONE}\u0000${job.altText ?? NONE}`;
}

/**
 * A crawler lists an image once per page it is on. Rows found by their image URL that name the same
 * image (its asset id in a CDN URL, or the same URL less its responsive variant) and locale are one
 * write: the first row that changes something carries it, and the others (the same edit, or none)
 * are `skipped` naming it. Two rows giving one image different values are refused before anything
 * is sent, naming both lines. Kept per image: a hash and the carrier's row, line and edit print.
 */
export class ImageGroups {
	readonly #carriers = new Map<number, Carrier & {readonly edit: number; readonly text: string}>();
	readonly #file: string;

	constructor(file: string) {
		this.#file = file;
	}

	/** Every row, in file order, in the check before anything is sent; throws on two different edits of one image. */
	add(job: Job): void {
		const key = imageKey(job);
		const edit = editOf(job);
		if (key === undefined) {
			return;
		}

		if (edit === undefined) {
			return;
		}

		const carrier = this.#carriers.get(key);
		if (carrier === undefined) {
			this.#carriers.set(key, {row: job.row, line: job.line, edit: hash53(edit), text: describe(job)});
			return;
		}

		if (carrier.edit !== hash53(edit)) {
			throw new InputError({
				file: this.#file,
				line: job.line,
				code: 'input_image_conflict',
				message: `lines ${carrier.line} and ${job.line} give the same image (${job.image?.url ?? job.assetId}) different values: ${carrier.text} on line ${carrier.line}, ${describe(job)} on line ${job.line}; one image gets one alt text (per locale), so keep one`,
			});
		}
	}

	/** The row carrying this row's image, when it is another row. */
	carrier(job: Job): Carrier | undefined {
		const key = imageKey(job);
		const carrier = key === undefined ? undefined : this.#carriers.get(key);
		return carrier === undefined || carrier.row === job.row ? undefined : carrier;
	}
}

function describe(job: Job): string {
	const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
	return [job.altText === undefined ? undefined : `alt text ${quote(job.altText)}`, job.displayName === undefined ? undefined : `display name ${quote(job.displayName)}`].filter(Boolean).join(' and ');
}

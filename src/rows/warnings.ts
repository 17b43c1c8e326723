import {hash53} from './hash.js';

/** Alt-text quality warnings: never blocking, written to the `warnings` column and counted. */
export const WARNING_CODES = ['alt_is_file_name', 'alt_placeholder', 'alt_redundant_prefix', 'alt_too_long', 'alt_same_as_display_name', 'alt_duplicate'] as const;
export type WarningCode = typeof WARNING_CODES[number];

export function isWarningCode(code: string): code is WarningCode {
	return (WARNING_CODES as readonly string[]).includes(code);
}

const FILE_NAME = /^[^\s/\\]+\.(?:jpe?g|png|gif|webp|svg|avif|bmp|tiff?|heic)$/i;
const PLACEHOLDERS = new Set(['image', 'img', 'photo', 'picture', 'pic', 'graphic', 'icon', 'banner', 'logo', 'placeholder', 'untitled', 'alt', 'alt text', 'spacer', 'thumbnail', 'screenshot', 'todo', 'tbd', 'n/a', '-']);
const CAMERA_NAME = /^(?:img|dsc|dscn|dscf|pxl|mvimg|screenshot|photo|image)[\s_-]?\d+$/i;
const REDUNDANT_PREFIX = /^(?:an?\s+)?(?:image|picture|photo|photograph|graphic|pic)\s+of\b/i;
export const MAX_ALT_LENGTH = 250;

const WARNING_WORDS: Readonly<Record<WarningCode, string>> = {
	alt_is_file_name: 'is a file name',
	alt_placeholder: 'is a placeholder',
	alt_redundant_prefix: 'starts with "image of"',
	alt_too_long: 'is too long',
	alt_same_as_display_name: 'is the display name',
	alt_duplicate: 'is used for another asset too',
};

/** `is a file name (alt_is_file_name) and …`, for messages. */
export function describeWarnings(codes: readonly string[]): string {
	return codes.map(code => `${WARNING_WORDS[code as WarningCode] ?? code} (${code})`).join(' and ');
}

/** Warnings about one alt text on its own. */
export function altTextWarnings({altText, displayName}: {altText: string; displayName: string | undefined}): WarningCode[] {
	const text = altText.trim();
	const warnings: WarningCode[] = [];
	if (FILE_NAME.test(text)) {
		warnings.push('alt_is_file_name');
	}

	if (PLACEHOLDERS.has(text.toLowerCase()) || CAMERA_NAME.test(text)) {
		warnings.push('alt_placeholder');
	}

	if (REDUNDANT_PREFIX.test(text)) {
		warnings.push('alt_redundant_prefix');
	}

	if (text.length > MAX_ALT_LENGTH && [...text].length > MAX_ALT_LENGTH) {
		warnings.push('alt_too_long');
	}

	if (displayName !== undefined && displayName.trim().toLowerCase() === text.toLowerCase()) {
		warnings.push('alt_same_as_display_name');
	}

	return warnings;
}

/**
 * The same alt text on different assets: flagged on every row after the first asset that used
 * it. Bounded memory: texts and ids are kept as hashes, and past `capacity` distinct texts new
 * ones are no longer tracked.
 */
export class DuplicateAltTracker {
	readonly #firstAsset = new Map<number, number>();
	readonly #capacity: number;

	constructor(capacity = 50_000) {
		this.#capacity = capacity;
	}

	seen({altText, assetId: id}: {altText: string; assetId: string}): boolean {
		return this.seenPrinted(altKey(altText), id);
	}

	/** `seen`, with the text already printed (`altKey`), and the id or its hash (an id is hashed only when it is needed). */
	seenPrinted(key: number, id: string | number): boolean {
		const first = this.#firstAsset.get(key);
		if (first === undefined) {
			if (this.#firstAsset.size < this.#capacity) {
				this.#firstAsset.set(key, typeof id === 'number' ? id : hash53(id));
			}

			return false;
		}

		return first !== (typeof id === 'number' ? id : hash53(id));
	}
}

/** What the duplicate tracker keeps of an alt text: its hash, case and outer spaces aside. */
export function altKey(altText: string): number {
	return hash53(altText.trim().toLowerCase());
}

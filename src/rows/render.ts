import {altTextWarnings} from './warnings.js';

/**
 * Which alt text renders where an image renders, and what is wrong with it. Pure: the audit
 * (src/commands/audit/read.ts) reads the site, this decides.
 */

export type AltSource = 'asset' | 'cms' | 'element' | 'component' | 'none';
export type FixWith = 'asset' | 'cms' | 'designer';
export const PLACE_PROBLEMS = ['missing', 'file_name', 'placeholder', 'duplicate_on_page', 'too_long'] as const;
export type PlaceProblem = typeof PLACE_PROBLEMS[number];

/** What the Data API shows about one place an image renders. */
export type Seen =
	/** An image node of a static page (`owner: 'page'`) or of a component's own DOM. */
	| {readonly kind: 'node'; readonly owner: 'page' | 'component'; readonly alt: string | undefined; readonly assetId: string | undefined; readonly assetAlt: string | null | undefined}
	/** An image of a CMS item's Image or MultiImage field. */
	| {readonly kind: 'cms'; readonly alt: string | null | undefined; readonly assetAlt: string | null | undefined}
	/** A component's `Alt Text` property: its default, or an instance's override on a page. */
	| {readonly kind: 'property'; readonly text: string | undefined};

export type Rendered = {
	readonly altText: string;
	readonly source: AltSource;
	readonly fixWith: FixWith;
	/** Marked decorative: renders `alt=""` on purpose, not a missing alt. */
	readonly decorative: boolean;
};

/**
 * [A] Whether an empty CMS field alt falls back to the asset's alt: Webflow does not document it.
 * Assumed not: the page renders the field's (empty) alt, so the place is `missing`, fixed in the CMS.
 */
export const CMS_EMPTY_ALT_FALLS_BACK_TO_ASSET = false;

/**
 * The one rule for which alt text renders. Assumed, as the Data API does not say how an image
 * element picks its alt (Designer: "Use alt text from asset", "Custom description", "Decorative");
 * each assumption is listed in the README ("What was assumed about the API"):
 *
 * - [A] An image node with an `alt` shows that alt, its own (`element`; inside a component's
 *   DOM, `component`). The Data API cannot write it (`update-static-content` has no image node):
 *   `designer`.
 * - [A] An own `alt` of `""` is a decorative image: it renders `alt=""` on purpose (the Designer
 *   API uses `null` for decorative; the Data API shows the node's `alt` as a string or nothing).
 * - [A] An image node without an `alt` (absent or `null`) and with an `assetId` shows the asset's
 *   alt text in that locale (`asset`, fixed by writing the asset).
 * - A node with neither shows no alt text (`none`, only the Designer can add one).
 * - [D] A CMS-bound image renders its field's `alt` (`cms`); [A] an empty one does not fall back
 *   to the asset's (`CMS_EMPTY_ALT_FALLS_BACK_TO_ASSET`).
 * - [A] A component's `Alt Text` property renders its value (an instance's override, else the
 *   default); we write no component properties: `designer`.
 */
export function renderedAlt(seen: Seen): Rendered {
	switch (seen.kind) {
		case 'node': {
			if (seen.alt !== undefined) {
				return {altText: seen.alt, source: seen.owner === 'page' ? 'element' : 'component', fixWith: 'designer', decorative: seen.alt === ''};
			}

			return seen.assetId === undefined
				? {altText: '', source: 'none', fixWith: 'designer', decorative: false}
				: {altText: seen.assetAlt ?? '', source: 'asset', fixWith: 'asset', decorative: false};
		}

		case 'cms': {
			const own = seen.alt ?? '';
			if (own.trim() === '' && CMS_EMPTY_ALT_FALLS_BACK_TO_ASSET && (seen.assetAlt ?? '') !== '') {
				return {altText: seen.assetAlt ?? '', source: 'asset', fixWith: 'asset', decorative: false};
			}

			return {altText: own, source: 'cms', fixWith: 'cms', decorative: false};
		}

		case 'property': {
			return {altText: seen.text ?? '', source: 'component', fixWith: 'designer', decorative: false};
		}
	}
}

/** What a place shows, for judging it: its alt, and the file it shows (its original name, to catch an alt that is the file name). */
export type Judged = {readonly altText: string; readonly decorative: boolean; readonly fileName?: string | undefined};

function baseName(fileName: string): string {
	return fileName.replace(/\.[a-z\d]{2,5}$/i, '').trim().toLowerCase();
}

/**
 * The problem of one alt text on its own, the worst first: `missing`, `file_name` (looks like a
 * file name, or is the image's own file name with or without its extension), `placeholder`
 * (`image`, `photo`, `IMG_1234`, …: the warnings' list), `too_long`. `duplicate_on_page` needs
 * the page: `duplicatesOnPage`.
 */
export function problemOf({altText, decorative, fileName}: Judged): PlaceProblem | undefined {
	const text = altText.trim();
	if (text === '') {
		return decorative ? undefined : 'missing';
	}

	const warnings = altTextWarnings({altText: text, displayName: undefined});
	const own = fileName === undefined ? '' : fileName.trim().toLowerCase();
	if (warnings.includes('alt_is_file_name') || (own !== '' && (text.toLowerCase() === own || text.toLowerCase() === baseName(own)))) {
		return 'file_name';
	}

	if (warnings.includes('alt_placeholder')) {
		return 'placeholder';
	}

	return warnings.includes('alt_too_long') ? 'too_long' : undefined;
}

/**
 * The places of one page (and locale) whose alt text another place of the page also shows for a
 * different image (screen readers hear the same words for two pictures). The same image shown
 * twice with its one alt is no duplicate. Returns their indexes.
 */
export function duplicatesOnPage(places: ReadonlyArray<{readonly altText: string; readonly image: string}>): Set<number> {
	const byText = new Map<string, Array<{index: number; image: string}>>();
	for (const [index, place] of places.entries()) {
		const key = place.altText.trim().toLowerCase();
		if (key !== '') {
			byText.set(key, [...byText.get(key) ?? [], {index, image: place.image}]);
		}
	}

	const duplicates = new Set<number>();
	for (const group of byText.values()) {
		if (new Set(group.map(one => one.image)).size > 1) {
			for (const one of group) {
				duplicates.add(one.index);
			}
		}
	}

	return duplicates;
}

/** Coverage counts only alt text without a problem: 10 places, 5 placeholders → 5 covered, 50%. */
export type PlaceCoverage = {readonly places: number; readonly covered: number; readonly withAlt: number};

export function coverageOfPlaces(places: Iterable<{readonly altText: string; readonly problem: PlaceProblem | undefined}>): PlaceCoverage {
	let total = 0;
	let covered = 0;
	let withAlt = 0;
	for (const place of places) {
		total++;
		covered += place.problem === undefined ? 1 : 0;
		withAlt += place.altText.trim() === '' ? 0 : 1;
	}

	return {places: total, covered, withAlt};
}

/** `50%`; no places is not 100%: `n/a`. */
export function percent({places, covered}: PlaceCoverage): string {
	return places === 0 ? 'n/a' : `${Math.floor(covered * 100 / places)}%`;
}

import {newCollection, newItem, type ImageValue, type SandboxCollection} from './cms.js';
import {newAsset, objectId, type SandboxSite} from './state.js';

/** An image field value for one of the site's assets (by its place in the site's asset list). */
function image(site: SandboxSite, index: number, alt: string | null): ImageValue {
	const asset = [...site.assets.values()][index % site.assets.size];
	return {fileId: asset?.id ?? objectId(`${site.id}/missing/${index}`), url: asset?.hostedUrl ?? null, alt};
}

/**
 * The demo site's CMS: a blog (an Image field and a MultiImage gallery) and a team collection (an
 * Image field). Published items, one with unpublished staged changes, and a draft never published;
 * images with and without alt text; every locale of the site holds the same data.
 */
export function addDemoCollections(site: SandboxSite): SandboxSite {
	const locales = [site.primaryLocale, ...site.secondaryLocales];
	const blog = newCollection({
		id: objectId(`${site.id}/collection/blog`),
		siteId: site.id,
		displayName: 'Blog Posts',
		slug: 'blog-posts',
		fields: [
			{id: objectId(`${site.id}/field/main-image`), slug: 'main-image', displayName: 'Main image', type: 'Image', isRequired: false},
			{id: objectId(`${site.id}/field/gallery`), slug: 'gallery', displayName: 'Gallery', type: 'MultiImage', isRequired: false},
			{id: objectId(`${site.id}/field/summary`), slug: 'summary', displayName: 'Summary', type: 'PlainText', isRequired: false},
		],
	});
	const posts: Array<{slug: string; name: string; main: ImageValue | null; gallery: ImageValue[]; published: boolean; isDraft?: boolean}> = [
		{slug: 'hello-mountains', name: 'Hello, mountains', main: image(site, 0, null), gallery: [image(site, 3, null), image(site, 4, 'Product shot, side view'), image(site, 7, null)], published: true},
		{slug: 'meet-the-team', name: 'Meet the team', main: image(site, 1, 'Our team at the 2025 offsite'), gallery: [image(site, 5, null), image(site, 6, '')], published: true},
		{slug: 'coming-soon', name: 'Coming soon', main: image(site, 9, 'image'), gallery: [], published: false, isDraft: true},
	];
	for (const post of posts) {
		newItem({
			collection: blog,
			id: objectId(`${site.id}/item/${post.slug}`),
			locales,
			fieldData: {name: post.name, slug: post.slug, 'main-image': post.main, gallery: post.gallery, summary: `${post.name}.`},
			published: post.published,
			isDraft: post.isDraft,
		});
	}

	const team = newCollection({
		id: objectId(`${site.id}/collection/team`),
		siteId: site.id,
		displayName: 'Team Members',
		slug: 'team-members',
		fields: [{id: objectId(`${site.id}/field/portrait`), slug: 'portrait', displayName: 'Portrait', type: 'Image', isRequired: false}],
	});
	newItem({collection: team, id: objectId(`${site.id}/item/founder`), locales, fieldData: {name: 'Founder', slug: 'founder', portrait: image(site, 5, null)}});
	for (const collection of [blog, team] satisfies SandboxCollection[]) {
		site.collections.set(collection.id, collection);
	}

	return site;
}

/**
 * A collection of `items` items, each with a MultiImage field `gallery` of `images` images (new
 * assets of the site, no alt text) — for tests and the bench. Every `draftEvery`-th item is a draft
 * never published; the others are published.
 */
export function addGalleryCollection({site, label, items, images, draftEvery = 0}: {site: SandboxSite; label: string; items: number; images: number; draftEvery?: number}): SandboxCollection {
	const collection = newCollection({
		id: objectId(`${site.id}/collection/${label}`),
		siteId: site.id,
		displayName: label,
		slug: label.toLowerCase().replaceAll(/[^\da-z]+/g, '-'),
		fields: [
			{id: objectId(`${site.id}/${label}/field/gallery`), slug: 'gallery', displayName: 'Gallery', type: 'MultiImage', isRequired: false},
			{id: objectId(`${site.id}/${label}/field/cover`), slug: 'cover', displayName: 'Cover', type: 'Image', isRequired: false},
		],
	});
	const locales = [site.primaryLocale, ...site.secondaryLocales];
	for (let i = 0; i < items; i++) {
		const gallery = Array.from({length: images}, (_, j) => {
			const asset = newAsset({site, id: objectId(`${site.id}/${label}/item/${i}/image/${j}`), fileName: `${label}-${i}-${j}.jpg`});
			return {fileId: asset.id, url: asset.hostedUrl, alt: null};
		});
		const draft = draftEvery > 0 && i % draftEvery === draftEvery - 1;
		newItem({collection, id: objectId(`${site.id}/${label}/item/${i}`), locales, fieldData: {name: `${label} ${i}`, slug: `${collection.slug}-${i}`, gallery, cover: null}, published: !draft, isDraft: draft});
	}

	site.collections.set(collection.id, collection);
	return collection;
}

import {describe, expect, it} from 'vitest';
import {hostedUrlIndex, imageRef, urlKey} from '../../src/rows/image-url.js';

const SITE = '65f0c1d2e3f4a5b6c7d8e9f0';
const ASSET = '65f0c1d2e3f4a5b6c7d8e9f1';

describe('image URLs', () => {
	it.each([
		`https://cdn.prod.website-files.com/${SITE}/${ASSET}_photo.jpg`,
		`https://cdn.prod.website-files.com/${SITE}/${ASSET}_photo-p-500.jpg`,
		`https://uploads-ssl.webflow.com/${SITE}/${ASSET}_My%20Photo-p-800.jpeg`,
		`https://assets.website-files.com/${SITE}/${ASSET.toUpperCase()}_x.png?w=20#top`,
		`//global-uploads.webflow.com/${SITE}/${ASSET}_x.png`,
		`cdn.prod.website-files.com/${SITE}/${ASSET}_x.png`,
		`https://cdn.prod.website-files.com/${SITE}/${ASSET}%5Fencoded.png`,
	])('a Webflow CDN URL names its site and asset: %s', url => {
		expect(imageRef(url)).toEqual({kind: 'cdn', siteId: SITE, assetId: ASSET});
	});

	it('other URLs are keys for the hostedUrl match: scheme, www, query and variants left out, names decoded', () => {
		expect(imageRef('https://example.com/img/a.jpg')).toEqual({kind: 'url', key: 'example.com/img/a.jpg'});
		expect(urlKey('http://WWW.Example.com/img/Sunset%20Beach-p-500.jpg?x=1')).toBe(urlKey('https://example.com/img/Sunset Beach.jpg'));
		// The CDN path shape on a host that is not Webflow's is matched by hostedUrl only.
		expect(imageRef(`https://example.com/${SITE}/${ASSET}_a.jpg`)).toMatchObject({kind: 'url'});
		expect(imageRef('   ')).toBeUndefined();
		expect(imageRef('http://[bad')).toBeUndefined();
		const index = hostedUrlIndex([{id: ASSET, hostedUrl: 'https://example.com/img/Sunset%20Beach.jpg'}, {id: SITE}]);
		expect(index.get(urlKey('https://example.com/img/Sunset Beach-p-1080.jpg')!)).toBe(ASSET);
	});
});

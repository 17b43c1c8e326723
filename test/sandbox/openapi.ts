import {readFileSync} from 'node:fs';
import {Ajv} from 'ajv';
import {expect} from 'vitest';
import {FIXTURES} from '../helpers.js';

/** Checks the sandbox's answers against Webflow's OpenAPI description (fixtures/webflow-openapi). */

type Operation = {responses: Record<string, {content?: {'application/json'?: {schema: unknown}}; headers?: Record<string, unknown>}>};
type Spec = {paths: Record<string, Record<string, Operation>>};
const read = (name: string) => JSON.parse(readFileSync(`${FIXTURES}webflow-openapi/${name}`, 'utf8')) as Spec;
/** The asset and token operations, the CMS ones (cms.json), the audit's reads of pages and components and get-site (sites.json), as one description. */
export const spec: Spec = (() => {
	const assets = read('assets-and-token.json');
	return {...assets, paths: {...assets.paths, ...read('cms.json').paths, ...read('pages-and-components.json').paths, ...read('sites.json').paths}};
})();
/** `list-pages`, `get-page-content`, `list-components`, `get-component-content`, `get-component-properties`: the audit's reads. */
export const pagesSpec: Spec = spec;

/**
 * The description's slips: `items` written as a list ("either of these"); `externalReference: string`
 * that is always null; a bulk CMS write's answer (`{items: […]}`) also made to require a single
 * item's properties at its top; an item's `lastPublished` typed as a string where an item never
 * published has `null`.
 */
function repair(schema: unknown): unknown {
	if (Array.isArray(schema)) {
		return schema.map(repair);
	}

	if (typeof schema !== 'object' || schema === null) {
		return schema;
	}

	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(schema)) {
		if (key === 'example' || key === 'x-fern-sdk-group-name' || (key === 'properties' && value === null)) {
			continue; // A DOM node's `properties: null` beside its `oneOf` is a third slip: no constraint.
		}

		out[key] = key === 'items' && Array.isArray(value) ? {anyOf: value.map(repair)} : repair(value);
	}

	const properties = out.properties as Record<string, Record<string, unknown>> | undefined;
	if (properties?.externalReference) {
		properties.externalReference = {type: ['string', 'null']};
	}

	if (properties?.lastPublished) {
		properties.lastPublished = {anyOf: [properties.lastPublished, {type: 'null'}]};
	}

	if (Array.isArray(out.required) && out.required.includes('id') && properties?.id === undefined) {
		delete out.required;
	}

	return out;
}

export const ajv = new Ajv({strict: false, allErrors: true});
ajv.addFormat('objectid', /^[\da-f]{24}$/);
ajv.addFormat('date-time', {validate: (s: string) => !Number.isNaN(Date.parse(s))});
ajv.addFormat('uri', {validate: (s: string) => URL.canParse(s)});
ajv.addFormat('mime-type', /^[\w.+-]+\/[\w.+-]+$/);
ajv.addFormat('date-string', {validate: (s: string) => !Number.isNaN(Date.parse(s))});
ajv.addFormat('int32', {type: 'number', validate: (n: number) => Number.isInteger(n)});

export function check({path, method, status, body, from = spec}: {path: string; method: string; status: number; body: unknown; from?: Spec}): void {
	const responses = from.paths[path]![method]!.responses;
	const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses['401'];
	const schema = response!.content!['application/json']!.schema;
	const validate = ajv.compile(repair(schema) as object);
	expect(validate(body), `${method.toUpperCase()} ${path} ${status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

export type Answer = {status: number; body: unknown; headers: Headers};

/** One request to a sandbox as a client would send it, the JSON answer checked against the description. */
export async function call({url, token, method = 'GET', path, body}: {url: string; token: string; method?: string; path: string; body?: unknown}): Promise<Answer> {
	const response = await fetch(`${url}${path}`, {
		method,
		headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const answer = {status: response.status, body: await response.json() as unknown, headers: response.headers};
	const template = templateOf(path);
	check({path: template, method: method.toLowerCase(), status: answer.status, body: answer.body});
	return answer;
}

/** The description's path template for a request path. */
export function templateOf(path: string): string {
	const bare = path.replace(/\?.*$/, '').replace(/^\/(?:v2|beta)/, '');
	for (const template of Object.keys(spec.paths)) {
		if (new RegExp(`^${template.replaceAll(/{\w+}/g, '[^/]+')}$`).test(bare)) {
			return template;
		}
	}

	throw new Error(`no operation in the description for ${path}`);
}

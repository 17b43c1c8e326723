import {describe, expect, it} from 'vitest';
import {silentLogger} from '../../src/logger.js';
import {internalFailure, keyOrder} from '../../src/engine/row-order.js';
import {Sessions} from '../../src/engine/sessions.js';
import type {Session} from '../../src/engine/session.js';

/** A task that ends when told to, saying when it started and ended. */
function gate(log: string[], name: string): {task: () => Promise<void>; open: () => void} {
	let open = () => {};
	const opened = new Promise<void>(resolve => {
		open = resolve;
	});
	return {
		async task() {
			log.push(`${name} start`);
			await opened;
			log.push(`${name} end`);
		},
		open,
	};
}

describe('rows of one key in file order, across lanes', () => {
	it('runs a key\'s rows one after another in the order given, and other keys alongside', async () => {
		const inKeyOrder = keyOrder();
		const log: string[] = [];
		const first = gate(log, 'a1');
		const second = gate(log, 'a2');
		const other = gate(log, 'b1');
		const done = [inKeyOrder('a', first.task), inKeyOrder('a', second.task), inKeyOrder('b', other.task)];
		await new Promise(resolve => setImmediate(resolve));
		// b1 need not wait for a's rows; a2 waits for a1.
		expect(log).toEqual(['a1 start', 'b1 start']);
		second.open();
		other.open();
		await done[2];
		expect(log).not.toContain('a2 start');
		first.open();
		await Promise.all(done);
		expect(log.indexOf('a1 end')).toBeLessThan(log.indexOf('a2 start'));
	});

	it('goes on with a key after one of its rows threw', async () => {
		const inKeyOrder = keyOrder();
		const thrown = inKeyOrder('a', async () => {
			throw new Error('boom');
		});
		await expect(thrown).rejects.toThrow('boom');
		let ran = false;
		await inKeyOrder('a', async () => {
			ran = true;
		});
		expect(ran).toBe(true);
	});

	it('says a row that threw failed, without any token in its message', () => {
		const outcome = internalFailure({error: new Error('bad answer for secret-token-1'), logger: silentLogger(), row: 7, secrets: ['secret-token-1']});
		expect(outcome).toEqual({status: 'failed', errorCode: 'internal_error', errorMessage: 'internal error: bad answer for [redacted]', attempts: 0});
	});
});

describe('one session per token', () => {
	it('opens a token\'s session once, for its first site, whatever number of sites share it', async () => {
		const opened: Array<{token: string; site: string | undefined}> = [];
		let closed = 0;
		const sessions = new Sessions((token, site) => {
			opened.push({token, site});
			return {async close() {
				closed++;
			}} as unknown as Session;
		});
		const a = sessions.of('t1', 'site-a');
		expect(sessions.of('t1', 'site-b')).toBe(a);
		expect(sessions.of('t2', 'site-c')).not.toBe(a);
		expect(opened).toEqual([{token: 't1', site: 'site-a'}, {token: 't2', site: 'site-c'}]);
		expect(sessions.all()).toHaveLength(2);
		await sessions.close();
		expect(closed).toBe(2);
	});
});

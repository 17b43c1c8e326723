import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {createServer, type Server, type Socket} from 'node:net';
import {afterEach} from 'vitest';
import {until} from './helpers.js';

/** Whether `redis-server` is installed (tests that need it are skipped where it is not). */
export const HAS_REDIS = spawnSync('redis-server', ['--version']).status === 0;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) {
		await cleanup();
	}
});

/** A port free a moment ago (nothing listens on it). */
export async function freePort(): Promise<number> {
	return new Promise(resolve => {
		const server = createServer().listen(0, '127.0.0.1', () => {
			const {port} = server.address() as {port: number};
			server.close(() => {
				resolve(port);
			});
		});
	});
}

/** A real redis-server on a free port, nothing saved to disk; with `password`, it requires it. */
export async function startRedis({password}: {password?: string} = {}): Promise<{url: string; port: number; server: ChildProcess}> {
	const port = await freePort();
	const auth = password === undefined ? [] : ['--requirepass', password];
	const server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', ...auth], {stdio: 'ignore'});
	cleanups.push(() => {
		server.kill('SIGKILL');
	});
	const ping = ['-p', String(port), ...password === undefined ? [] : ['--no-auth-warning', '-a', password], 'ping'];
	await until(() => spawnSync('redis-cli', ping).stdout?.toString().trim() === 'PONG', 10_000);
	return {url: `redis://127.0.0.1:${port}`, port, server};
}

/** A TCP server that accepts connections and reads, and never writes a byte: a Redis that hangs. */
export async function startSilentServer(): Promise<{url: string; connections: () => number}> {
	const sockets = new Set<Socket>();
	let connections = 0;
	const server: Server = createServer(socket => {
		connections++;
		sockets.add(socket);
		socket.on('data', () => undefined);
		socket.on('error', () => undefined);
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	cleanups.push(async () => {
		for (const socket of sockets) {
			socket.destroy();
		}

		await new Promise(resolve => server.close(resolve));
	});
	const {port} = server.address() as {port: number};
	return {url: `redis://127.0.0.1:${port}`, connections: () => connections};
}

import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		testTimeout: 60_000,
		hookTimeout: 30_000,
		// The machines have 2 cores; CLI tests spawn processes and pace requests in real time.
		maxWorkers: 2,
	},
});

import tseslint from 'typescript-eslint';

/** Each library has one owner module; only cli.ts touches the console and the process. */
const owners = [
	['got', 'src/webflow/client.ts'],
	['p-queue', 'src/schedule/pool.ts'],
	['bottleneck', 'src/schedule/limiter.ts'],
	['ioredis', 'src/schedule/redis.ts'],
	['csv-parse', 'src/files/csv/parse.ts'],
	['csv-stringify', 'src/files/csv/stringify.ts'],
	['pino', 'src/logger.ts'],
	['pino-pretty', 'src/logger.ts'],
	['exceljs', 'src/files/xlsx.ts'],
];

export default tseslint.config(
	{ignores: ['dist/', 'node_modules/', 'coverage/']},
	...tseslint.configs.recommended,
	{
		files: ['src/**/*.ts'],
		rules: {
			'no-console': 'error',
			'no-restricted-imports': ['error', {patterns: owners.map(([name, owner]) => ({group: [name, `${name}/*`], message: `only ${owner} imports ${name}`}))}],
			'no-restricted-globals': ['error', {name: 'process', message: 'only src/cli.ts touches process'}],
			'@typescript-eslint/no-non-null-assertion': 'error',
		},
	},
	...[...new Set(owners.map(([, owner]) => owner))].map(owner => ({
		files: [owner],
		rules: {'no-restricted-imports': ['error', {patterns: owners.filter(([, otherOwner]) => otherOwner !== owner).map(([other, otherOwner]) => ({group: [other, `${other}/*`], message: `only ${otherOwner} imports ${other}`}))}]},
	})),
	{
		files: ['src/cli.ts', 'src/bench/**/*.ts'],
		rules: {'no-console': 'off', 'no-restricted-globals': 'off'},
	},
	{
		files: ['src/sandbox/**/*.ts'],
		rules: {'no-restricted-imports': ['error', {patterns: [{group: ['../webflow/*', '**/webflow/*'], message: 'the sandbox is written from Webflow\'s description, not from the client'}, ...owners.map(([name, owner]) => ({group: [name, `${name}/*`], message: `only ${owner} imports ${name}`}))]}]},
	},
	{
		files: ['test/**/*.ts'],
		rules: {'@typescript-eslint/no-non-null-assertion': 'off'},
	},
);

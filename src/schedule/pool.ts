import PQueue from 'p-queue';

/**
 * Rows in flight in this process. `add` waits while the backlog is full, so the input is read no
 * faster than the rows are worked (memory stays flat however long the file).
 */
export class RowPool {
	readonly #queue: PQueue;
	readonly #backlog: number;
	/** The first task that threw: kept for `drain`, so it is reported rather than crashing the process. */
	#failure: {error: unknown} | undefined;

	/** `backlog`: rows queued beyond those in flight before `add` waits. @default 2 × concurrency */
	constructor(concurrency: number, backlog = concurrency * 2) {
		this.#queue = new PQueue({concurrency});
		this.#backlog = backlog;
	}

	/** Queues a task once there is room; resolves when it is queued, not when it is done. */
	async add(task: () => Promise<void>): Promise<void> {
		if (this.#queue.size >= this.#backlog) {
			await this.#queue.onSizeLessThan(this.#backlog);
		}

		this.#queue.add(task).catch((error: unknown) => {
			this.#failure ??= {error};
		});
	}

	/** Resolves when every queued task has finished; rejects with the first error a task threw. */
	async drain(): Promise<void> {
		await this.#queue.onIdle();
		if (this.#failure) {
			throw this.#failure.error;
		}
	}
}

const SIZE = 4096;

/**
 * The requests one pacer sent, numbered in send order: when each left and when its answer came
 * back (0 while in flight). Keeps the last 4,096; older ones read as unknown.
 */
export class SendHistory {
	readonly #sentAt: number[] = Array.from({length: SIZE}, () => 0);
	readonly #answeredAt: number[] = Array.from({length: SIZE}, () => 0);
	#sequence = 0;
	#firstSentAt = 0;

	/** The number of the last request sent (0 before the first). */
	get sequence(): number {
		return this.#sequence;
	}

	/** When the first and the last request were sent (undefined before the first). */
	get span(): {readonly first: number; readonly last: number} | undefined {
		return this.#sequence === 0 ? undefined : {first: this.#firstSentAt, last: this.lastSentAt};
	}

	get lastSentAt(): number {
		return this.#sequence === 0 ? 0 : this.#sentAt[this.#sequence % SIZE] ?? 0;
	}

	/** Notes a request leaving now; returns its number. */
	sent(at: number): number {
		const sequence = ++this.#sequence;
		this.#sentAt[sequence % SIZE] = at;
		this.#answeredAt[sequence % SIZE] = 0;
		if (sequence === 1) {
			this.#firstSentAt = at;
		}

		return sequence;
	}

	answered(sequence: number, at: number): void {
		if (this.#sequence - sequence < SIZE) {
			this.#answeredAt[sequence % SIZE] = at;
		}
	}

	/** When the request `back` before `sequence` was sent. */
	sentBefore(sequence: number, back: number): number | undefined {
		const earlier = sequence - back;
		return earlier >= 1 && back < SIZE ? this.#sentAt[earlier % SIZE] : undefined;
	}

	/** When the answer to the request `back` before `sequence` came (undefined while in flight). */
	answeredBefore(sequence: number, back: number): number | undefined {
		const earlier = sequence - back;
		const at = earlier >= 1 && back < SIZE ? this.#answeredAt[earlier % SIZE] : undefined;
		return at === 0 ? undefined : at;
	}

	/** How many requests were sent since `from` (as far back as the history goes). */
	sentSince(from: number): number {
		let count = 0;
		for (let sequence = this.#sequence; sequence >= 1 && count < SIZE - 1 && (this.#sentAt[sequence % SIZE] ?? 0) >= from; sequence--) {
			count++;
		}

		return count;
	}
}

import type {Rate, RateTimeline} from './rate.js';

/**
 * The most requests a token sent in any one window of its budget's length, from the pacer's log of
 * requests per second: "11 of 120 in any minute" states a burst against its budget, where requests
 * per minute from the first to the last of a 0.1 s burst ("6451.6/min") would read as a breach.
 */
export function peakInWindow(timeline: RateTimeline, rate: Rate): number {
	const seconds = Math.max(1, Math.round(rate.windowMs / 1000));
	const sent = [...timeline.sent].sort((a, b) => a[0] - b[0]);
	let peak = 0;
	let sum = 0;
	let start = 0;
	for (const [second, n] of sent) {
		sum += n;
		for (let oldest = sent[start]; oldest && oldest[0] <= second - seconds; oldest = sent[start]) {
			sum -= oldest[1];
			start++;
		}

		peak = Math.max(peak, sum);
	}

	return peak;
}

/** The budget's use as a summary states it: the most sent in one window, the window's budget, its length. */
export type WindowUse = {readonly peak: number; readonly perWindow: number; readonly windowSeconds: number};

/** Of several tokens, the one that came closest to its budget in any window. */
export function busiestWindow(tokens: ReadonlyArray<{timeline: RateTimeline; rate: Rate}>): WindowUse | undefined {
	let busiest: WindowUse | undefined;
	for (const {timeline, rate} of tokens) {
		const use = {peak: peakInWindow(timeline, rate), perWindow: Math.round(rate.count * 10) / 10, windowSeconds: Math.round(rate.windowMs / 1000)};
		if (!busiest || use.peak / use.perWindow > busiest.peak / busiest.perWindow) {
			busiest = use;
		}
	}

	return busiest;
}

/** "any minute", "any 6 s window". */
export function describeWindow(seconds: number): string {
	return seconds === 60 ? 'any minute' : `any ${seconds} s window`;
}

import type {RunConfig} from './run-config.js';
import {withRoom} from '../files/csv/in-order.js';
import type {CheckedInput} from '../files/input-check.js';
import type {Results} from '../files/results.js';
import {decideUnseen} from '../rows/decide.js';
import {toJob, type Job, type ValidJob} from '../rows/job.js';
import type {LaterRows} from '../rows/later.js';
import {resultCells, type Outcome, type Status} from '../rows/result.js';
import type {ImageGroups} from '../rows/same-image.js';
import {describeWarnings, DuplicateAltTracker, type WarningCode} from '../rows/warnings.js';
import {AltbatchError} from '../errors.js';
import type {ResumeReplay} from './carried.js';
import type {Lane} from './lane.js';
import type {InputPrints, ResumePlan} from './resume.js';
import {DEFAULT_LANE, perSite, routeJob, type Route} from './route.js';
import {HostedUrls, warningsFor} from '../targets/assets/rows.js';
import {outcomeOf, type RunStop} from './session.js';
import type {Tally} from './tally.js';

/** One row on its way: its job, its warnings, and the lane (token) it goes through. */
type RowWork = {readonly job: Job; readonly warnings: readonly WarningCode[]; readonly lane: string};

/**
 * Takes each row to its end: carried over by `--resume`, settled before any request (a problem,
 * a refused warning, superseded, no lane for its site, stopped, decided without reading), or
 * handed to its lane's target (src/targets/: assets, CMS), which ends it. Every row's result is
 * written and counted.
 */
export class RowRouter {
	/** A dry run that reads nothing: the requests a real run would send. */
	offlineEstimate = 0;
	/** `--resume`: rows carried over from the earlier results (they keep their status). */
	carriedOver = 0;
	readonly #config: RunConfig;
	readonly #lanes: ReadonlyMap<string, Lane>;
	readonly #offline: RunStop;
	readonly #results: Results;
	readonly #later: LaterRows | undefined;
	readonly #now: () => number;
	readonly #count: (entry: Parameters<Tally['add']>[0]) => void;
	readonly #duplicates = new DuplicateAltTracker();
	/** Rows finished (or carried over), a bit each: an input that changed part-way leaves the others to `notReached`. */
	#reached = new Uint32Array(64);
	/** When the last row finished (shared by the rows of one millisecond). */
	#finishedAt = new Date(Number.NaN);
	readonly #images: ImageGroups | undefined;
	readonly #hostedUrls = new HostedUrls();

	constructor({config, lanes, offline, results, later, images, now, count}: {config: RunConfig; lanes: ReadonlyMap<string, Lane>; offline: RunStop; results: Results; later: LaterRows | undefined; images: ImageGroups | undefined; now: () => number; count: (entry: Parameters<Tally['add']>[0]) => void}) {
		this.#config = config;
		this.#later = later;
		this.#images = images;
		this.#lanes = lanes;
		this.#offline = offline;
		this.#results = results;
		this.#now = now;
		this.#count = count;
	}

	/** One row: finished now, or queued (the promise is the pool's room for it). */
	take(read: Job): Promise<void> | undefined {
		const carrier = this.#images?.carrier(read);
		if (carrier) {
			const outcome = {status: 'skipped', errorCode: 'duplicate_image', errorMessage: `the same image as row ${carrier.row} (line ${carrier.line}), which writes it: one write per image`, attempts: 0} as const;
			this.#finish({job: read, warnings: [], lane: DEFAULT_LANE}, outcome);
			return undefined;
		}

		const job = this.#resolve(read);
		if (!('problem' in job)) {
			this.#finish({job: read, warnings: [], lane: DEFAULT_LANE}, job);
			return undefined;
		}

		const route: Route | undefined = job.problem ? undefined : routeJob(job, this.#config);
		// Counted under its site even when it has no lane there (invalid, no token): per site, the counts add up to the total.
		const laneKey = route?.kind === 'lane' ? route.key : perSite(this.#config) && job.siteId !== undefined ? job.siteId : DEFAULT_LANE;
		const {plan} = this.#results;
		const carried = plan?.carriedStatus(job);
		if (plan && carried) {
			// Its warnings are counted again (and its alt text seen), as a fresh run would.
			this.#carry({row: job.row, job, plan, status: carried, lane: laneKey, warnings: this.#warningsFor(job)});
			return undefined;
		}

		if (job.problem) {
			this.#finish({job, warnings: [], lane: laneKey}, {status: 'invalid', errorCode: job.problem.code, errorMessage: job.problem.message, attempts: 0});
			return undefined;
		}

		// The last row wins per field: what a later row changes is left to it.
		const left = this.#later?.apply(job) ?? {job};
		if ('outcome' in left) {
			this.#finish({job, warnings: [], lane: laneKey}, left.outcome);
			return undefined;
		}

		return this.#send(left.job, route, laneKey);
	}

	/**
	 * `--resume` with the input read once: every row in order, as a second read would hand them
	 * over — a carried row counted from what the check kept of it, a row to redo taken whole.
	 * (Carried rows are counted without their cells: no `--report` lists them, see `replayable`.)
	 */
	async replay(replay: ResumeReplay, checked: CheckedInput): Promise<void> {
		const {plan} = this.#results;
		if (!plan) {
			throw new AltbatchError('internal', 'internal_error', 'a resume replayed its rows without a plan');
		}

		const {kept} = replay;
		const unread = toJob({columns: checked.columns, fields: [], row: 0, line: 0});
		let next = 0;
		for (let row = 2; row <= checked.lastRow; row++) {
			const job = kept[next]?.row === row ? kept[next++] : undefined;
			const carried = plan.carriedStatus({row});
			if (carried) {
				this.#carry({row, job: job ?? unread, plan, status: carried, lane: DEFAULT_LANE, warnings: replay.warnings(row, this.#duplicates)});
			} else if (job) {
				// One row at a time, as a read hands them over: the promise is the pool's room.
				await this.take(job);
			}
		}
	}

	/** A row `--resume` carries over: counted with the status it had (under today's cells when its other cells were edited since). */
	#carry({row, job, plan, status, lane, warnings}: {row: number; job: Job; plan: ResumePlan; status: Status; lane: string; warnings: readonly WarningCode[]}): void {
		const refreshed = plan.refreshedLine(job);
		if (refreshed) {
			this.#results.writeLine(refreshed); // Same edit, other cells edited since: today's cells, the old result.
		}

		this.#markReached(row);
		this.carriedOver++;
		this.#count({job, lane, warnings, outcome: {status}});
	}

	/** A valid row (with the fields it is to send): settled before any request, or queued on its lane. */
	#send(job: ValidJob, route: Route | undefined, laneKey: string): Promise<void> | undefined {
		const work = {job, warnings: this.#warningsFor(job), lane: laneKey};
		const settled = this.#settled(work, route);
		if (settled) {
			this.#finish(work, settled);
			return undefined;
		}

		const lane = this.#lanes.get(laneKey);
		if (!lane) {
			// A dry run that reads nothing: fields the file left as exported are still never written.
			const decision = decideUnseen(job);
			this.offlineEstimate += decision.kind === 'done' ? 0 : job.base === undefined ? 1 : 2;
			this.#finish(work, decision.kind === 'done' ? decision.outcome : {status: 'would_update', attempts: 0});
			return undefined;
		}

		if (lane.stopped) {
			this.#finish(work, lane.stoppedOutcome());
			return undefined;
		}

		return lane.take(job, outcome => {
			this.#finish(work, outcome);
		});
	}

	/** A row found by a URL that is not a Webflow CDN URL: its asset from the prefetched sites (targets/assets/rows.ts), or on to its site's CMS images. */
	#resolve(job: Job): Job | Outcome {
		// Only a row found by such a URL needs the sites: no list made for every other row.
		if (job.problem?.code !== 'image_url_unresolved') {
			return job;
		}

		const {site} = this.#config;
		const cmsToo = (siteId: string) => this.#lanes.get(site === undefined ? siteId : DEFAULT_LANE)?.findsCmsImages() === true;
		return this.#hostedUrls.resolve(job, [...this.#lanes.values()].map(lane => ({site: lane.site, snapshot: lane.assets.snapshot})), site, cmsToo);
	}

	/** Every row in flight ended (each lane's targets flushed); the first that failed, if one did. */
	async drain(): Promise<PromiseRejectedResult | undefined> {
		const drained = await Promise.allSettled([...this.#lanes.values()].flatMap(lane => lane.flush()));
		return drained.find(result => result.status === 'rejected');
	}

	/** The row's outcome when it is known before any request, in this order of precedence. */
	#settled(work: RowWork & {readonly job: ValidJob}, route: Route | undefined): Outcome | undefined {
		const {job} = work;
		if (job.designerOnly === true) {
			return DESIGNER_ONLY_OUTCOME;
		}

		const refused = work.warnings.filter(code => this.#config.refuseWarnings?.has(code));
		if (refused.length > 0) {
			return {status: 'invalid', errorCode: refused[0], errorMessage: `--refuse-warnings: the alt text ${describeWarnings(refused)}; not sent`, ownMessage: true, attempts: 0};
		}

		const superseded = this.#results.plan?.superseded(job);
		if (superseded) {
			return superseded;
		}

		if (route?.kind === 'refused') {
			return route.outcome;
		}

		if (this.#offline.current) {
			return outcomeOf({kind: 'stopped', reply: undefined, attempts: 0}, this.#offline.current, this.#config.maxWaitMs);
		}

		return undefined;
	}

	#finish(work: RowWork, outcome: Outcome): void {
		this.#markReached(work.job.row);
		// Not `{...outcome, job, …}`: on Node 20 a spread followed by more properties takes V8's slow
		// path (about 4 µs), seconds over a million rows; Object.assign is the same object, fast.
		// Rows finish many to a millisecond: one Date for each millisecond, not one per row.
		const now = this.#now();
		if (now !== this.#finishedAt.getTime()) {
			this.#finishedAt = new Date(now);
		}

		if (this.#results.write(resultCells(Object.assign({}, outcome, {job: work.job, warnings: work.warnings, finishedAt: this.#finishedAt})))) {
			this.#count({job: work.job, lane: work.lane, warnings: work.warnings, outcome});
		}
	}

	#markReached(row: number): void {
		if (row >>> 5 >= this.#reached.length) {
			this.#reached = withRoom(this.#reached, row >>> 5);
		}

		this.#reached[row >>> 5] = (this.#reached[row >>> 5] ?? 0) | (1 << (row & 31));
	}

	/**
	 * The input changed while the run read it: each checked row not reached gets its result row,
	 * `not_attempted` with `input_changed` (its cells as checked are not kept: only its row number).
	 */
	notReached({checked, prints}: {checked: CheckedInput; prints: InputPrints}): void {
		const outcome: Outcome = {status: 'not_attempted', errorCode: 'input_changed', errorMessage: 'the input changed while the run was reading it, before this row: not read again and not sent; check the file, then run again with --resume', ownMessage: true, attempts: 0};
		for (let row = 2; row <= checked.lastRow; row++) {
			if (prints.cells(row) !== 0 && ((this.#reached[row >>> 5] ?? 0) & (1 << (row & 31))) === 0) {
				const job = toJob({columns: checked.columns, fields: [], row, line: row});
				this.#finish({job, warnings: [], lane: DEFAULT_LANE}, outcome);
			}
		}
	}

	#warningsFor(job: Job): WarningCode[] {
		const snapshot = this.#lanes.get(DEFAULT_LANE)?.assets.snapshot ?? (job.siteId === undefined ? undefined : this.#lanes.get(job.siteId)?.assets.snapshot);
		return warningsFor(job, snapshot, this.#duplicates);
	}
}

/** An audit row only the Designer can fix (`fix_with` = `designer`): the Data API cannot write an image element's own alt. */
const DESIGNER_ONLY_OUTCOME: Outcome = {status: 'skipped', errorCode: 'designer_only', errorMessage: 'only the Designer can change this alt text (an image element\'s own alt, or a component\'s); fix it there (page and node in the audit)', attempts: 0};

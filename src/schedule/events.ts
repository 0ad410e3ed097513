/** What a Scheduler tells: its events and the status `list()` gives. */
import type { MisfirePolicy } from './due.js';
import type { LastTick } from './record.js';

/** A tick enqueued by this scheduler. */
export interface TickInfo {
  /** The schedule's id. */
  readonly id: string;
  /** The tick: the time it was due, as in the job's `schedule.tick`. */
  readonly tick: Date;
  readonly jid: string;
  /** The beanstalkd id of the job put. */
  readonly jobId: number;
  /** How long after its time the tick was enqueued, by this scheduler's clock. */
  readonly lateMs: number;
}

/** Ticks no scheduler enqueued on time because none was running (downtime), and what the policy did. */
export interface MisfireInfo {
  readonly id: string;
  readonly policy: MisfirePolicy;
  /** The oldest and the newest missed tick. */
  readonly first: Date;
  readonly last: Date;
  /** Missed ticks, counted up to 1,000 (1,000 means "at least"). */
  readonly missed: number;
  /** How many of them were enqueued now: 0 with `skip`, 1 with `once`, up to `misfireLimit` with `all`. */
  readonly fired: number;
}

export interface SchedulerEvents {
  tick: [info: TickInfo];
  misfire: [info: MisfireInfo];
  /** True when this scheduler takes the lease, false when it no longer holds it. */
  leader: [leading: boolean];
  error: [error: Error];
}

export interface ScheduleStatus {
  readonly id: string;
  readonly cron: string;
  readonly timezone: string;
  readonly misfire: MisfirePolicy;
  /** The next tick to be enqueued; null when the expression names no more times. */
  readonly next: Date | null;
  /** The last tick enqueued, when, and by which scheduler (its `name`); null before the first. */
  readonly last: LastTick | null;
}

export type { LastTick } from './record.js';

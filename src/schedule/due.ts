/**
 * Which ticks of one schedule to enqueue now: pure maths over the cron times, the last tick
 * handled and the clock, so that DST and misfires are tested with any clock and no server.
 */
import type { CronTimes } from './cron.js';

/** What to do with the ticks a scheduler missed while none was running. */
export type MisfirePolicy = 'skip' | 'once' | 'all';

export const MISFIRE_POLICIES: readonly MisfirePolicy[] = ['skip', 'once', 'all'];

/** Missed ticks are counted up to this many: counting is a cron step each, and a year of seconds is 31 million. */
export const MISSED_COUNT_CAP = 1000;

/**
 * Ticks enqueued in one go when catching up after a handover: far more than a catch-up window can
 * hold (one tick a second at most, the window a lease TTR of at most an hour), so reaching it means
 * the window was not a handover.
 */
const CATCH_UP_CAP = 10_000;

export interface DueInput {
  readonly cron: CronTimes;
  /** Every tick up to this instant is handled (enqueued, or passed over by the policy); null: none yet. */
  readonly handled: Date | null;
  readonly now: Date;
  readonly policy: MisfirePolicy;
  /** With `all`: at most this many missed ticks are enqueued, the newest ones. */
  readonly limit: number;
  /**
   * Ticks whose oldest is at most this late are a handover or a slow moment, and all of them are
   * enqueued; an oldest tick later than this means no scheduler ran, and the policy decides.
   */
  readonly graceMs: number;
}

/** Ticks passed over after downtime, and what the policy did with them. */
export interface Missed {
  /** The oldest and newest tick of the gap. */
  readonly first: Date;
  readonly last: Date;
  /** Ticks in the gap, counted up to MISSED_COUNT_CAP (so the cap means "at least"). */
  readonly missed: number;
  /** How many of them are enqueued: 0 (skip), 1 (once), up to the limit (all). */
  readonly fired: number;
}

export interface Due {
  /** Ticks to enqueue, oldest first. */
  readonly fire: Date[];
  /** What `handled` becomes once `fire` is enqueued (unchanged when nothing is due). */
  readonly handled: Date | null;
  /** Set when the ticks due go back further than the grace: downtime, handled by the policy. */
  readonly missed: Missed | null;
}

/**
 * The ticks due at `now`. A schedule never handled starts at `now`: ticks from before it existed
 * are not missed ones.
 */
export function dueTicks(input: DueInput): Due {
  const { cron, now } = input;
  const handled = input.handled ?? now;
  const first = cron.next(handled);
  if (first === null || first > now) return { fire: [], handled, missed: null };
  if (now.getTime() - first.getTime() <= input.graceMs) {
    const fire = ticksBetween(cron, first, now, CATCH_UP_CAP);
    return { fire, handled: fire[fire.length - 1] ?? handled, missed: null };
  }
  const newest = cron.previous(new Date(now.getTime() + 1), Math.max(1, input.policy === 'all' ? input.limit : 1));
  const last = newest[0] ?? first;
  const fire =
    input.policy === 'skip' ? [] : input.policy === 'once' ? [last] : newest.filter((tick) => tick > handled).reverse();
  const missed = ticksBetween(cron, first, now, MISSED_COUNT_CAP).length;
  return { fire, handled: last, missed: { first, last, missed, fired: fire.length } };
}

/** The ticks from `first` (a tick) to `until`, both included, at most `cap` of them. */
function ticksBetween(cron: CronTimes, first: Date, until: Date, cap: number): Date[] {
  const ticks: Date[] = [];
  for (let tick: Date | null = first; tick !== null && tick <= until && ticks.length < cap; tick = cron.next(tick)) {
    ticks.push(tick);
  }
  return ticks;
}

/**
 * The next tick a scheduler will enqueue as things stand: after `handled`, or after `now` when
 * `handled` is behind (what is overdue goes out at once; the answer is about what comes next).
 */
export function nextTick(cron: CronTimes, handled: Date | null, now: Date): Date | null {
  return cron.next(handled !== null && handled > now ? handled : now);
}

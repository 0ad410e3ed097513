/**
 * What the scheduler holding the lease does: keeps the lease, enqueues the ticks that are due, and
 * records them in beanstalkd before looking at the next ones.
 *
 * Order for each round: touch the lease (so a leader that was frozen past its TTR finds out before
 * it enqueues anything), enqueue the due ticks, then write the record of last ticks. A leader that
 * dies after a tick's put and before the record's put leaves a tick the next leader enqueues again:
 * the record gap, one round trip wide.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import type { Client } from '../client.js';
import { ConnectionError, NotFoundError } from '../errors.js';
import { enqueueScheduled } from '../jobs/define.js';
import { dueTicks, type Due } from './due.js';
import { keepLease, releaseLease, stuckLeases } from './lease.js';
import { type LastTicks, type RecordedPlan, type ScheduleRecord } from './record.js';
import type { CheckedSchedule } from './schedules.js';
import { Sleeper } from './sleeper.js';
import { sweepRecord, writeRecord } from './store.js';
import type { MisfireInfo, TickInfo } from './events.js';

/** The longest a leader sleeps without looking at the clock again (it may have been set). */
const MAX_SLEEP_MS = 10_000;
/** After a put or a record write was refused: wait before trying again, rather than spin. */
const RETRY_MS = 1000;
/**
 * A leader gives up a lease it last touched longer ago than this share of the TTR, even if the
 * server would still take a touch: by the protocol the lease may have passed to another.
 */
const LEASE_SHARE = 0.9;

export interface LeaderHost {
  readonly schedules: readonly CheckedSchedule[];
  /** This scheduler's name, recorded with each tick it enqueues. */
  readonly name: string;
  readonly leaseTtr: number;
  /** How late the oldest due tick may be and still count as a handover rather than downtime. */
  readonly graceMs: number;
  stopping(): boolean;
  recorded(record: LastTicks): void;
  tick(info: TickInfo): void;
  missed(info: MisfireInfo): void;
  error(error: Error): void;
}

/** How one schedule's round went. */
interface Enqueued {
  readonly schedule: CheckedSchedule;
  readonly due: Due;
  /** The ticks put, oldest first: a prefix of due.fire. */
  readonly done: Date[];
}

export class Leader {
  private readonly sleeper = new Sleeper();
  private readonly keeper = new Sleeper();
  private record: LastTicks;
  private recordId: number | null = null;
  /** The record in memory is newer than the copy in beanstalkd (its write was refused). */
  private dirty = false;
  private lost = false;
  private failure: Error | null = null;
  private retryAt = 0;
  /** When the last touch that the server took was sent: the lease is ours until a TTR after it. */
  private touchedAt: number;

  constructor(
    private readonly lease: Client,
    private readonly ops: Client,
    private readonly leaseId: number,
    private readonly host: LeaderHost,
  ) {
    this.record = { seq: 0, schedules: new Map(), lease: leaseId, stale: [] };
    // The reservation came a little before its reply: LEASE_SHARE leaves room for that.
    this.touchedAt = performance.now();
  }

  /** Leads until the lease is lost or the scheduler stops; rejects when a connection fails. */
  async run(): Promise<void> {
    const keeping = this.keepAlive();
    try {
      await this.takeOver();
      while (!this.over()) {
        await this.round();
        if (this.over()) break;
        await this.sleeper.sleep(this.untilNext());
      }
      if (this.failure !== null) throw this.failure;
      // A clean stop hands the lease to a follower now rather than after its TTR.
      if (!this.lost) await releaseLease(this.lease, this.leaseId).catch(() => undefined);
    } finally {
      this.lost = true;
      this.keeper.wake();
      await keeping;
    }
  }

  /** Cuts a sleep short: the scheduler is stopping or a connection closed. */
  wake(failure?: Error): void {
    if (failure !== undefined) this.failure ??= failure;
    this.sleeper.wake();
    this.keeper.wake();
  }

  private over(): boolean {
    return this.lost || this.failure !== null || this.host.stopping();
  }

  /** Takes every copy of the record, merges them, and writes one back with a start for new schedules. */
  private async takeOver(): Promise<void> {
    const swept = await sweepRecord(this.ops);
    const now = new Date();
    const schedules = new Map(swept.record.schedules);
    for (const schedule of this.host.schedules) {
      // A schedule never recorded starts now: its ticks from before it existed are not missed ones.
      const entry = schedules.get(schedule.id) ?? { handled: now, last: null };
      schedules.set(schedule.id, { ...entry, plan: planOf(schedule, entry.handled) });
    }
    // Leases of earlier leaders that are still reserved past their TTR: followers must discount them.
    const earlier = [swept.record.lease, ...swept.record.stale].filter((id): id is number => id !== null && id !== this.leaseId);
    const stale = await stuckLeases(this.lease, earlier);
    this.record = { seq: swept.record.seq + 1, schedules, lease: this.leaseId, stale };
    this.recordId = await writeRecord(this.ops, this.record, swept.held);
    this.host.recorded(this.record);
  }

  /** Enqueues what is due and records it. */
  private async round(): Promise<void> {
    if (performance.now() < this.retryAt) return;
    const now = new Date();
    const plans: { schedule: CheckedSchedule; due: Due }[] = [];
    for (const schedule of this.host.schedules) {
      const due = this.dueFor(schedule, now);
      if (due.fire.length > 0 || due.handled?.getTime() !== this.entry(schedule).handled.getTime()) plans.push({ schedule, due });
      // Counting a long gap takes a cron step per missed tick: let the lease's touches through meanwhile.
      if (due.missed !== null) await setImmediate();
    }
    if (plans.length > 0) {
      if (!(await this.confirmLease())) return;
      const rounds = await Promise.all(plans.map(({ schedule, due }) => this.enqueue(schedule, due, now)));
      this.apply(rounds, now);
    }
    if (this.dirty) await this.writeBack();
  }

  private dueFor(schedule: CheckedSchedule, now: Date): Due {
    return dueTicks({
      cron: schedule.cron,
      handled: this.entry(schedule).handled,
      now,
      policy: schedule.misfire,
      limit: schedule.misfireLimit,
      graceMs: this.host.graceMs,
    });
  }

  private entry(schedule: CheckedSchedule): ScheduleRecord {
    return this.record.schedules.get(schedule.id) as ScheduleRecord;
  }

  /**
   * Touches the lease before enqueuing: false if it is gone (another scheduler leads now), or if the
   * touch took so long that the lease may have run out meanwhile.
   */
  private async confirmLease(): Promise<boolean> {
    const sent = performance.now();
    if (!(await this.touch())) return false;
    return performance.now() - sent < (this.host.leaseTtr * 1000) / 2;
  }

  /** Puts the due ticks of one schedule in order, stopping at the first refused. */
  private async enqueue(schedule: CheckedSchedule, due: Due, now: Date): Promise<Enqueued> {
    const done: Date[] = [];
    for (const tick of due.fire) {
      try {
        const placed = await enqueueScheduled(this.ops, schedule.job, schedule.args, schedule.enqueue, {
          id: schedule.id,
          tick: tick.toISOString(),
        });
        done.push(tick);
        this.host.tick({ id: schedule.id, tick, jid: placed.jid, jobId: placed.id, lateMs: Math.max(0, now.getTime() - tick.getTime()) });
      } catch (error) {
        if (error instanceof ConnectionError) throw error;
        this.host.error(new Error(`schedule ${schedule.id}: the tick ${tick.toISOString()} could not be enqueued: ${(error as Error).message}`, { cause: error }));
        this.retryAt = performance.now() + RETRY_MS;
        break;
      }
    }
    return { schedule, due, done };
  }

  /** The record after a round: what was enqueued, and what the misfire policy passed over. */
  private apply(rounds: readonly Enqueued[], now: Date): void {
    const schedules = new Map(this.record.schedules);
    for (const { schedule, due, done } of rounds) {
      const before = this.entry(schedule);
      const newest = done[done.length - 1];
      const complete = done.length === due.fire.length;
      // Partly enqueued: handled only up to the last tick put, so the rest is tried again.
      const handled = complete ? (due.handled ?? before.handled) : (newest ?? before.handled);
      const last = newest === undefined ? before.last : { tick: newest, by: this.host.name, at: now };
      schedules.set(schedule.id, { handled, last, plan: planOf(schedule, handled) });
      if (due.missed !== null && complete) {
        this.host.missed({ id: schedule.id, policy: schedule.misfire, ...due.missed });
      }
    }
    this.record = { ...this.record, seq: this.record.seq + 1, schedules };
    this.dirty = true;
    this.host.recorded(this.record);
  }

  private async writeBack(): Promise<void> {
    try {
      this.recordId = await writeRecord(this.ops, this.record, this.recordId === null ? [] : [this.recordId]);
      this.dirty = false;
    } catch (error) {
      if (error instanceof ConnectionError) throw error;
      this.host.error(new Error(`the record of last ticks could not be written: ${(error as Error).message}`, { cause: error }));
      this.retryAt = performance.now() + RETRY_MS;
    }
  }

  /** Milliseconds until the soonest tick of any schedule is due. */
  private untilNext(): number {
    let soonest = Infinity;
    for (const schedule of this.host.schedules) {
      const next = schedule.cron.next(this.entry(schedule).handled);
      if (next !== null) soonest = Math.min(soonest, next.getTime());
    }
    // A record that could not be written is tried again within RETRY_MS; refused puts not before then.
    const wait = Math.min(MAX_SLEEP_MS, soonest - Date.now(), this.dirty ? RETRY_MS : Infinity);
    return Math.max(wait, this.retryAt - performance.now(), 0);
  }

  /** Touches the lease a few times per TTR until the leader stops. */
  private async keepAlive(): Promise<void> {
    const interval = (this.host.leaseTtr * 1000) / 3;
    while (!this.over()) {
      await this.keeper.sleep(interval - (performance.now() - this.touchedAt));
      if (this.over()) return;
      await this.touch();
    }
  }

  /** False, and the leader over, when the lease is no longer ours. */
  private async touch(): Promise<boolean> {
    const sent = performance.now();
    if (sent - this.touchedAt > this.host.leaseTtr * 1000 * LEASE_SHARE) {
      // Frozen or starved past the TTR: another may lead by now. A server that kept the lease
      // reserved anyway (see lease.ts) gets it deleted, so no one counts it as held.
      this.lost = true;
      this.sleeper.wake();
      await this.lease.delete(this.leaseId).catch(() => undefined);
      return false;
    }
    try {
      await keepLease(this.lease, this.leaseId);
      this.touchedAt = Math.max(this.touchedAt, sent);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) this.lost = true;
      else this.failure ??= error as Error;
      this.sleeper.wake();
      return false;
    }
  }
}

/** What operators are shown of a schedule in the record. */
function planOf(schedule: CheckedSchedule, handled: Date): RecordedPlan {
  return { cron: schedule.cron.expression, timezone: schedule.cron.timezone, misfire: schedule.misfire, type: schedule.job.type, next: schedule.cron.next(handled) };
}

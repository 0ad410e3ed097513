/**
 * The record of last ticks: for each schedule, the tick up to which everything is handled and the
 * last tick enqueued, by whom. It lives in beanstalkd as one job (see store.ts), so it outlives
 * every scheduler process; this file is its JSON shape and how two copies merge.
 */

/** The last tick a scheduler enqueued for a schedule. */
export interface LastTick {
  readonly tick: Date;
  /** The scheduler's name. */
  readonly by: string;
  /** When it was enqueued, by that scheduler's clock. */
  readonly at: Date;
}

/**
 * How the leader that wrote the record was told to run a schedule: written for operators (`beanline
 * schedules`, the dashboard), who see the record but not the schedulers' code. Never read back by a
 * scheduler: each runs the schedules it was given.
 */
export interface RecordedPlan {
  readonly cron: string;
  readonly timezone: string;
  readonly misfire: string;
  /** The job type the schedule enqueues. */
  readonly type: string;
  /** The next tick after `handled`, when the record was written; null when the cron has no more. */
  readonly next: Date | null;
}

export interface ScheduleRecord {
  /** Every tick up to this instant is handled: enqueued, or passed over by the misfire policy. */
  readonly handled: Date;
  readonly last: LastTick | null;
  /** Absent in records written before beanline wrote plans. */
  readonly plan?: RecordedPlan;
}

export interface LastTicks {
  /** Bumped on each write; orders copies (see store.ts). */
  readonly seq: number;
  readonly schedules: ReadonlyMap<string, ScheduleRecord>;
  /** The id of the lease the writer held, so followers can tell when it is stuck (see lease.ts). */
  readonly lease: number | null;
  /** Earlier leases found stuck: reserved past their TTR by a holder that went silent. */
  readonly stale: readonly number[];
}

export const EMPTY: LastTicks = { seq: 0, schedules: new Map(), lease: null, stale: [] };

/** Marks the body, so that a stray job in the tube is never read as the record. */
const KIND = 'beanline-schedule-ticks';

export function encodeLastTicks(record: LastTicks): string {
  const schedules: Record<string, unknown> = {};
  for (const [id, entry] of record.schedules) {
    schedules[id] = {
      handled: entry.handled.toISOString(),
      last: entry.last === null ? null : { tick: entry.last.tick.toISOString(), by: entry.last.by, at: entry.last.at.toISOString() },
      ...(entry.plan === undefined ? {} : { plan: { ...entry.plan, next: entry.plan.next?.toISOString() ?? null } }),
    };
  }
  return JSON.stringify({ kind: KIND, seq: record.seq, lease: record.lease, stale: record.stale, schedules });
}

/** The record in a job body; null for anything else (never throws: the tube is shared ground). */
export function decodeLastTicks(body: Buffer): LastTicks | null {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(value) || value['kind'] !== KIND || typeof value['seq'] !== 'number' || !isObject(value['schedules'])) return null;
  const schedules = new Map<string, ScheduleRecord>();
  for (const [id, entry] of Object.entries(value['schedules'])) {
    const read = readEntry(entry);
    if (read !== null) schedules.set(id, read);
  }
  const lease = typeof value['lease'] === 'number' ? value['lease'] : null;
  const stale = Array.isArray(value['stale']) ? value['stale'].filter((id): id is number => typeof id === 'number') : [];
  return { seq: value['seq'], schedules, lease, stale };
}

function readEntry(entry: unknown): ScheduleRecord | null {
  if (!isObject(entry)) return null;
  const handled = readDate(entry['handled']);
  if (handled === null) return null;
  const plan = readPlan(entry['plan']);
  const withPlan = plan === null ? {} : { plan };
  const last = entry['last'];
  if (!isObject(last)) return { handled, last: null, ...withPlan };
  const tick = readDate(last['tick']);
  const at = readDate(last['at']);
  if (tick === null || at === null || typeof last['by'] !== 'string') return { handled, last: null, ...withPlan };
  return { handled, last: { tick, at, by: last['by'] }, ...withPlan };
}

function readPlan(plan: unknown): RecordedPlan | null {
  if (!isObject(plan)) return null;
  const { cron, timezone, misfire, type } = plan;
  if (typeof cron !== 'string' || typeof timezone !== 'string' || typeof misfire !== 'string' || typeof type !== 'string') return null;
  return { cron, timezone, misfire, type, next: readDate(plan['next']) };
}

/**
 * Two copies as one: for each schedule the later `handled` and the later last tick. Copies only
 * differ after a leader died between writing the new copy and deleting the old one, or after two
 * schedulers briefly both believed they led; neither may move a schedule back.
 */
export function mergeLastTicks(a: LastTicks, b: LastTicks): LastTicks {
  const newer = b.seq > a.seq ? b : a;
  const schedules = new Map(a.schedules);
  for (const [id, entry] of b.schedules) {
    const other = schedules.get(id);
    schedules.set(id, other === undefined ? entry : mergeEntry(other, entry, newer === b));
  }
  const older = newer === a ? b : a;
  // The older copy's lease is one the newer writer replaced: keep its id among the stale.
  const stale = [...new Set([...a.stale, ...b.stale, ...(older.lease === null || older.lease === newer.lease ? [] : [older.lease])])];
  return { seq: newer.seq, schedules, lease: newer.lease, stale };
}

/** The later of each; the plan of the newer copy (the schedules may have been changed since). */
function mergeEntry(a: ScheduleRecord, b: ScheduleRecord, bIsNewer: boolean): ScheduleRecord {
  const handled = a.handled >= b.handled ? a.handled : b.handled;
  const last = a.last === null ? b.last : b.last === null ? a.last : a.last.tick >= b.last.tick ? a.last : b.last;
  const plan = bIsNewer ? (b.plan ?? a.plan) : (a.plan ?? b.plan);
  return plan === undefined ? { handled, last } : { handled, last, plan };
}

function readDate(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

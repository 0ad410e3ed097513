/**
 * The recurring schedules as operators see them: from the record of last ticks each Scheduler's
 * leader keeps in beanstalkd (`<lockTube>.ticks`), with the plan it writes there for them (cron,
 * time zone, misfire policy, job type, next tick). Every such tube on the server is read, so
 * schedulers with a lockTube of their own are found without being named.
 */
import type { Client } from '../client.js';
import { decodeLastTicks } from '../schedule/record.js';
import { RECORD_SUFFIX } from '../schedule/scheduler.js';

export interface ScheduleView {
  /** The schedulers' lockTube (the record lives in `<lockTube>.ticks`). */
  readonly lockTube: string;
  readonly id: string;
  /** Null in a record written before beanline wrote plans. */
  readonly type: string | null;
  readonly cron: string | null;
  readonly timezone: string | null;
  readonly misfire: string | null;
  /** ISO 8601: the next tick when the record was written; past it, no scheduler is leading. */
  readonly next: string | null;
  readonly last: { readonly tick: string; readonly by: string; readonly at: string } | null;
  /** ISO 8601: every tick up to here is enqueued or passed over. */
  readonly handled: string;
}

/** Every schedule recorded on the server, or only those of `lockTube`. */
export async function readSchedules(client: Client, lockTube?: string): Promise<ScheduleView[]> {
  const wanted = lockTube === undefined ? null : `${lockTube}${RECORD_SUFFIX}`;
  const tubes = (await client.listTubes()).filter((name) => (wanted === null ? name.endsWith(RECORD_SUFFIX) : name === wanted));
  if (tubes.length === 0) return [];
  // Each `use` and its `peek-ready` are issued together, so nothing comes between them; then back
  // to default, since a connection using a tube keeps that tube in existence.
  const peeks = tubes.map((tube) => Promise.all([client.use(tube), client.peekReady()]).then(([, job]) => job));
  const back = client.use('default');
  const [jobs] = await Promise.all([Promise.all(peeks), back]);
  return tubes.flatMap((tube, index) => {
    const job = jobs[index];
    // Anything else in a tube named like a record (or nothing) is not one.
    const record = job === null || job === undefined ? null : decodeLastTicks(job.body);
    if (record === null) return [];
    const owner = tube.slice(0, -RECORD_SUFFIX.length);
    return [...record.schedules].map(([id, entry]) => ({
      lockTube: owner,
      id,
      type: entry.plan?.type ?? null,
      cron: entry.plan?.cron ?? null,
      timezone: entry.plan?.timezone ?? null,
      misfire: entry.plan?.misfire ?? null,
      next: entry.plan?.next?.toISOString() ?? null,
      last: entry.last === null ? null : { tick: entry.last.tick.toISOString(), by: entry.last.by, at: entry.last.at.toISOString() },
      handled: entry.handled.toISOString(),
    }));
  });
}

/**
 * The recurring schedules, as the schedulers' record of last ticks tells them (each leader writes
 * its plan there for operators: cron, time zone, job type, next tick). Read from the default lock
 * tube; a Scheduler given another `lockTube` is not seen.
 */
import type { Client } from '../../client.js';
import { decodeLastTicks } from '../../schedule/record.js';
import { DEFAULT_LOCK_TUBE, RECORD_SUFFIX } from '../../schedule/scheduler.js';

export interface ScheduleRow {
  readonly server: string;
  readonly id: string;
  readonly cron: string | null;
  readonly timezone: string | null;
  readonly type: string | null;
  readonly next: string | null;
  readonly lastTick: string | null;
  readonly lastBy: string | null;
  readonly handled: string;
}

const RECORD_TUBE = `${DEFAULT_LOCK_TUBE}${RECORD_SUFFIX}`;

export async function readSchedules(url: string, client: Client): Promise<ScheduleRow[]> {
  if (!(await client.listTubes()).includes(RECORD_TUBE)) return [];
  // Issued together so no other request's `use` comes between them; back to default after, since
  // a connection using a tube keeps it in existence.
  const used = client.use(RECORD_TUBE);
  const peeked = client.peekReady();
  const back = client.use('default');
  const [, job] = await Promise.all([used, peeked, back]);
  const record = job === null ? null : decodeLastTicks(job.body);
  if (record === null) return [];
  return [...record.schedules].map(([id, entry]) => ({
    server: url,
    id,
    cron: entry.plan?.cron ?? null,
    timezone: entry.plan?.timezone ?? null,
    type: entry.plan?.type ?? null,
    next: entry.plan?.next?.toISOString() ?? null,
    lastTick: entry.last?.tick.toISOString() ?? null,
    lastBy: entry.last?.by ?? null,
    handled: entry.handled.toISOString(),
  }));
}

/** The recurring schedules for the scheduled page: every schedule recorded on each server. */
import type { Client } from '../../client.js';
import { readSchedules as readRecorded } from '../../observe/schedules.js';

export interface ScheduleRow {
  readonly server: string;
  readonly lockTube: string;
  readonly id: string;
  readonly cron: string | null;
  readonly timezone: string | null;
  readonly type: string | null;
  readonly next: string | null;
  readonly lastTick: string | null;
  readonly lastBy: string | null;
  readonly handled: string;
}

export async function readSchedules(url: string, client: Client): Promise<ScheduleRow[]> {
  return (await readRecorded(client)).map((schedule) => ({
    server: url,
    lockTube: schedule.lockTube,
    id: schedule.id,
    cron: schedule.cron,
    timezone: schedule.timezone,
    type: schedule.type,
    next: schedule.next,
    lastTick: schedule.last?.tick ?? null,
    lastBy: schedule.last?.by ?? null,
    handled: schedule.handled,
  }));
}

/**
 * The schedules a Scheduler is given, as apps write them and as the scheduler checks them: every
 * mistake (a bad cron, an unknown zone, a duplicate id, arguments JSON cannot carry) is an
 * InvalidArgumentError at construction, never a surprise at the first tick.
 */
import { InvalidArgumentError } from '../errors.js';
import type { AnyJobDefinition, EnqueueOptions, JobDefinition } from '../jobs/define.js';
import { checkJson } from '../jobs/json.js';
import { checkUint32 } from '../protocol/validate.js';
import { parseCron, type CronTimes } from './cron.js';
import { MISFIRE_POLICIES, type MisfirePolicy } from './due.js';

/** With `misfire: 'all'`, missed ticks enqueued after downtime unless `misfireLimit` says otherwise. */
export const DEFAULT_MISFIRE_LIMIT = 100;

/** The enqueue options a schedule may set: every one but `at`, which the tick decides. */
export type ScheduleEnqueueOptions = Omit<EnqueueOptions, 'at'>;

export interface Schedule<Args = unknown> {
  /** Names the schedule in the record of last ticks and in every job's `schedule.id`: keep it stable. */
  id: string;
  /** 5 fields (minute first), or 6 with seconds first; or @hourly, @daily, @weekly, @monthly, @yearly. */
  cron: string;
  /** What each tick enqueues. */
  job: JobDefinition<Args>;
  /** The arguments of every job it enqueues. */
  args?: Args;
  /** IANA zone name the cron expression is read in. Default `UTC`. */
  timezone?: string;
  /** After downtime: `skip` (default), `once` (the newest missed tick), `all` (up to `misfireLimit`). */
  misfire?: MisfirePolicy;
  /** With `all`: how many missed ticks at most, the newest ones. Default 100. */
  misfireLimit?: number;
  /** As for `job.enqueue` (tube, priority, delay, ttr, retry, custom, key). */
  enqueue?: ScheduleEnqueueOptions;
}

/** A schedule of any job: what a list of schedules of different jobs holds. */
export interface AnySchedule extends Omit<Schedule<never>, 'job' | 'args'> {
  job: AnyJobDefinition;
  args?: unknown;
}

/** The argument type of a schedule's job; `unknown` for a job of any type. */
type ArgsOf<Job> = Job extends JobDefinition<infer Args> ? ([Args] extends [never] ? unknown : Args) : unknown;

/** Holds each schedule's `args` to its own job's argument type. */
export type SchedulesChecked<S extends readonly AnySchedule[]> = { [K in keyof S]: S[K] & { args?: ArgsOf<S[K]['job']> } };

/** A schedule checked and compiled. */
export interface CheckedSchedule {
  readonly id: string;
  readonly cron: CronTimes;
  readonly job: AnyJobDefinition;
  readonly args: unknown;
  readonly misfire: MisfirePolicy;
  readonly misfireLimit: number;
  readonly enqueue: ScheduleEnqueueOptions;
}

export function checkSchedules(schedules: unknown): CheckedSchedule[] {
  if (!Array.isArray(schedules)) throw new InvalidArgumentError('schedules', 'schedules must be an array');
  const ids = new Set<string>();
  return schedules.map((schedule: unknown, index) => {
    const checked = checkSchedule(schedule, `schedules[${index}]`);
    if (ids.has(checked.id)) throw new InvalidArgumentError(`schedules[${index}].id`, `schedule id ${JSON.stringify(checked.id)} is given twice`);
    ids.add(checked.id);
    return checked;
  });
}

function checkSchedule(value: unknown, at: string): CheckedSchedule {
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(at, `${at} must be a schedule object`);
  const schedule = value as Partial<Schedule<unknown>>;
  if (typeof schedule.id !== 'string' || schedule.id === '') throw new InvalidArgumentError(`${at}.id`, `${at}.id must be a non-empty string`);
  const name = `schedule ${JSON.stringify(schedule.id)}`;
  const job = schedule.job;
  if (typeof job !== 'object' || job === null || typeof job.type !== 'string' || typeof job.enqueue !== 'function') {
    throw new InvalidArgumentError(`${at}.job`, `${name}: job must be a definition made by defineJob`);
  }
  const misfire = schedule.misfire ?? 'skip';
  if (!MISFIRE_POLICIES.includes(misfire)) {
    throw new InvalidArgumentError(`${at}.misfire`, `${name}: misfire must be one of ${MISFIRE_POLICIES.join(', ')}, got ${String(misfire)}`);
  }
  const misfireLimit = checkUint32(schedule.misfireLimit ?? DEFAULT_MISFIRE_LIMIT, `${at}.misfireLimit`);
  if (misfireLimit < 1) throw new InvalidArgumentError(`${at}.misfireLimit`, `${name}: misfireLimit must be 1 or more`);
  const enqueue = schedule.enqueue ?? {};
  if (typeof enqueue !== 'object' || enqueue === null) throw new InvalidArgumentError(`${at}.enqueue`, `${name}: enqueue must be an options object`);
  if ('at' in enqueue) throw new InvalidArgumentError(`${at}.enqueue.at`, `${name}: enqueue.at cannot be set: the tick decides when the job is put`);
  const args = schedule.args === undefined ? null : schedule.args;
  checkJson(args, 'args', job.type);
  return {
    id: schedule.id,
    cron: parseCron(schedule.cron, schedule.timezone ?? 'UTC', at),
    job: job as AnyJobDefinition,
    args,
    misfire,
    misfireLimit,
    enqueue,
  };
}

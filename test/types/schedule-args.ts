/**
 * Compile-time tests of the Scheduler's schedules: each schedule's `args` is held to its own job's
 * argument type, and lists typed loosely (helpers, variables) still compile. tsc is the runner:
 * each `@ts-expect-error` line must fail to compile, each plain line must compile. Nothing runs.
 */
import { defineJob, Scheduler, type AnySchedule, type Schedule, type SchedulerOptions } from '../../src/index.js';

const run = (): void => undefined;
const email = defineJob<{ to: string }>({ type: 'email', run });
const count = defineJob<number>({ type: 'count', run });
const plain = defineJob({ type: 'plain', run });
const none = defineJob<void>({ type: 'none', run });

export function scheduleTypes(): void {
  new Scheduler({
    schedules: [
      { id: 'a', cron: '* * * * *', job: email, args: { to: 'x' } },
      { id: 'b', cron: '* * * * *', job: count, args: 3 },
      { id: 'c', cron: '* * * * *', job: plain, args: { anything: [1, 'two'] } },
      { id: 'd', cron: '* * * * *', job: none },
    ],
  });
  // @ts-expect-error: args of another shape than the job's
  new Scheduler({ schedules: [{ id: 'a', cron: '* * * * *', job: email, args: { too: 'x' } }] });
  new Scheduler({
    schedules: [
      { id: 'a', cron: '* * * * *', job: email, args: { to: 'x' } },
      // @ts-expect-error: a string where the job takes a number
      { id: 'b', cron: '* * * * *', job: count, args: 'three' },
    ],
  });

  const typed: Schedule<{ to: string }> = { id: 'a', cron: '@daily', job: email, args: { to: 'x' } };
  // @ts-expect-error: a Schedule<Args> holds its args to Args
  const wrong: Schedule<{ to: string }> = { id: 'a', cron: '@daily', job: email, args: { to: 1 } };
  const mixed: AnySchedule[] = [typed, { id: 'b', cron: '@hourly', job: count, args: 1 }];
  const options: SchedulerOptions = { schedules: mixed, leaseTtr: 5 };
  const scheduler: Scheduler = new Scheduler(options);
  const helper = (given: ConstructorParameters<typeof Scheduler>[0]): Scheduler => new Scheduler(given);
  helper({ schedules: [typed] });
  void scheduler;
  void wrong;
}

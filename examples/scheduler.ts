/**
 * A scheduler process: enqueues a digest email on a cron schedule. Run as many as you like (after
 * `npm run build`), each with
 *   BEANSTALKD_URL=beanstalk://127.0.0.1:11300 node dist/examples/scheduler.js
 * one leads and enqueues each tick once; the others wait to take over if it dies.
 */
import { pathToFileURL } from 'node:url';
import { Scheduler, type Worker } from '../src/index.js';
import { sendEmail } from './jobs.js';

export interface DigestOptions {
  connection?: string;
  /** Every 10 seconds unless told otherwise. */
  cron?: string;
  /** The tube the digests go to; default the job's own. */
  tube?: string;
  lockTube?: string;
}

export function createScheduler(options: DigestOptions = {}): Scheduler {
  const scheduler = new Scheduler({
    connection: options.connection,
    ...(options.lockTube === undefined ? {} : { lockTube: options.lockTube }),
    leaseTtr: 5,
    schedules: [
      {
        id: 'team-digest',
        cron: options.cron ?? '*/10 * * * * *',
        timezone: 'Europe/Berlin',
        job: sendEmail,
        args: { to: 'team@example.com', subject: 'digest' },
        enqueue: options.tube === undefined ? {} : { tube: options.tube },
      },
    ],
  });
  scheduler.on('leader', (leading) => console.log(`scheduler ${scheduler.name}: ${leading ? 'leads' : 'follows'}`));
  scheduler.on('tick', ({ id, tick, jobId }) => console.log(`scheduler: ${id} tick ${tick.toISOString()} enqueued as job ${jobId}`));
  scheduler.on('misfire', ({ id, missed, fired }) => console.log(`scheduler: ${id} missed ${missed} ticks while down; enqueued ${fired}`));
  scheduler.on('error', (error) => console.error('scheduler:', error.message));
  return scheduler;
}

/**
 * For the demo: a schedule every two seconds into `tube`, until `worker` has run two of its jobs
 * (or 10 s have passed). Resolves with how many it ran.
 */
export async function showSchedule(url: string, tube: string, worker: Worker): Promise<number> {
  const scheduler = createScheduler({ connection: url, cron: '*/2 * * * * *', tube, lockTube: `${tube}.schedules` });
  const enqueued = new Set<string>();
  scheduler.on('tick', ({ jid }) => enqueued.add(jid));
  let ran = 0;
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 10_000);
    worker.on('job:done', ({ jid }) => {
      if (enqueued.has(jid)) ran += 1;
      if (ran === 2) resolve();
    });
  });
  await scheduler.start();
  await done;
  clearTimeout(timer);
  await scheduler.stop();
  return ran;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const scheduler = createScheduler({ connection: process.env['BEANSTALKD_URL'] });
  process.once('SIGINT', () => void scheduler.stop());
  process.once('SIGTERM', () => void scheduler.stop());
  await scheduler.start();
  console.log(`scheduler ${scheduler.name}: started; Ctrl-C to stop`);
}

/**
 * Case (e): beanline's Worker end to end. Jobs are enqueued with defineJob (timed on their own),
 * then a Worker runs them with a handler that only checks and counts its arguments. The warm-up's
 * jobs go first both times: the run is timed from the moment that many jobs have settled.
 * beanline comes in as a parameter: this checkout's or the baseline's, never both in one process.
 */
import { argsIndex, BENCH_JOB_TYPE, makeArgs, Tally, type BodyArgs, type TallySummary } from './bodies.js';
import type { Plan } from './cases.js';
import { drive } from './drive.js';
import type { Library } from './library.js';
import type { Timing } from './task.js';

const ENQUEUE_WINDOW = 100;

export interface WorkerCaseResult {
  enqueue: Timing;
  run: Timing;
  tally: TallySummary;
  /** Jobs that did not simply succeed (retried, buried, lost) and worker errors. */
  problems: string[];
}

export async function runWorkerCase(
  { Client, defineJob, Worker }: Library,
  port: number,
  plan: Extract<Plan, { kind: 'worker' }>,
  timed: (work: () => Promise<unknown>) => Promise<Timing>,
): Promise<WorkerCaseResult> {
  const connection = { host: '127.0.0.1', port };
  const { warmup, jobs } = plan;
  const tally = new Tally(warmup + jobs);
  const benchJob = defineJob<BodyArgs>({
    type: BENCH_JOB_TYPE,
    run: (args) => {
      tally.seeIndex(argsIndex(args));
    },
  });

  const producer = await Client.connect(connection);
  const enqueueOne = (index: number) => benchJob.enqueue(producer, makeArgs(index));
  await drive(warmup, ENQUEUE_WINDOW, enqueueOne);
  const enqueue = await timed(() => drive(jobs, ENQUEUE_WINDOW, (ticket) => enqueueOne(warmup + ticket)));
  await producer.close();

  const problems: string[] = [];
  let settled = 0;
  let markWarm!: () => void;
  let markFinished!: () => void;
  const warmedUp = new Promise<void>((resolve) => {
    markWarm = resolve;
  });
  const finished = new Promise<void>((resolve) => {
    markFinished = resolve;
  });
  const settle = (problem?: string): void => {
    if (problem !== undefined) problems.push(problem);
    settled += 1;
    if (settled === warmup) markWarm();
    if (settled === warmup + jobs) markFinished();
  };
  const worker = new Worker({ connection, jobs: [benchJob], concurrency: plan.concurrency });
  worker.on('job:done', () => settle());
  worker.on('job:retry', ({ id, error }) => settle(`job ${id} retried: ${String(error)}`));
  worker.on('job:buried', ({ id, reason }) => settle(`job ${id} buried: ${reason}`));
  worker.on('job:lost', ({ id, error }) => problems.push(`job ${id} lost: ${error.message}`));
  worker.on('error', (error) => problems.push(`worker error: ${error.message}`));
  // Without a warm-up, starting the worker (connecting its slots) is part of the timed run.
  const started = worker.start();
  if (warmup > 0) await Promise.all([started, warmedUp]);
  const run = await timed(() => Promise.all([started, finished]));
  await worker.stop();
  return { enqueue, run, tally: tally.summary(), problems };
}

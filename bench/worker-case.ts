/**
 * Case (e): beanline's Worker end to end. Jobs are enqueued with defineJob (timed on their own),
 * then a Worker runs them with a handler that only checks and counts its arguments.
 */
import { Client, defineJob, Worker } from '../src/index.js';
import { bodyIndex, makeBody, Tally, type TallySummary } from './bodies.js';
import { drive } from './drive.js';
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
  port: number,
  jobs: number,
  concurrency: number,
  timed: (work: () => Promise<unknown>) => Promise<Timing>,
): Promise<WorkerCaseResult> {
  const connection = { host: '127.0.0.1', port };
  const tally = new Tally(jobs);
  const benchJob = defineJob<{ index: number; body: string }>({
    type: 'bench',
    run: ({ index, body }) => {
      tally.seeIndex(bodyIndex(Buffer.from(body, 'latin1')) === index ? index : -1);
    },
  });

  const producer = await Client.connect(connection);
  const enqueue = await timed(() =>
    drive(jobs, ENQUEUE_WINDOW, (index) => benchJob.enqueue(producer, { index, body: makeBody(index).toString('latin1') })),
  );
  await producer.close();

  const problems: string[] = [];
  let settled = 0;
  let allSettled!: () => void;
  const finished = new Promise<void>((resolve) => {
    allSettled = resolve;
  });
  const settle = (problem?: string): void => {
    if (problem !== undefined) problems.push(problem);
    settled += 1;
    if (settled === jobs) allSettled();
  };
  const worker = new Worker({ connection, jobs: [benchJob], concurrency });
  worker.on('job:done', () => settle());
  worker.on('job:retry', ({ id, error }) => settle(`job ${id} retried: ${String(error)}`));
  worker.on('job:buried', ({ id, reason }) => settle(`job ${id} buried: ${reason}`));
  worker.on('job:lost', ({ id, error }) => problems.push(`job ${id} lost: ${error.message}`));
  worker.on('error', (error) => problems.push(`worker error: ${error.message}`));
  const run = await timed(async () => {
    await worker.start();
    await finished;
  });
  await worker.stop();
  return { enqueue, run, tally: tally.summary(), problems };
}

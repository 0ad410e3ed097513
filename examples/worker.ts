/**
 * A worker process: runs send-email jobs, four at a time, until SIGTERM or Ctrl-C, then finishes
 * what is running (up to 10 s) and exits. Run on its own (after `npm run build`) with
 *   BEANSTALKD_URL=beanstalk://127.0.0.1:11300 node dist/examples/worker.js
 */
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from '../src/index.js';
import { sendEmail } from './jobs.js';

export function createWorker(options: WorkerOptions = {}): Worker {
  const worker = new Worker({ concurrency: 4, jobs: [sendEmail], shutdownTimeoutMs: 10_000, ...options });
  worker.on('job:retry', ({ id, error, delay }) => console.log(`job ${id} failed (${String(error)}); retry in ${delay} s`));
  worker.on('job:buried', ({ id, reason }) => console.log(`job ${id} buried: ${reason}`));
  worker.on('error', (error) => console.error('worker:', error.message));
  return worker;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const worker = createWorker({ connection: process.env['BEANSTALKD_URL'], handleSignals: true });
  await worker.start();
  console.log(`worker: reserving from ${worker.tubes.join(', ')}; Ctrl-C to stop`);
}

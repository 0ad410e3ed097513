/**
 * `npm run demo`: a producer enqueues typed jobs, a worker runs them (two fail once and are
 * retried), a scheduler enqueues a recurring job that the worker runs too, then the worker shuts
 * down cleanly. Against a real beanstalkd if there is one, else
 * beanline's embedded server: see local-server.ts.
 */
import { localServer } from './local-server.js';
import { produce } from './producer.js';
import { showSchedule } from './scheduler.js';
import { createWorker } from './worker.js';

const COUNT = 8;
const tube = `demo-${process.pid}`;
const server = await localServer();
try {
  console.log(`${server.origin}; tube ${tube}`);
  const jobs = await produce(server.url, COUNT, tube);
  console.log(`producer: enqueued ${jobs.length} jobs (ids ${jobs[0]?.id}..${jobs[jobs.length - 1]?.id})`);

  const worker = createWorker({ connection: server.url, tubes: [tube] });
  let done = 0;
  const allDone = new Promise<void>((resolve) => {
    worker.on('job:done', () => {
      done += 1;
      if (done === COUNT) resolve();
    });
  });
  await worker.start();
  let timer: NodeJS.Timeout | undefined;
  const tooLong = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 20_000);
  });
  await Promise.race([allDone, tooLong]);
  clearTimeout(timer);
  const produced = done;
  const scheduled = await showSchedule(server.url, tube, worker);
  console.log(`scheduler: the worker ran ${scheduled} scheduled jobs; scheduler stopped`);
  await worker.stop();
  console.log(`worker: ${produced} of ${COUNT} jobs done, and ${scheduled} scheduled ones; stopped`);
  if (produced !== COUNT || scheduled !== 2) process.exitCode = 1;
} finally {
  await server.stop();
}

/**
 * A worker: reserves jobs from a tube, handles each, deletes it when done, buries it when the
 * handler fails. Run on its own with
 *   BEANSTALKD_URL=beanstalk://127.0.0.1:11300 node dist/examples/worker.js
 */
import { pathToFileURL } from 'node:url';
import { Client, type Job } from '../src/index.js';

export type Handler = (job: Job) => Promise<void> | void;

/** Works until `count` jobs are handled, or until the tube stays empty for `idleSeconds`. */
export async function work(
  url: string | undefined,
  tube: string,
  handler: Handler,
  { count = Infinity, idleSeconds = 1 } = {},
): Promise<number> {
  // A worker gets its own connection: a waiting reserve holds up every later command on it.
  const client = await Client.connect(url);
  let handled = 0;
  try {
    await client.watch(tube);
    await client.ignore('default');
    while (handled < count) {
      const job = await client.reserveWithTimeout(idleSeconds);
      if (job === null) break;
      try {
        await handler(job);
        await client.delete(job.id);
      } catch (error) {
        console.error(`job ${job.id} failed, burying it:`, error);
        await client.bury(job.id);
      }
      handled += 1;
    }
    return handled;
  } finally {
    await client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const handled = await work(process.env['BEANSTALKD_URL'], 'demo', (job) => {
    console.log(`job ${job.id}: ${job.body.toString()}`);
  });
  console.log(`handled ${handled} jobs; the tube stayed empty for a second, so the worker stopped`);
}

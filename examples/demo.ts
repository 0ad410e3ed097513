/**
 * `npm run demo`: a producer puts jobs, a worker takes them and deletes them, against a real
 * beanstalkd (see local-server.ts for which one).
 */
import { localServer } from './local-server.js';
import { produce } from './producer.js';
import { work } from './worker.js';

const COUNT = 10;
const tube = `demo-${process.pid}`;
const server = await localServer();
try {
  console.log(`beanstalkd at ${server.url}, tube ${tube}`);
  const ids = await produce(server.url, tube, COUNT);
  console.log(`producer: put ${ids.length} jobs (ids ${ids[0]}..${ids[ids.length - 1]})`);
  const handled = await work(
    server.url,
    tube,
    (job) => {
      const { n, text } = JSON.parse(job.body.toString()) as { n: number; text: string };
      console.log(`worker:   job ${job.id} -> #${n} "${text}"`);
    },
    { count: COUNT },
  );
  console.log(`worker: handled and deleted ${handled} of ${COUNT} jobs`);
  if (handled !== COUNT) process.exitCode = 1;
} finally {
  await server.stop();
}

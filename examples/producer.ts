/**
 * A producer: enqueues typed jobs. Run on its own (after `npm run build`) with
 *   BEANSTALKD_URL=beanstalk://127.0.0.1:11300 node dist/examples/producer.js
 */
import { pathToFileURL } from 'node:url';
import { Client, type Enqueued } from '../src/index.js';
import { sendEmail } from './jobs.js';

export async function produce(url: string | undefined, count: number, tube?: string): Promise<Enqueued[]> {
  const client = await Client.connect(url);
  try {
    // No await inside the loop: the puts are pipelined and go out together.
    const jobs: Promise<Enqueued>[] = [];
    for (let i = 1; i <= count; i += 1) {
      const to = i % 4 === 0 ? `flaky${i}@example.com` : `user${i}@example.com`;
      jobs.push(sendEmail.enqueue(client, { to, subject: `hello #${i}` }, tube === undefined ? {} : { tube }));
    }
    return await Promise.all(jobs);
  } finally {
    await client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const jobs = await produce(process.env['BEANSTALKD_URL'], 10);
  console.log(`enqueued ${jobs.length} send-email jobs: ids ${jobs[0]?.id}..${jobs[jobs.length - 1]?.id}`);
}

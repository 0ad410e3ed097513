/**
 * A producer: puts jobs into a tube. Run on its own with
 *   BEANSTALKD_URL=beanstalk://127.0.0.1:11300 node dist/examples/producer.js
 */
import { pathToFileURL } from 'node:url';
import { Client } from '../src/index.js';

export async function produce(url: string | undefined, tube: string, count: number): Promise<number[]> {
  const client = await Client.connect(url);
  try {
    await client.use(tube);
    // No await inside the loop: the puts are pipelined and go out together.
    const puts: Promise<number>[] = [];
    for (let i = 1; i <= count; i += 1) {
      const body = JSON.stringify({ n: i, text: `hello #${i}` });
      puts.push(client.put(body, { priority: 100, ttr: 30 }));
    }
    return await Promise.all(puts);
  } finally {
    await client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ids = await produce(process.env['BEANSTALKD_URL'], 'demo', 10);
  console.log(`put ${ids.length} jobs: ids ${ids[0]}..${ids[ids.length - 1]}`);
}

/** node-beanstalk: promises, one command at a time per client (its own queue waits for each reply). */
import { createRequire } from 'node:module';
import type { Serializer } from 'node-beanstalk';
import type { BenchClient } from './index.js';

const { Client } = createRequire(import.meta.url)('node-beanstalk') as typeof import('node-beanstalk');

/** Bytes in, bytes out: its default serializer would JSON-encode the body. */
const asIs = { serialize: (data: Buffer) => data, deserialize: (data: Buffer) => data } as Serializer;

export async function connect(port: number): Promise<BenchClient> {
  const client = new Client({ host: '127.0.0.1', port, serializer: asIs });
  await client.connect();
  return {
    put: (body) => client.put(body, 60, 1024, 0),
    reserve: async () => {
      const job = await client.reserve();
      if (job === null) throw new Error('node-beanstalk: reserve gave no job');
      return { id: job.id, body: job.payload as Buffer };
    },
    delete: (id) => client.delete(id as number),
    close: () => client.disconnect(),
  };
}

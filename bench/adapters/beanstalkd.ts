/** beanstalkd (npm): promises, one command at a time (each waits for the previous reply). */
import { createRequire } from 'node:module';
import type { BenchClient } from './index.js';

interface BeanstalkdClient {
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  put(priority: number, delay: number, ttr: number, body: Buffer): Promise<unknown>;
  reserve(): Promise<[string, Buffer]>;
  delete(id: number | string): Promise<unknown>;
}

const Beanstalkd = (
  createRequire(import.meta.url)('beanstalkd') as { default: new (host: string, port: number) => BeanstalkdClient }
).default;

export async function connect(port: number): Promise<BenchClient> {
  const client = new Beanstalkd('127.0.0.1', port);
  await client.connect();
  return {
    put: (body) => client.put(1024, 0, 60, body),
    reserve: async () => {
      const [id, body] = await client.reserve();
      return { id, body };
    },
    delete: (id) => client.delete(id),
    close: async () => {
      await client.quit();
    },
  };
}

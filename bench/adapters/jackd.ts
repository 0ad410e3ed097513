/** jackd: promises; each command is written at once, so several may be in flight. */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { BenchClient } from './index.js';

const Jackd = createRequire(import.meta.url)('jackd') as typeof import('jackd').JackdClient;

export async function connect(port: number): Promise<BenchClient> {
  const client = new Jackd();
  await client.connect({ host: '127.0.0.1', port });
  return {
    // jackd JSON-encodes any object payload, a Buffer too; a string goes as its UTF-8 bytes, which
    // for the benchmark's ASCII bodies are the bytes themselves.
    put: (body) => client.put(body.toString('latin1'), { priority: 1024, ttr: 60 }),
    reserve: async () => {
      const job = await client.reserve();
      return { id: job.id, body: job.payload as Buffer };
    },
    delete: (id) => client.delete(String(id)),
    close: async () => {
      const closed = once(client.socket, 'close');
      await client.quit();
      await closed;
    },
  };
}

/**
 * beanline's Client, as the loop of case (i) drives it: one command at a time, each awaited before
 * the next. The same client as `beanline`, so the scan case compares pipelining and nothing else.
 */
import { NotFoundError } from '../../src/index.js';
import { library } from './beanline.js';
import type { BenchClient } from './index.js';

function nullIfNotFound(error: unknown): null {
  if (error instanceof NotFoundError) return null;
  throw error;
}

export async function connect(port: number): Promise<BenchClient> {
  const client = await library.Client.connect({ host: '127.0.0.1', port });
  return {
    put: (body) => client.put(body),
    reserve: () => client.reserve(),
    delete: (id) => client.delete(Number(id)),
    close: () => client.close(),
    jobState: (id) => client.statsJob(id).then(({ tube, state }) => ({ tube, state }), nullIfNotFound),
    peekBody: (id) => client.peek(id).then((job) => job?.body ?? null),
  };
}

/** fivebeans: callbacks, pipelined (commands are written at once and replies matched in order). */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { BenchClient, JobLook } from './index.js';

type Callback = (error: unknown, ...results: unknown[]) => void;

interface FiveBeansClient extends EventEmitter {
  connect(): void;
  end(): void;
  put(priority: number, delay: number, ttr: number, body: Buffer, callback: Callback): void;
  reserve(callback: Callback): void;
  destroy(id: number | string, callback: Callback): void;
  /** Answers the YAML of `stats-job` parsed into an object. */
  stats_job(id: number | string, callback: Callback): void;
  /** Answers the id and the body. */
  peek(id: number | string, callback: Callback): void;
}

const fivebeans = createRequire(import.meta.url)('fivebeans') as {
  client: new (host: string, port: number) => FiveBeansClient;
};

/** null for a NOT_FOUND reply (fivebeans passes the reply word as the error), else the error again. */
function nullIfNotFound(error: unknown): null {
  if (error instanceof Error && error.message === 'fivebeans: NOT_FOUND') return null;
  throw error;
}

/** Calls a callback-style command; resolves with its results (an error is a reply word). */
function call(command: (callback: Callback) => void): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    command((error, ...results) => (error ? reject(new Error(`fivebeans: ${String(error)}`)) : resolve(results)));
  });
}

export async function connect(port: number): Promise<BenchClient> {
  const client = new fivebeans.client('127.0.0.1', port);
  const connected = once(client, 'connect');
  client.connect();
  await connected;
  return {
    put: (body) => call((done) => client.put(1024, 0, 60, body, done)),
    reserve: async () => {
      const [id, body] = await call((done) => client.reserve(done));
      return { id: id as string, body: body as Buffer };
    },
    delete: (id) => call((done) => client.destroy(id, done)),
    jobState: (id) =>
      call((done) => client.stats_job(id, done)).then(([stats]) => {
        const { tube, state } = stats as Record<string, unknown>;
        return { tube: String(tube), state: String(state) } satisfies JobLook;
      }, nullIfNotFound),
    peekBody: (id) => call((done) => client.peek(id, done)).then(([, body]) => body as Buffer, nullIfNotFound),
    close: async () => {
      const closed = once(client, 'close');
      client.end();
      await closed;
    },
  };
}

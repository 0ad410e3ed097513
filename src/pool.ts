import genericPool from 'generic-pool';
import createDebug from 'debug';
import { pause, retryDelay, type RetryPolicy } from './retry.js';
import { Client } from './client.js';
import { ConnectionError, InvalidArgumentError, TimeoutError } from './errors.js';
import { serverList, type ConnectOptions } from './options.js';
import type { Producer, PutOptions } from './producer.js';
import { checkTube } from './protocol/validate.js';

const log = createDebug('beanline:pool');

/** generic-pool calls `create` again at once after a failure: these waits space the dials out. */
const CONNECT_RETRY: RetryPolicy = { minDelayMs: 50, maxDelayMs: 1000 };

export interface PoolOptions {
  /** Where to connect: a URL or options, as for `Client.connect`. */
  connection?: string | ConnectOptions;
  /** Connections kept open even when idle. Default 0. */
  min?: number;
  /** Connections open at most. Default 10. */
  max?: number;
  /** How long `acquire` waits for a free connection. Default 10,000. */
  acquireTimeoutMs?: number;
}

/** As a Client's, but the tube defaults to `default`: a pooled client comes back reset. */
export type PoolPutOptions = PutOptions;

/**
 * A set of clients to lend out. A client comes back with `use default` and a watch list of just
 * `default`; one that is closed, broken or still busy is destroyed, never lent again.
 *
 * Puts pipeline well on one client, so a producer rarely needs a pool: it helps where many callers
 * each need a connection for a while (a web app's requests), or where a caller changes tubes or
 * holds a blocking reserve.
 */
export class Pool implements Producer {
  private readonly pool: genericPool.Pool<Client>;
  private readonly lent = new WeakSet<Client>();
  private readonly acquireTimeoutMs: number;
  /**
   * How to fail each acquire waiting now. One `factoryCreateError` listener serves them all: a
   * listener per waiter trips MaxListenersExceededWarning past ten concurrent callers.
   */
  private readonly waiting = new Set<(error: ConnectionError) => void>();
  /** Connect failures in a row: generic-pool retries at once, so `create` waits longer each time. */
  private connectFailures = 0;
  /** Aborted by `close`: no acquire after it, and a `create` sleeping off the backoff dials at once rather than hold the close up. */
  private readonly closed = new AbortController();

  constructor(options: PoolOptions = {}) {
    // A pooled client is one connection to one server, and its puts resolve with bare ids: across
    // servers they would not say where a job went. Several servers have their own types.
    if (serverList(options.connection) !== null) {
      throw new InvalidArgumentError(
        'connection',
        'a Pool lends connections to one server; for several, put with a Cluster and reserve with a Worker (both take the list)',
      );
    }
    const max = options.max ?? 10;
    const min = options.min ?? 0;
    if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError('max', `max must be a whole number of 1 or more, got ${max}`);
    if (!Number.isInteger(min) || min < 0 || min > max) {
      throw new InvalidArgumentError('min', `min must be a whole number from 0 to max (${max}), got ${min}`);
    }
    const acquireTimeoutMs = options.acquireTimeoutMs ?? 10_000;
    if (!Number.isFinite(acquireTimeoutMs) || acquireTimeoutMs <= 0) {
      throw new InvalidArgumentError('acquireTimeoutMs', `acquireTimeoutMs must be a number above 0, got ${acquireTimeoutMs}`);
    }
    this.acquireTimeoutMs = acquireTimeoutMs;
    const target = options.connection;
    this.pool = genericPool.createPool<Client>(
      {
        create: async () => {
          if (this.connectFailures > 0) await pause(retryDelay(CONNECT_RETRY, this.connectFailures), this.closed.signal);
          try {
            const client = await Client.connect(target);
            this.connectFailures = 0;
            log('opened a connection');
            return client;
          } catch (error) {
            this.connectFailures += 1;
            throw error;
          }
        },
        destroy: async (client) => {
          log('destroying a connection');
          if (client.usable) await client.close();
        },
        validate: async (client) => client.usable,
      },
      { max, min, testOnBorrow: true, acquireTimeoutMillis: acquireTimeoutMs, autostart: min > 0 },
    );
    this.pool.on('factoryCreateError', (cause: Error) => this.failWaiting(cause));
  }

  /**
   * A connect failed: every waiting acquire fails now rather than wait out acquireTimeoutMs.
   *
   * Their requests also come off generic-pool's queue, which has no public way to withdraw one.
   * While a request is queued, generic-pool calls `create` again each time one fails, until the
   * request's acquireTimeoutMillis; and `drain` waits for the last queued request. So a request left
   * there once its acquire gave up would keep a down server dialed, and `close` waiting, for up to
   * acquireTimeoutMs (10 s by default). Every waiter has just been failed, so none is wanted, and
   * generic-pool emits this event before it reads the queue again: an empty queue ends the retries.
   */
  private failWaiting(cause: Error): void {
    const message = `pool: cannot open a connection: ${cause.message}`;
    for (const fail of this.waiting) fail(new ConnectionError(message, { cause }));
    this.waiting.clear();
    const queue = (this.pool as unknown as { _waitingClientsQueue?: WaitingQueue })._waitingClientsQueue;
    // Read from generic-pool 3.9's internals; should they change, requests wait out their timers as before.
    if (typeof queue?.dequeue !== 'function') return;
    for (let request = queue.dequeue(); request !== undefined; request = queue.dequeue()) {
      request.reject(new ConnectionError(message, { cause }));
    }
  }

  /** Connections open now, and of those, the ones lent out. */
  get size(): number {
    return this.pool.size;
  }

  get borrowed(): number {
    return this.pool.borrowed;
  }

  /**
   * Borrows a client; give it back with `release`. Rejects with ConnectionError as soon as a new
   * connection cannot be opened, and with TimeoutError when none is free within acquireTimeoutMs.
   */
  async acquire(): Promise<Client> {
    if (this.closed.signal.aborted) throw new ConnectionError('pool: the pool is closed');
    const acquiring = this.pool.acquire();
    let fail!: (error: ConnectionError) => void;
    const createFailed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.waiting.add(fail);
    let client: Client;
    try {
      client = await Promise.race([acquiring, createFailed]);
    } catch (error) {
      // A failed create can fail this acquire just after generic-pool handed it a client: send that back.
      acquiring.then((late) => this.pool.release(late)).catch(() => undefined);
      if (error instanceof ConnectionError) throw error;
      if ((error as Error).name === 'TimeoutError') {
        throw new TimeoutError(`pool: no connection free within ${this.acquireTimeoutMs} ms`, this.acquireTimeoutMs, 'acquire');
      }
      throw new ConnectionError(`pool: ${(error as Error).message}`, { cause: error });
    } finally {
      this.waiting.delete(fail);
    }
    this.lent.add(client);
    return client;
  }

  /** Gives a client back, reset to the `default` tube; a client that cannot be reset is destroyed. */
  async release(client: Client): Promise<void> {
    if (!this.lent.has(client)) {
      throw new InvalidArgumentError('client', 'pool: this client is not lent out by this pool (released twice?)');
    }
    this.lent.delete(client);
    if (!client.usable || client.pending > 0) {
      await this.pool.destroy(client);
      return;
    }
    try {
      await resetTubes(client);
    } catch (error) {
      log('reset failed, destroying the connection: %s', (error as Error).message);
      await this.pool.destroy(client);
      return;
    }
    await this.pool.release(client);
  }

  /** Lends a client to `work` and takes it back afterwards, whatever `work` does. */
  async use<T>(work: (client: Client) => Promise<T> | T): Promise<T> {
    const client = await this.acquire();
    try {
      return await work(client);
    } finally {
      // `work` may have given the client back itself.
      if (this.lent.has(client)) await this.release(client);
    }
  }

  /** Puts one job, into `options.tube` or `default`, on a pooled connection. */
  async put(body: Buffer | Uint8Array | string, options: PoolPutOptions = {}): Promise<number> {
    const { tube = 'default', ...putOptions } = options;
    checkTube(tube);
    return this.use((client) => client.put(body, { ...putOptions, tube }));
  }

  /**
   * Waits for lent clients to come back, then closes every connection. Acquires already waiting are
   * still served, or failed by the next failed connect, which against a down server is one refused
   * dial away.
   */
  async close(): Promise<void> {
    this.closed.abort();
    await this.pool.drain();
    await this.pool.clear();
  }
}

/** What `failWaiting` uses of generic-pool's queue of waiting acquires (`Pool._waitingClientsQueue`). */
interface WaitingQueue {
  dequeue(): { reject(reason: Error): void } | undefined;
}

/** Back to a fresh connection's tubes: `use default`, watching only `default`. */
export async function resetTubes(client: Client): Promise<void> {
  const steps: Promise<unknown>[] = [];
  if (client.using !== 'default') steps.push(client.use('default'));
  const watched = client.watched;
  if (!watched.includes('default')) steps.push(client.watch('default'));
  for (const tube of watched) if (tube !== 'default') steps.push(client.ignore(tube));
  await Promise.all(steps);
}

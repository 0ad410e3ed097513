import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { Client } from '../client.js';
import { ConnectionError, DrainingError, TimeoutError } from '../errors.js';
import type { ConnectOptions } from '../options.js';
import { pause, retryDelay, type RetryPolicy } from '../retry.js';
import { fnv1a } from './hash.js';

const log = createDebug('beanline:cluster');

export interface NodeSettings {
  readonly retry: RetryPolicy;
  readonly healthCheckMs: number;
  readonly probeMs: number;
}

export interface NodeEvents {
  up: [];
  down: [error: Error];
}

/**
 * One server of a cluster and its health. It is up while it has a client whose connection answered;
 * it goes down the moment that connection fails (refused, dropped, or a command timed out) and is
 * then dialed again in the background, with the shared retry policy, until it answers again.
 *
 * "Answered" matters: a stopped process still completes TCP handshakes (the kernel does that), so a
 * connection counts only once the server has replied to a `stats`, which also tells whether it is in
 * drain mode (then it takes no puts, and stays down).
 */
export class ServerNode extends EventEmitter<NodeEvents> {
  readonly url: string;
  /** FNV-1a of the URL: its part of every key's score. */
  readonly hash: number;
  readonly connectOptions: ConnectOptions;
  /** Out of the rotation on purpose (a drain, or the caller's `exclude`): no puts, not in the key hash. */
  excluded = false;
  /** Set while `drainServer` runs on it. */
  draining = false;
  private current: Client | null = null;
  private lastError: Error | undefined;
  private readonly settings: NodeSettings;
  private retrying = false;
  private closed = false;
  private readonly stopped = new AbortController();
  private heartbeat: NodeJS.Timeout | null = null;
  /** A client connected and not yet answering: `close` ends it rather than wait out its probe. */
  private probing: Client | null = null;

  constructor(url: string, connectOptions: ConnectOptions, settings: NodeSettings) {
    super();
    this.url = url;
    this.hash = fnv1a(url);
    this.connectOptions = connectOptions;
    this.settings = settings;
  }

  /** The client while the server is up; null while it is down. */
  get client(): Client | null {
    return this.current;
  }

  get up(): boolean {
    return this.current !== null;
  }

  /** Why the server is down (or was, last). */
  get error(): Error | undefined {
    return this.lastError;
  }

  /** The first attempt: true once up; false when down, and from then on retried in the background. */
  async start(): Promise<boolean> {
    const client = await this.attempt();
    if (client !== null) {
      this.adopt(client);
      return true;
    }
    void this.retryLoop();
    return false;
  }

  /**
   * Marks the server down at once (if it was up) and retries it in the background. Commands already
   * on its connection keep their own outcome: a connection that still works is closed after their
   * replies (a draining server's replies say the puts were not stored). `by`: the client whose
   * command failed; a late failure on a client already replaced says nothing of the new one.
   */
  fail(error: Error, by: Client | null = this.current): void {
    const client = this.current;
    if (client === null || client !== by) return;
    this.current = null;
    this.lastError = error;
    this.stopHeartbeat();
    client.close().catch(() => undefined);
    log('%s is down: %s', this.url, error.message);
    this.emit('down', error);
    if (!this.closed) void this.retryLoop();
  }

  /** Stops the retries and closes the client after the replies in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopped.abort();
    this.stopHeartbeat();
    this.probing?.destroy();
    const client = this.current;
    this.current = null;
    if (client !== null) await client.close();
  }

  private async retryLoop(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    let client: Client | null = null;
    for (let attempt = 1; client === null && !this.closed; attempt += 1) {
      await pause(retryDelay(this.settings.retry, attempt), this.stopped.signal);
      if (this.closed) break;
      client = await this.attempt();
      if (client === null) log('%s: attempt %d failed: %s', this.url, attempt, this.lastError?.message);
    }
    this.retrying = false;
    if (client !== null) this.adopt(client);
  }

  /** Opens a client and waits for its first reply (bounded); null, with the reason kept, if that fails. */
  private async attempt(): Promise<Client | null> {
    let client: Client;
    try {
      client = await Client.connect(this.connectOptions);
    } catch (error) {
      this.lastError = error as Error;
      return null;
    }
    this.probing = client;
    try {
      const stats = await bounded(client.stats(), this.settings.probeMs, () => client.destroy());
      // Drain mode lasts until the server restarts: every put would get DRAINING.
      if (stats.draining) throw new DrainingError('put');
    } catch (error) {
      client.destroy();
      this.lastError = error as Error;
      return null;
    } finally {
      this.probing = null;
    }
    if (this.closed) {
      client.destroy();
      return null;
    }
    return client;
  }

  private adopt(client: Client): void {
    this.current = client;
    this.lastError = undefined;
    client.on('close', (error) => {
      if (this.current === client) this.fail(error ?? new ConnectionError(`the connection to ${this.url} closed`));
    });
    if (this.settings.healthCheckMs > 0) {
      this.heartbeat = setInterval(() => this.checkIdle(client), this.settings.healthCheckMs).unref();
    }
    log('%s is up', this.url);
    this.emit('up');
  }

  /**
   * With commands in flight, the client's command timeout already watches the server; an idle one is
   * asked something, so that a server that stopped answering fails that command's timeout too.
   */
  private checkIdle(client: Client): void {
    if (this.current !== client || client.pending > 0) return;
    // A failure closes the connection, and its 'close' marks the server down.
    client.listTubeUsed().catch(() => undefined);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

/** `promise`, or a TimeoutError after `ms` (and `onExpire` run, to end what it waits for). */
function bounded<T>(promise: Promise<T>, ms: number, onExpire: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new TimeoutError(`no reply to the first command within ${ms} ms`, ms, 'stats'));
      onExpire();
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

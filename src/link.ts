import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { backoffDelay, pause } from './backoff.js';
import { Connection } from './connection.js';
import { ConnectionError } from './errors.js';
import { Fifo } from './fifo.js';
import type { ResolvedOptions, ResolvedReconnect } from './options.js';
import type { Decoder } from './protocol/replies.js';

const log = createDebug('beanline:connection');

export interface ReconnectingInfo {
  /** 1 for the first attempt after the loss. */
  readonly attempt: number;
  /** The wait before this attempt. */
  readonly delayMs: number;
  /** Why the connection was lost, or why the last attempt failed. */
  readonly error: Error;
}

export interface LinkEvents {
  /** Closed for good; `error` is undefined after a clean `close()`. */
  close: [error: Error | undefined];
  /** The connection was lost; emitted only when someone listens (every affected command rejects). */
  error: [error: Error];
  reconnecting: [info: ReconnectingInfo];
  /** Connected again, tubes restored, queued commands sent. */
  reconnect: [info: { readonly attempt: number }];
}

/** Sends the commands that put a fresh connection in the state the client had. */
export type Restore = (connection: Connection) => Promise<void>;

interface Queued {
  readonly name: string;
  readonly head: string;
  readonly body: Buffer | null;
  readonly decode: Decoder<unknown>;
  readonly holdMs: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
}

type State = 'open' | 'reconnecting' | 'closing' | 'closed';

/**
 * The client's line to the server across connections. Without reconnect it is one Connection.
 * With it, a lost connection is replaced (with backoff): the client's tubes are restored first,
 * then the commands issued meanwhile (a bounded queue) are sent. Commands that were in flight on
 * the lost socket are not re-sent: they reject, saying they may have been applied.
 */
export class Link extends EventEmitter<LinkEvents> {
  private connection: Connection;
  private readonly options: ResolvedOptions;
  private readonly reconnect: ResolvedReconnect | null;
  private restore: Restore = async () => {};
  private state: State = 'open';
  private readonly queue = new Fifo<Queued>();
  private queueTimer: NodeJS.Timeout | null = null;
  /** Aborted when the link closes for good: ends the wait between attempts early. */
  private readonly closed = new AbortController();
  private replyBytes = 0;

  static async open(options: ResolvedOptions): Promise<Link> {
    return new Link(await Connection.open(options), options);
  }

  private constructor(connection: Connection, options: ResolvedOptions) {
    super();
    this.options = options;
    this.reconnect = options.reconnect;
    this.connection = connection;
    this.attach(connection);
  }

  /** Set once by the client, which knows its tubes. */
  onRestore(restore: Restore): void {
    this.restore = restore;
  }

  /** True while commands are accepted: connected, or reconnecting (they queue, up to queueLimit). */
  get usable(): boolean {
    return this.state === 'reconnecting' || (this.state === 'open' && this.connection.usable);
  }

  get reconnecting(): boolean {
    return this.state === 'reconnecting';
  }

  get pending(): number {
    return this.connection.pending + this.queue.length;
  }

  allowReplyBytes(bytes: number): void {
    this.replyBytes = Math.max(this.replyBytes, bytes);
    this.connection.allowReplyBytes(bytes);
  }

  send<T>(name: string, head: string, body: Buffer | null, decode: Decoder<T>, holdMs = 0): Promise<T> {
    if (this.state === 'reconnecting') return this.enqueue(name, head, body, decode, holdMs);
    return this.connection.send(name, head, body, decode, holdMs);
  }

  close(): Promise<void> {
    if (this.state === 'reconnecting') {
      this.finish(undefined, new ConnectionError('the client closed the connection while reconnecting'));
      return Promise.resolve();
    }
    if (this.state === 'open') this.state = 'closing';
    return this.connection.close();
  }

  destroy(reason?: Error): void {
    if (this.state === 'reconnecting') {
      this.finish(reason, new ConnectionError('the connection was destroyed by the client', { cause: reason }));
      return;
    }
    if (this.state === 'open') this.state = 'closing';
    this.connection.destroy(reason);
  }

  private attach(connection: Connection): void {
    if (this.replyBytes > 0) connection.allowReplyBytes(this.replyBytes);
    connection.on('close', (error) => {
      if (connection === this.connection) this.onConnectionClose(error);
    });
  }

  private onConnectionClose(error: Error | undefined): void {
    if (this.state === 'closing' || error === undefined || this.reconnect === null) {
      this.finish(error, error);
      return;
    }
    this.state = 'reconnecting';
    log('connection lost (%s); reconnecting', error.message);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    void this.reconnectLoop(error, this.reconnect);
  }

  private async reconnectLoop(lost: Error, policy: ResolvedReconnect): Promise<void> {
    let error = lost;
    for (let attempt = 1; this.state === 'reconnecting'; attempt += 1) {
      if (attempt > policy.retries) {
        this.finish(error, error);
        return;
      }
      const delayMs = backoffDelay(attempt, policy.minDelayMs, policy.maxDelayMs);
      this.emit('reconnecting', { attempt, delayMs, error });
      await pause(delayMs, this.closed.signal);
      if (this.state !== 'reconnecting') return;
      const next = await Connection.open(this.options).catch((failure: Error) => failure);
      if (next instanceof Error) {
        error = next;
        continue;
      }
      // The tubes come back before anything queued is sent; commands issued meanwhile keep queueing.
      const restored = await this.restore(next).then(
        () => null,
        (failure: Error) => failure,
      );
      if (this.state !== 'reconnecting' || restored !== null || !next.usable) {
        next.destroy();
        error = restored ?? new ConnectionError('the new connection closed while its tubes were restored');
        continue;
      }
      this.connection = next;
      this.attach(next);
      this.state = 'open';
      log('reconnected on attempt %d; sending %d queued command(s)', attempt, this.queue.length);
      this.flushQueue();
      this.emit('reconnect', { attempt });
      return;
    }
  }

  private enqueue<T>(name: string, head: string, body: Buffer | null, decode: Decoder<T>, holdMs: number): Promise<T> {
    const limit = this.reconnect?.queueLimit ?? 0;
    if (this.queue.length >= limit) {
      return Promise.reject(
        new ConnectionError(`${name}: not connected, and ${limit} commands already wait for the reconnect (it was not sent)`, {
          command: name,
        }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        name,
        head,
        body,
        decode,
        holdMs,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: Date.now() + (this.reconnect?.queueTimeoutMs ?? 0),
      });
      this.armQueueTimer();
    });
  }

  /** One timer for the oldest queued command: the queue is in deadline order. */
  private armQueueTimer(): void {
    const head = this.queue.peek();
    if (this.queueTimer !== null || head === undefined) return;
    this.queueTimer = setTimeout(() => {
      this.queueTimer = null;
      const now = Date.now();
      for (let next = this.queue.peek(); next !== undefined && next.deadline <= now; next = this.queue.peek()) {
        this.queue.shift();
        next.reject(
          new ConnectionError(
            `${next.name}: not reconnected within ${this.reconnect?.queueTimeoutMs} ms (it was not sent)`,
            { command: next.name },
          ),
        );
      }
      this.armQueueTimer();
    }, Math.max(0, head.deadline - Date.now()));
  }

  private flushQueue(): void {
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    for (const queued of this.queue.drain()) {
      this.connection
        .send(queued.name, queued.head, queued.body, queued.decode, queued.holdMs)
        .then(queued.resolve, queued.reject);
    }
  }

  /** Closed for good: queued commands reject, and `close` is emitted once. */
  private finish(error: Error | undefined, queuedCause: Error | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closed.abort();
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    for (const queued of this.queue.drain()) {
      queued.reject(
        new ConnectionError(`${queued.name}: the connection closed before it could be sent`, {
          command: queued.name,
          cause: queuedCause,
        }),
      );
    }
    this.emit('close', error);
    if (error !== undefined && this.reconnect === null && this.listenerCount('error') > 0) this.emit('error', error);
  }
}

import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { Connection } from './connection.js';
import { ConnectionError } from './errors.js';
import { Fifo } from './fifo.js';
import type { ResolvedOptions, ResolvedReconnect } from './options.js';
import { COMMANDS, request, type Request } from './protocol/commands.js';
import { pause, retryDelay } from './retry.js';

const log = createDebug('beanline:connection');

export interface ReconnectingInfo {
  /** 1 for the first attempt after the loss. */
  readonly attempt: number;
  /** The wait before this attempt. */
  readonly delayMs: number;
  /** Why the connection was lost, or why the last attempt failed. */
  readonly error: Error;
}

/**
 * Where a client's line to the server stands. `ready`: connected, commands go out. `reconnecting`:
 * the connection was lost and the next attempt is awaited; `connecting`: an attempt is dialing and
 * restoring the tubes (commands issued in either queue). `closing`: close() was called, replies
 * still due are awaited. `closed`: for good.
 */
export type ClientState = 'connecting' | 'ready' | 'reconnecting' | 'closing' | 'closed';

export interface LinkEvents {
  /** Closed for good; `error` is undefined after a clean `close()`. */
  close: [error: Error | undefined];
  /** The state changed; `previous` is the state it left. */
  state: [state: ClientState, previous: ClientState];
  /** The connection was lost; emitted only when someone listens (every affected command rejects). */
  error: [error: Error];
  reconnecting: [info: ReconnectingInfo];
  /** Connected again, tubes restored, queued commands sent. */
  reconnect: [info: { readonly attempt: number }];
}

/**
 * Sends the commands that put a fresh connection in the state the client had (its watch list), and
 * resolves with the tube that connection is then using.
 */
export type Restore = (connection: Connection) => Promise<string>;

interface Queued {
  readonly request: Request;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
}

/**
 * The client's line to the server across connections. Without reconnect it is one Connection.
 * With it, a lost connection is replaced (with backoff): the client's tubes are restored first,
 * then the commands issued meanwhile (a bounded queue) are sent. Commands that were in flight on
 * the lost socket are not re-sent: they reject, saying they may have been applied.
 *
 * It also keeps the connection on the right tube: a request for a command on the used tube names
 * the tube it must run in, and the link sends `use` before it only when the connection will be on
 * another tube once everything already sent has run. So a producer that names its tube on every
 * put costs one `use` per change of tube, not two per put, and a `use` still in flight is never
 * mistaken for the tube the server has confirmed.
 */
export class Link extends EventEmitter<LinkEvents> {
  private connection: Connection;
  private readonly options: ResolvedOptions;
  private readonly reconnect: ResolvedReconnect | null;
  private restore: Restore = async () => 'default';
  private current: ClientState = 'ready';
  /** The tube the connection will be using once every request sent to it has run. */
  private tube = 'default';
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

  get state(): ClientState {
    return this.current;
  }

  /** True while commands are accepted: connected, or reconnecting (they queue, up to queueLimit). */
  get usable(): boolean {
    return this.current === 'ready' ? this.connection.usable : this.current === 'reconnecting' || this.current === 'connecting';
  }

  get pending(): number {
    return this.connection.pending + this.queue.length;
  }

  allowReplyBytes(bytes: number): void {
    this.replyBytes = Math.max(this.replyBytes, bytes);
    this.connection.allowReplyBytes(bytes);
  }

  send<T>(sent: Request<T>): Promise<T> {
    if (this.current === 'reconnecting' || this.current === 'connecting') return this.enqueue(sent);
    return this.dispatch(sent);
  }

  /**
   * Closes once `after` has settled (commands issued before the close that still wait to be sent),
   * with the state `closing` from now on.
   */
  close(after?: Promise<unknown>): Promise<void> {
    if (this.current === 'reconnecting' || this.current === 'connecting') {
      this.finish(undefined, new ConnectionError('the client closed the connection while reconnecting'));
      return Promise.resolve();
    }
    if (this.current === 'ready') this.setState('closing');
    if (after === undefined) return this.connection.close();
    return after.then(
      () => this.connection.close(),
      () => this.connection.close(),
    );
  }

  destroy(reason?: Error): void {
    if (this.current === 'reconnecting' || this.current === 'connecting') {
      this.finish(reason, new ConnectionError('the connection was destroyed by the client', { cause: reason }));
      return;
    }
    if (this.current === 'ready') this.setState('closing');
    this.connection.destroy(reason);
  }

  /** Hands a request to the connection, after a `use` when it must run in another tube. */
  private dispatch<T>(sent: Request<T>): Promise<T> {
    const { command, tube } = sent;
    if (tube !== null && tube !== this.tube) {
      // Its failure is the request's too: the request runs behind it, on the same connection.
      this.connection.send(request(COMMANDS.use, [tube])).catch(() => undefined);
      this.tube = tube;
    } else if (command.tube === 'use') {
      this.tube = sent.args[0] as string;
    }
    return this.connection.send(sent);
  }

  private setState(next: ClientState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.emit('state', next, previous);
  }

  private attach(connection: Connection): void {
    if (this.replyBytes > 0) connection.allowReplyBytes(this.replyBytes);
    connection.on('close', (error) => {
      if (connection === this.connection) this.onConnectionClose(error);
    });
  }

  private onConnectionClose(error: Error | undefined): void {
    if (this.current === 'closing' || error === undefined || this.reconnect === null) {
      this.finish(error, error);
      return;
    }
    this.setState('reconnecting');
    log('connection lost (%s); reconnecting', error.message);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    void this.reconnectLoop(error, this.reconnect);
  }

  private reconnectingStill(): boolean {
    return this.current === 'reconnecting' || this.current === 'connecting';
  }

  private async reconnectLoop(lost: Error, policy: ResolvedReconnect): Promise<void> {
    let error = lost;
    for (let attempt = 1; this.reconnectingStill(); attempt += 1) {
      if (attempt > policy.retries) {
        this.finish(error, error);
        return;
      }
      const delayMs = retryDelay(policy, attempt);
      this.setState('reconnecting');
      this.emit('reconnecting', { attempt, delayMs, error });
      await pause(delayMs, this.closed.signal);
      if (!this.reconnectingStill()) return;
      this.setState('connecting');
      const next = await Connection.open(this.options).catch((failure: Error) => failure);
      if (next instanceof Error) {
        error = next;
        continue;
      }
      // The tubes come back before anything queued is sent; commands issued meanwhile keep queueing.
      const restored = await this.restore(next).then(
        (tube) => tube,
        (failure: Error) => failure,
      );
      if (!this.reconnectingStill() || restored instanceof Error || !next.usable) {
        next.destroy();
        error = restored instanceof Error ? restored : new ConnectionError('the new connection closed while its tubes were restored');
        continue;
      }
      this.connection = next;
      this.tube = restored;
      this.attach(next);
      this.setState('ready');
      log('reconnected on attempt %d; sending %d queued command(s)', attempt, this.queue.length);
      this.flushQueue();
      this.emit('reconnect', { attempt });
      return;
    }
  }

  private enqueue<T>(sent: Request<T>): Promise<T> {
    const limit = this.reconnect?.queueLimit ?? 0;
    const name = sent.command.name;
    if (this.queue.length >= limit) {
      return Promise.reject(
        new ConnectionError(`${name}: not connected, and ${limit} commands already wait for the reconnect (it was not sent)`, {
          command: name,
        }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        request: sent,
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
        const name = next.request.command.name;
        next.reject(
          new ConnectionError(`${name}: not reconnected within ${this.reconnect?.queueTimeoutMs} ms (it was not sent)`, {
            command: name,
          }),
        );
      }
      this.armQueueTimer();
    }, Math.max(0, head.deadline - Date.now()));
  }

  private flushQueue(): void {
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    for (const queued of this.queue.drain()) this.dispatch(queued.request).then(queued.resolve, queued.reject);
  }

  /** Closed for good: queued commands reject, and `close` is emitted once. */
  private finish(error: Error | undefined, queuedCause: Error | undefined): void {
    if (this.current === 'closed') return;
    this.setState('closed');
    this.closed.abort();
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    for (const queued of this.queue.drain()) {
      const name = queued.request.command.name;
      queued.reject(
        new ConnectionError(`${name}: the connection closed before it could be sent`, {
          command: name,
          cause: queuedCause,
        }),
      );
    }
    this.emit('close', error);
    if (error !== undefined && this.reconnect === null && this.listenerCount('error') > 0) this.emit('error', error);
  }
}

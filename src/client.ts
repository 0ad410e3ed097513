import { EventEmitter } from 'node:events';
import type { Connection } from './connection.js';
import { Link, type LinkEvents } from './link.js';
import { ConnectionError, InvalidArgumentError, TimeoutError } from './errors.js';
import { resolveOptions, type ConnectOptions } from './options.js';
import {
  decodeBuried,
  decodeDeleted,
  decodeFound,
  decodeIgnored,
  decodeInserted,
  decodeJobStats,
  decodeKicked,
  decodeKickedJob,
  decodePaused,
  decodeReleased,
  decodeReserved,
  decodeReservedJob,
  decodeReservedOrTimeout,
  decodeServerStats,
  decodeTouched,
  decodeTubeList,
  decodeTubeStats,
  decodeUsing,
  decodeWatched,
  type Decoder,
  type Job,
} from './protocol/replies.js';
import type { JobStats, ServerStats, TubeStats } from './protocol/stats.js';
import { checkBody, checkId, checkTube, checkUint32 } from './protocol/validate.js';

export const DEFAULT_PRIORITY = 1024;
export const DEFAULT_TTR = 60;

export interface PutOptions {
  /** 0 (most urgent) to 2^32-1. Default 1024. */
  priority?: number;
  /** Seconds before the job becomes ready. Default 0. */
  delay?: number;
  /** Seconds a worker may hold the job before the server hands it to another. Default 60. */
  ttr?: number;
}

export interface ReleaseOptions {
  /** The job's new priority. Default 1024 (the protocol has no "keep the old one"). */
  priority?: number;
  /** Seconds before the released job becomes ready again. Default 0. */
  delay?: number;
}

export type ClientEvents = LinkEvents;

/**
 * A beanstalkd client on one connection. Every method returns a promise and may be called without
 * awaiting the previous one: commands are pipelined, and replies come back in the order sent.
 *
 * A blocking `reserve` holds up every later command on the same connection until a job arrives, so
 * producers and each worker slot should have their own client.
 */
export class Client extends EventEmitter<ClientEvents> {
  private readonly connection: Link;
  private maxJobSize: number | undefined;
  /** While max-job-size is being read, every command waits behind it, so that order is kept. */
  private gate: Promise<void> | null = null;
  private gated = 0;
  private maxJobSizeError: Error | undefined;
  private closing = false;
  private tubeInUse = 'default';
  private readonly watching = new Set<string>(['default']);

  /** Opens a connection. `target`: `beanstalk://host:port`, options, or nothing for `$BEANSTALKD_URL` or 127.0.0.1:11300. */
  static async connect(target?: string | ConnectOptions): Promise<Client> {
    const options = resolveOptions(target);
    return new Client(await Link.open(options), options.maxJobSize);
  }

  private constructor(link: Link, maxJobSize: number | undefined) {
    super();
    this.connection = link;
    this.maxJobSize = maxJobSize;
    link.onRestore((connection) => this.restoreTubes(connection));
    link.on('close', (error) => this.emit('close', error));
    link.on('reconnecting', (info) => this.emit('reconnecting', info));
    link.on('reconnect', (info) => this.emit('reconnect', info));
    link.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
  }

  /** On a new connection after a loss: the tube in use and the watch list as the server last confirmed them. */
  private async restoreTubes(connection: Connection): Promise<void> {
    // Always one round trip, even on `default`: a peer that accepts and drops must not count as reconnected.
    const steps: Promise<unknown>[] = [connection.send('use', `use ${this.tubeInUse}\r\n`, null, decodeUsing)];
    for (const tube of this.watching) {
      if (tube !== 'default') steps.push(connection.send('watch', `watch ${tube}\r\n`, null, decodeWatched));
    }
    if (!this.watching.has('default')) steps.push(connection.send('ignore', 'ignore default\r\n', null, decodeIgnored));
    await Promise.all(steps);
  }

  /** True between a lost connection and the next one (with `reconnect` on): commands queue meanwhile. */
  get reconnecting(): boolean {
    return this.connection.reconnecting;
  }

  /** False once the connection is closing or closed. */
  get usable(): boolean {
    return !this.closing && this.connection.usable;
  }

  /** Commands sent or queued and not yet answered. */
  get pending(): number {
    return this.connection.pending + this.gated;
  }

  /** The tube `put` goes to, as last confirmed by the server. */
  get using(): string {
    return this.tubeInUse;
  }

  /** The tubes `reserve` takes from, as last confirmed by the server. */
  get watched(): string[] {
    return [...this.watching];
  }

  /** Puts a job into the used tube; resolves with its id. */
  put(body: Buffer | Uint8Array | string, options: PutOptions = {}): Promise<number> {
    let data: Buffer;
    let head: string;
    try {
      data = checkBody(body);
      const priority = options.priority === undefined ? DEFAULT_PRIORITY : checkUint32(options.priority, 'priority');
      const delay = options.delay === undefined ? 0 : checkUint32(options.delay, 'delay');
      const ttr = options.ttr === undefined ? DEFAULT_TTR : checkUint32(options.ttr, 'ttr');
      head = `put ${priority} ${delay} ${ttr} ${data.length}\r\n`;
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.maxJobSize === undefined) this.gate ??= this.readMaxJobSize();
    if (this.gate !== null) return this.behindGate(() => this.putChecked(head, data));
    return this.putChecked(head, data);
  }

  /**
   * Puts into `tube` and leaves the tube in use as it was: `use`, `put` and `use` back go out in
   * one write, and all three settle before this does.
   */
  async putInto(tube: string, body: Buffer | Uint8Array | string, options: PutOptions = {}): Promise<number> {
    checkTube(tube);
    if (tube === this.tubeInUse) return this.put(body, options);
    const [used, put, restored] = await Promise.allSettled([
      this.use(tube),
      this.put(body, options),
      this.use(this.tubeInUse),
    ]);
    for (const step of [used, put, restored]) if (step.status === 'rejected') throw step.reason;
    return (put as PromiseFulfilledResult<number>).value;
  }

  private putChecked(head: string, data: Buffer): Promise<number> {
    if (this.maxJobSize === undefined) return Promise.reject(this.maxJobSizeUnknown());
    if (data.length > this.maxJobSize) {
      return Promise.reject(
        new InvalidArgumentError(
          'body',
          `body is ${data.length} bytes, more than the server's max-job-size of ${this.maxJobSize}`,
        ),
      );
    }
    return this.connection.send('put', head, data, decodeInserted);
  }

  /** Selects the tube `put` goes to; resolves with its name. */
  use(tube: string): Promise<string> {
    return this.checked(() => {
      const name = checkTube(tube);
      return this.send('use', `use ${name}\r\n`, decodeUsing).then((used) => {
        this.tubeInUse = used;
        return used;
      });
    });
  }

  /** Waits as long as it takes for a job from the watched tubes. */
  reserve(): Promise<Job> {
    return this.send('reserve', 'reserve\r\n', decodeReserved, Infinity);
  }

  /** Waits up to `seconds` for a job; null when none came. 0 returns at once. */
  reserveWithTimeout(seconds: number): Promise<Job | null> {
    return this.checked(() => {
      const wait = checkUint32(seconds, 'seconds');
      return this.send('reserve-with-timeout', `reserve-with-timeout ${wait}\r\n`, decodeReservedOrTimeout, wait * 1000);
    });
  }

  /** Reserves one job by id, whatever its state (beanstalkd 1.12). */
  reserveJob(id: number): Promise<Job> {
    return this.withId(id, (job) => this.send('reserve-job', `reserve-job ${job}\r\n`, decodeReservedJob));
  }

  delete(id: number): Promise<void> {
    return this.withId(id, (job) => this.send('delete', `delete ${job}\r\n`, decodeDeleted));
  }

  /** Puts a reserved job back to ready (or delayed). */
  release(id: number, options: ReleaseOptions = {}): Promise<void> {
    return this.checked(() => {
      const job = checkId(id);
      const priority = options.priority === undefined ? DEFAULT_PRIORITY : checkUint32(options.priority, 'priority');
      const delay = options.delay === undefined ? 0 : checkUint32(options.delay, 'delay');
      return this.send('release', `release ${job} ${priority} ${delay}\r\n`, decodeReleased(job));
    });
  }

  /** Buries a reserved job: it stays until kicked. */
  bury(id: number, priority: number = DEFAULT_PRIORITY): Promise<void> {
    return this.checked(() => {
      const job = checkId(id);
      const pri = checkUint32(priority, 'priority');
      return this.send('bury', `bury ${job} ${pri}\r\n`, decodeBuried);
    });
  }

  /** Restarts the TTR clock of a job this connection has reserved. */
  touch(id: number): Promise<void> {
    return this.withId(id, (job) => this.send('touch', `touch ${job}\r\n`, decodeTouched));
  }

  /** Adds a tube to the watch list; resolves with the number of tubes watched. */
  watch(tube: string): Promise<number> {
    return this.checked(() => {
      const name = checkTube(tube);
      return this.send('watch', `watch ${name}\r\n`, decodeWatched).then((count) => {
        this.watching.add(name);
        return count;
      });
    });
  }

  /** Drops a tube from the watch list; NotIgnoredError for the last one. */
  ignore(tube: string): Promise<number> {
    return this.checked(() => {
      const name = checkTube(tube);
      return this.send('ignore', `ignore ${name}\r\n`, decodeIgnored).then((count) => {
        this.watching.delete(name);
        return count;
      });
    });
  }

  /** The job with this id, in any state; null when there is none. */
  peek(id: number): Promise<Job | null> {
    return this.withId(id, (job) => this.send('peek', `peek ${job}\r\n`, decodeFound));
  }

  /** The next ready job of the used tube, or null. */
  peekReady(): Promise<Job | null> {
    return this.send('peek-ready', 'peek-ready\r\n', decodeFound);
  }

  /** The delayed job of the used tube that is next to become ready, or null. */
  peekDelayed(): Promise<Job | null> {
    return this.send('peek-delayed', 'peek-delayed\r\n', decodeFound);
  }

  /** The next buried job of the used tube, or null. */
  peekBuried(): Promise<Job | null> {
    return this.send('peek-buried', 'peek-buried\r\n', decodeFound);
  }

  /** Kicks up to `bound` buried jobs of the used tube (or delayed ones when none is buried); resolves with the count. */
  kick(bound: number): Promise<number> {
    return this.checked(() => {
      const max = checkUint32(bound, 'bound');
      return this.send('kick', `kick ${max}\r\n`, decodeKicked);
    });
  }

  /** Kicks one buried or delayed job to ready. */
  kickJob(id: number): Promise<void> {
    return this.withId(id, (job) => this.send('kick-job', `kick-job ${job}\r\n`, decodeKickedJob));
  }

  stats(): Promise<ServerStats> {
    return this.send('stats', 'stats\r\n', decodeServerStats);
  }

  statsJob(id: number): Promise<JobStats> {
    return this.withId(id, (job) => this.send('stats-job', `stats-job ${job}\r\n`, decodeJobStats));
  }

  statsTube(tube: string): Promise<TubeStats> {
    return this.checked(() => this.send('stats-tube', `stats-tube ${checkTube(tube)}\r\n`, decodeTubeStats));
  }

  listTubes(): Promise<string[]> {
    return this.send('list-tubes', 'list-tubes\r\n', decodeTubeList);
  }

  listTubeUsed(): Promise<string> {
    return this.send('list-tube-used', 'list-tube-used\r\n', decodeUsing);
  }

  listTubesWatched(): Promise<string[]> {
    return this.send('list-tubes-watched', 'list-tubes-watched\r\n', decodeTubeList);
  }

  /** No job is reserved from the tube for `seconds` (0 lifts a pause). */
  pauseTube(tube: string, seconds: number): Promise<void> {
    return this.checked(() => {
      const name = checkTube(tube);
      const delay = checkUint32(seconds, 'seconds');
      return this.send('pause-tube', `pause-tube ${name} ${delay}\r\n`, decodePaused);
    });
  }

  /** Sends `quit` after the commands in flight have their replies, then closes. Pending reserves reject. */
  close(): Promise<void> {
    const wasClosing = this.closing;
    this.closing = true;
    // Commands still waiting for max-job-size go first: they were issued before the close. Not while
    // reconnecting: the stats they wait for sits in the offline queue, which the close empties.
    if (this.gate !== null && !wasClosing && !this.connection.reconnecting) {
      return this.behindGate(() => this.connection.close());
    }
    return this.connection.close();
  }

  /** Closes at once; pending commands reject with ConnectionError. */
  destroy(): void {
    this.connection.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private send<T>(name: string, head: string, decode: Decoder<T>, holdMs = 0): Promise<T> {
    if (this.gate !== null) return this.behindGate(() => this.connection.send(name, head, null, decode, holdMs));
    return this.connection.send(name, head, null, decode, holdMs);
  }

  /**
   * Runs `next` once max-job-size is known. Every command issued meanwhile chains on the same
   * promise, so they go out in the order they were issued; the gate opens after the last of them.
   */
  private behindGate<T>(next: () => Promise<T>): Promise<T> {
    this.gated += 1;
    return (this.gate as Promise<void>).then(() => {
      this.gated -= 1;
      if (this.gated === 0) this.gate = null;
      return next();
    });
  }

  /** Why a put was not sent: the error of the `stats` it waited for, as the class the caller would expect. */
  private maxJobSizeUnknown(): Error {
    const cause = this.maxJobSizeError;
    const message = `put: could not read the server's max-job-size (the put was not sent)`;
    if (cause instanceof TimeoutError) {
      return new TimeoutError(`${message}: ${cause.message}`, cause.timeoutMs, 'put', { cause });
    }
    return new ConnectionError(cause === undefined ? message : `${message}: ${cause.message}`, { command: 'put', cause });
  }

  private readMaxJobSize(): Promise<void> {
    return this.connection.send('stats', 'stats\r\n', null, decodeServerStats).then(
      (stats) => {
        this.maxJobSize = stats.maxJobSize;
        this.connection.allowReplyBytes(stats.maxJobSize);
      },
      (error: Error) => {
        this.maxJobSizeError = error;
      },
    );
  }

  /** Turns a validation error thrown while building a command into a rejected promise. */
  private checked<T>(build: () => Promise<T>): Promise<T> {
    try {
      return build();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private withId<T>(id: number, build: (id: number) => Promise<T>): Promise<T> {
    return this.checked(() => build(checkId(id)));
  }
}

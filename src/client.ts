import { EventEmitter } from 'node:events';
import type { Connection } from './connection.js';
import { Link, type ClientState, type LinkEvents } from './link.js';
import { ConnectionError, InvalidArgumentError, TimeoutError } from './errors.js';
import { resolveOptions, type ConnectOptions } from './options.js';
import type { Producer, PutOptions } from './producer.js';
import {
  COMMANDS,
  DEFAULT_DELAY,
  DEFAULT_PRIORITY,
  DEFAULT_TTR,
  request,
  type Command,
  type Job,
  type Request,
} from './protocol/commands.js';
import type { JobStats, ServerStats, TubeStats } from './protocol/stats.js';
import { checkBody, checkTube } from './protocol/validate.js';

export { DEFAULT_PRIORITY, DEFAULT_TTR } from './protocol/commands.js';
export type { PutOptions } from './producer.js';

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
export class Client extends EventEmitter<ClientEvents> implements Producer {
  private readonly connection: Link;
  private maxJobSize: number | undefined;
  /** While max-job-size is being read, every command waits behind it, so that order is kept. */
  private gate: Promise<void> | null = null;
  private gated = 0;
  private maxJobSizeError: Error | undefined;
  /** The tube of the caller's last `use`, from the moment it is issued: where a put without a tube goes. */
  private ownTube = 'default';
  /** The caller's tube as the server last confirmed it. */
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
    link.on('state', (state, previous) => this.emit('state', state, previous));
    link.on('close', (error) => this.emit('close', error));
    link.on('reconnecting', (info) => this.emit('reconnecting', info));
    link.on('reconnect', (info) => this.emit('reconnect', info));
    link.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
  }

  /**
   * On a new connection after a loss: the caller's tube and the watch list. Resolves with the tube
   * the connection then uses.
   */
  private async restoreTubes(connection: Connection): Promise<string> {
    // Always one round trip, even on `default`: a peer that accepts and drops must not count as reconnected.
    const tube = this.ownTube;
    const steps: Promise<unknown>[] = [connection.send(request(COMMANDS.use, [tube]))];
    for (const watched of this.watching) {
      if (watched !== 'default') steps.push(connection.send(request(COMMANDS.watch, [watched])));
    }
    if (!this.watching.has('default')) steps.push(connection.send(request(COMMANDS.ignore, ['default'])));
    await Promise.all(steps);
    return tube;
  }

  /** Where the connection stands: `ready`, `reconnecting`, `connecting` (a reconnect attempt), `closing`, `closed`. A `state` event tells each change. */
  get state(): ClientState {
    return this.connection.state;
  }

  /** True between a lost connection and the next one (with `reconnect` on): commands queue meanwhile. */
  get reconnecting(): boolean {
    return this.state === 'reconnecting' || this.state === 'connecting';
  }

  /** False once the connection is closing or closed. */
  get usable(): boolean {
    return this.connection.usable;
  }

  /** Commands sent or queued and not yet answered. */
  get pending(): number {
    return this.connection.pending + this.gated;
  }

  /**
   * The tube of the last `use`, as the server confirmed it: a `use` still in flight is not in it
   * yet, and `put(body, { tube })` never changes it (it is where a put without a tube goes).
   */
  get using(): string {
    return this.tubeInUse;
  }

  /** The tubes `reserve` takes from, as last confirmed by the server. */
  get watched(): string[] {
    return [...this.watching];
  }

  /**
   * Puts a job; resolves with its id. Into `options.tube` if given (a `use` goes first only when the
   * connection is on another tube; the caller's own `use` tube is not changed), else into the tube
   * of the caller's last `use`.
   */
  put(body: Buffer | Uint8Array | string, options: PutOptions = {}): Promise<number> {
    let sent: Request<number>;
    try {
      const data = checkBody(body);
      const tube = options.tube === undefined ? this.ownTube : checkTube(options.tube);
      const args = [given(options.priority, DEFAULT_PRIORITY), given(options.delay, DEFAULT_DELAY), given(options.ttr, DEFAULT_TTR)];
      sent = request(COMMANDS.put, args, data, tube);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.maxJobSize === undefined) this.gate ??= this.readMaxJobSize();
    if (this.gate !== null) return this.behindGate(() => this.putChecked(sent));
    return this.putChecked(sent);
  }

  /** Puts into `tube`, leaving the caller's `use` tube as it was: `put(body, { ...options, tube })`. */
  putInto(tube: string, body: Buffer | Uint8Array | string, options: PutOptions = {}): Promise<number> {
    return this.put(body, { ...options, tube });
  }

  private putChecked(sent: Request<number>): Promise<number> {
    if (this.maxJobSize === undefined) return Promise.reject(this.maxJobSizeUnknown());
    const size = (sent.body as Buffer).length;
    if (size > this.maxJobSize) {
      return Promise.reject(
        new InvalidArgumentError('body', `body is ${size} bytes, more than the server's max-job-size of ${this.maxJobSize}`),
      );
    }
    return this.connection.send(sent);
  }

  /** Selects the tube `put` (without a tube), `peekReady`, `kick`... work on; resolves with its name. */
  use(tube: string): Promise<string> {
    return this.call(COMMANDS.use, [tube], null, (name) => {
      this.ownTube = name;
    }).then((used) => {
      this.tubeInUse = used;
      return used;
    });
  }

  /** Waits as long as it takes for a job from the watched tubes. */
  reserve(): Promise<Job> {
    return this.call(COMMANDS.reserve, []);
  }

  /** Waits up to `seconds` for a job; null when none came. 0 returns at once. */
  reserveWithTimeout(seconds: number): Promise<Job | null> {
    return this.call(COMMANDS.reserveWithTimeout, [seconds]);
  }

  /** Reserves one job by id, whatever its state (beanstalkd 1.12). */
  reserveJob(id: number): Promise<Job> {
    return this.call(COMMANDS.reserveJob, [id]);
  }

  delete(id: number): Promise<void> {
    return this.call(COMMANDS.delete, [id]);
  }

  /** Puts a reserved job back to ready (or delayed). */
  release(id: number, options: ReleaseOptions = {}): Promise<void> {
    return this.call(COMMANDS.release, [id, given(options.priority, DEFAULT_PRIORITY), given(options.delay, DEFAULT_DELAY)]);
  }

  /** Buries a reserved job: it stays until kicked. */
  bury(id: number, priority: number = DEFAULT_PRIORITY): Promise<void> {
    return this.call(COMMANDS.bury, [id, priority]);
  }

  /** Restarts the TTR clock of a job this connection has reserved. */
  touch(id: number): Promise<void> {
    return this.call(COMMANDS.touch, [id]);
  }

  /** Adds a tube to the watch list; resolves with the number of tubes watched. */
  watch(tube: string): Promise<number> {
    return this.call(COMMANDS.watch, [tube]).then((count) => {
      this.watching.add(tube);
      return count;
    });
  }

  /** Drops a tube from the watch list; NotIgnoredError for the last one. */
  ignore(tube: string): Promise<number> {
    return this.call(COMMANDS.ignore, [tube]).then((count) => {
      this.watching.delete(tube);
      return count;
    });
  }

  /** The job with this id, in any state; null when there is none. */
  peek(id: number): Promise<Job | null> {
    return this.call(COMMANDS.peek, [id]);
  }

  /** The next ready job of the used tube, or null. */
  peekReady(): Promise<Job | null> {
    return this.call(COMMANDS.peekReady, []);
  }

  /** The delayed job of the used tube that is next to become ready, or null. */
  peekDelayed(): Promise<Job | null> {
    return this.call(COMMANDS.peekDelayed, []);
  }

  /** The next buried job of the used tube, or null. */
  peekBuried(): Promise<Job | null> {
    return this.call(COMMANDS.peekBuried, []);
  }

  /** Kicks up to `bound` buried jobs of the used tube (or delayed ones when none is buried); resolves with the count. */
  kick(bound: number): Promise<number> {
    return this.call(COMMANDS.kick, [bound]);
  }

  /** Kicks one buried or delayed job to ready. */
  kickJob(id: number): Promise<void> {
    return this.call(COMMANDS.kickJob, [id]);
  }

  stats(): Promise<ServerStats> {
    return this.call(COMMANDS.stats, []);
  }

  statsJob(id: number): Promise<JobStats> {
    return this.call(COMMANDS.statsJob, [id]);
  }

  statsTube(tube: string): Promise<TubeStats> {
    return this.call(COMMANDS.statsTube, [tube]);
  }

  listTubes(): Promise<string[]> {
    return this.call(COMMANDS.listTubes, []);
  }

  /** The tube of the caller's last `use`, as the server reports it. */
  listTubeUsed(): Promise<string> {
    return this.call(COMMANDS.listTubeUsed, []);
  }

  listTubesWatched(): Promise<string[]> {
    return this.call(COMMANDS.listTubesWatched, []);
  }

  /** No job is reserved from the tube for `seconds` (0 lifts a pause). */
  pauseTube(tube: string, seconds: number): Promise<void> {
    return this.call(COMMANDS.pauseTube, [tube, seconds]);
  }

  /** Sends `quit` after the commands in flight have their replies, then closes. Pending reserves reject. */
  close(): Promise<void> {
    // Commands still waiting for max-job-size go first: they were issued before the close. Not while
    // reconnecting: the stats they wait for sits in the offline queue, which the close empties.
    const issuedBefore = this.gate !== null && this.state === 'ready' ? this.behindGate(async () => undefined) : undefined;
    return this.connection.close(issuedBefore);
  }

  /** Closes at once; pending commands reject with ConnectionError. */
  destroy(): void {
    this.connection.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Checks the arguments and sends one command (a rejected promise, with nothing sent, for an
   * argument the server would refuse). `issued` runs once the request is built, in call order.
   */
  private call<T>(command: Command<T>, args: readonly unknown[], body: Buffer | null = null, issued?: (first: string) => void): Promise<T> {
    let sent: Request<T>;
    try {
      sent = request(command, args, body, command.tube === 'used' ? this.ownTube : null);
    } catch (error) {
      return Promise.reject(error);
    }
    issued?.(sent.args[0] as string);
    if (this.gate !== null) return this.behindGate(() => this.connection.send(sent));
    return this.connection.send(sent);
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
    return this.connection.send(request(COMMANDS.stats, [])).then(
      (stats) => {
        this.maxJobSize = stats.maxJobSize;
        this.connection.allowReplyBytes(stats.maxJobSize);
      },
      (error: Error) => {
        this.maxJobSizeError = error;
      },
    );
  }
}

/** Only a missing option takes the default: `null` or any other wrong value goes on to be refused. */
function given(value: unknown, fallback: number): unknown {
  return value === undefined ? fallback : value;
}

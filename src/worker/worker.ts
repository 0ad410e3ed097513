import { EventEmitter, setMaxListeners } from 'node:events';
import createDebug from 'debug';
import { pause, retryDelay, type RetryPolicy } from '../retry.js';
import { Client } from '../client.js';
import { InvalidArgumentError } from '../errors.js';
import type { AnyJobDefinition } from '../jobs/define.js';
import type { ConnectOptions, ReconnectOptions } from '../options.js';
import { checkTube } from '../protocol/validate.js';
import type { WorkerEvents } from './events.js';
import type { RawHandler } from './run-job.js';
import { Slot, type SlotHost } from './slot.js';

const log = createDebug('beanline:worker');

export interface WorkerOptions {
  /** Where to connect: a URL or options, as for `Client.connect`. */
  connection?: string | ConnectOptions;
  /** Tubes to reserve from. Default: the tubes of `jobs`, else `default`. */
  tubes?: string[];
  /** Jobs run in parallel, each on its own connection. Default 1. */
  concurrency?: number;
  /** The job types this worker runs. */
  jobs?: AnyJobDefinition[];
  handlers?: {
    /** Runs jobs whose body is not a beanline envelope, or whose type has no definition here. */
    raw?: RawHandler;
  };
  /** Waits between reconnects after a connection is lost (exponential, with jitter). */
  reconnect?: Pick<ReconnectOptions, 'minDelayMs' | 'maxDelayMs'>;
  /**
   * Install SIGTERM and SIGINT handlers that call `stop()`; if the grace period runs out, the process
   * then exits (a second signal ends it at once). Default false.
   */
  handleSignals?: boolean;
  /** The grace period of `stop()` when none is given, and of the signal handlers. Default 30,000. */
  shutdownTimeoutMs?: number;
}

export interface StopOptions {
  /** How long running handlers may take to finish before their jobs are released. */
  timeoutMs?: number;
}

/**
 * Reserves jobs from its tubes and runs them: success deletes the job, a failure puts it back for a
 * retry with backoff (the failure recorded in it), and retries exhausted bury it.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly tubes: readonly string[];
  readonly concurrency: number;
  private readonly connection: string | ConnectOptions | undefined;
  private readonly definitions = new Map<string, AnyJobDefinition>();
  private readonly raw: RawHandler | undefined;
  /** Waits between a slot's reconnect attempts. */
  private readonly retry: RetryPolicy;
  private readonly handleSignals: boolean;
  private readonly shutdownTimeoutMs: number;
  private readonly abort = new AbortController();
  private slots: Slot[] = [];
  private loops: Promise<void>[] = [];
  private starting: Promise<void> | null = null;
  /** True when stop() gave up waiting for some running handler. */
  private abandoned = false;
  /** When the current outage began (performance.now()), or null while connected. */
  private downSince: number | null = null;
  /** When the last outage ended: a reconnect attempt begun before it says nothing about the server now. */
  private upSince = -Infinity;
  private failedAttempts = 0;
  private stopping: Promise<void> | null = null;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    log('%s received: stopping', signal);
    void this.stop().then(() => {
      // Our listener replaced Node's exit on this signal. After a clean stop nothing of ours holds the
      // process; after the grace period a handler still running would, so end it (its job is back),
      // and say by the exit code that the shutdown was not clean.
      if (this.abandoned) process.exit(process.exitCode || 1);
    });
  };

  constructor(options: WorkerOptions = {}) {
    super();
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InvalidArgumentError('concurrency', `concurrency must be a whole number of 1 or more, got ${concurrency}`);
    }
    this.concurrency = concurrency;
    for (const definition of options.jobs ?? []) {
      if (this.definitions.has(definition.type)) {
        throw new InvalidArgumentError('jobs', `two job definitions have the type ${JSON.stringify(definition.type)}`);
      }
      this.definitions.set(definition.type, definition);
    }
    const tubes = options.tubes ?? [...new Set([...this.definitions.values()].map((definition) => definition.tube))];
    this.tubes = tubes.length > 0 ? tubes.map((tube) => checkTube(tube)) : ['default'];
    this.raw = options.handlers?.raw;
    this.connection = options.connection;
    this.retry = { minDelayMs: options.reconnect?.minDelayMs ?? 100, maxDelayMs: options.reconnect?.maxDelayMs ?? 5000 };
    this.handleSignals = options.handleSignals ?? false;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    // Every slot waiting to reconnect, and every running handler, may listen to this one signal.
    setMaxListeners(0, this.abort.signal);
  }

  /** Connects every slot (rejecting if the server cannot be reached), then starts reserving. */
  start(): Promise<void> {
    if (this.starting !== null) return Promise.reject(new Error('worker: start() was already called'));
    this.starting = this.open();
    return this.starting;
  }

  private async open(): Promise<void> {
    const host = this.slotHost();
    this.slots = Array.from({ length: this.concurrency }, (_, index) => new Slot(host, index));
    const opened = await Promise.allSettled(this.slots.map((slot) => slot.open()));
    const failed = opened.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      this.stopping ??= Promise.resolve();
      await Promise.all(this.slots.map((slot) => slot.loop()));
      throw (failed as PromiseRejectedResult).reason;
    }
    this.loops = this.slots.map((slot) => slot.loop());
    // stop() may have come while the slots were connecting: then the loops end at once.
    if (this.handleSignals && this.stopping === null) {
      process.once('SIGTERM', this.onSignal);
      process.once('SIGINT', this.onSignal);
    }
    log('started: %d slot(s) on tubes %s', this.concurrency, this.tubes.join(', '));
  }

  /**
   * Stops reserving at once, waits up to `timeoutMs` for running handlers, then gives their jobs
   * back to the server (ready again, nothing lost) and closes every connection.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.timeoutMs ?? this.shutdownTimeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    // A start() under way finishes first (its slots see `stopping` and end), so nothing is left running.
    await this.starting?.catch(() => undefined);
    log('stopping: waiting up to %d ms for running jobs', timeoutMs);
    process.removeListener('SIGTERM', this.onSignal);
    process.removeListener('SIGINT', this.onSignal);
    this.abort.abort();
    for (const slot of this.slots) slot.interrupt();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const finished = await Promise.race([Promise.all(this.loops).then(() => 'done' as const), graceOver]);
    clearTimeout(timer);
    if (finished === 'timeout') {
      // A handler cannot be cancelled: its slot lets go of the job and the connection, and its
      // loop ends whenever the handler does, with the result ignored.
      log('grace period over: releasing unfinished jobs');
      this.abandoned = true;
      for (const slot of this.slots) {
        const running = slot.abandon();
        if (running !== null) this.emit('job:abandoned', { ...running, timeoutMs });
      }
    }
    log('stopped');
  }

  private slotHost(): SlotHost {
    const worker = this;
    return {
      definitions: this.definitions,
      raw: this.raw,
      signal: this.abort.signal,
      get stopping() {
        return worker.stopping !== null;
      },
      emit: (event, ...args) => {
        (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
      },
      reportError: (error) => this.reportError(error),
      connect: () => this.connect(),
      pauseBeforeReconnect: (attempt) => pause(retryDelay(this.retry, attempt), this.abort.signal),
      connectionLost: (error, since) => this.connectionLost(error, since),
      connectionRestored: () => this.connectionRestored(),
    };
  }

  /**
   * One report per outage: with N slots each retrying with backoff, a report per slot and attempt
   * buries the one fact that matters (the server is gone) under dozens of copies.
   */
  private connectionLost(error: Error, since: number): void {
    if (this.downSince !== null || since < this.upSince) {
      if (this.downSince !== null) this.failedAttempts += 1;
      log('still disconnected: %s', error.message);
      return;
    }
    this.downSince = performance.now();
    this.failedAttempts = 0;
    this.reportError(error);
  }

  private connectionRestored(): void {
    if (this.downSince === null) return;
    const now = performance.now();
    const info = { downMs: Math.round(now - this.downSince), failedAttempts: this.failedAttempts };
    this.downSince = null;
    this.upSince = now;
    log('connected again after %d ms (%d failed attempts)', info.downMs, info.failedAttempts);
    this.emit('connection:restored', info);
  }

  private async connect(): Promise<Client> {
    const client = await Client.connect(this.connection);
    try {
      const steps: Promise<unknown>[] = this.tubes.map((tube) => client.watch(tube));
      if (!this.tubes.includes('default')) steps.push(client.ignore('default'));
      await Promise.all(steps);
    } catch (error) {
      client.destroy();
      throw error;
    }
    return client;
  }

  /** An `error` event when someone listens; else a process warning, so a worker is never killed by one bad job. */
  private reportError(error: Error): void {
    log('error: %s', error.message);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error);
  }
}

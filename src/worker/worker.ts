import { EventEmitter, setMaxListeners } from 'node:events';
import createDebug from 'debug';
import { pause, retryDelay, type RetryPolicy } from '../retry.js';
import { Client } from '../client.js';
import { InvalidArgumentError } from '../errors.js';
import type { AnyJobDefinition } from '../jobs/define.js';
import { parseUrl, resolveOptions, serverList, type ConnectOptions, type ReconnectOptions } from '../options.js';
import { checkTube } from '../protocol/validate.js';
import { Capacity } from './capacity.js';
import type { WorkerEvents } from './events.js';
import { Outages } from './outages.js';
import type { RawHandler } from './run-job.js';
import { Slot, type SlotHost } from './slot.js';

const log = createDebug('beanline:worker');

/** With several servers: how long one reserve waits, a slice at a time. */
const SLICE_SECONDS = 1;
/** With several servers: how long a command may go unanswered before its server counts as gone. */
const SILENT_SERVER_MS = 2000;

export interface WorkerOptions {
  /**
   * Where to connect: a URL or options, as for `Client.connect`; or several servers, as an array of
   * URLs or a comma-separated list (also in $BEANSTALKD_URL): the worker then reserves from all.
   */
  connection?: string | ConnectOptions | readonly string[];
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
  /**
   * Waits between reconnects after a connection is lost (exponential, with jitter). Slots reconnect
   * by themselves: a `reconnect` in `connection` only lends its delays here.
   */
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
  /** The servers reserved from: URLs as given, or one made from `connection`. */
  readonly servers: readonly string[];
  /** Options for each slot's client (from `connection`, or the URL of each server). */
  private readonly connectOptions: (server: string) => string | ConnectOptions;
  private readonly shared: { readonly capacity: Capacity; readonly sliceSeconds: number } | null;
  private readonly outages: Outages;
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
    const several = serverList(options.connection);
    if (several === null) {
      const single = options.connection as string | ConnectOptions | undefined;
      const resolved = resolveOptions(single);
      this.servers = [`${resolved.tls === null ? 'beanstalk' : 'beanstalks'}://${resolved.host}:${resolved.port}`];
      // One retry policy: the slot's own. A client that also reconnected would hide the loss from it.
      this.connectOptions = () => (typeof single === 'object' ? { ...single, reconnect: false } : (single ?? {}));
      this.shared = null;
    } else {
      this.servers = several;
      this.connectOptions = (server) => ({ ...parseUrl(server), commandTimeoutMs: SILENT_SERVER_MS });
      this.shared = { capacity: new Capacity(concurrency), sliceSeconds: SLICE_SECONDS };
    }
    const fromConnection = typeof options.connection === 'object' && !Array.isArray(options.connection) ? (options.connection as ConnectOptions).reconnect : undefined;
    const lent = typeof fromConnection === 'object' ? fromConnection : {};
    this.retry = {
      minDelayMs: options.reconnect?.minDelayMs ?? lent.minDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? lent.maxDelayMs ?? 5000,
    };
    this.outages = new Outages(
      (error) => this.reportError(error),
      (info) => this.emit('connection:restored', info),
    );
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
    this.slots = this.servers.flatMap((server, s) =>
      Array.from({ length: this.concurrency }, (_, index) => new Slot(host, s * this.concurrency + index, server)),
    );
    const opened = await Promise.allSettled(this.slots.map((slot) => slot.open()));
    const failed = opened.find((result) => result.status === 'rejected');
    // With several servers, one that is down is retried in the background: the others serve meanwhile.
    const anyOpen = opened.some((result) => result.status === 'fulfilled');
    if (failed !== undefined && this.shared !== null && anyOpen) {
      opened.forEach((result, index) => {
        if (result.status === 'rejected') host.connectionLost((this.slots[index] as Slot).server, result.reason as Error, performance.now());
      });
    } else if (failed !== undefined) {
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
    log('started: %d slot(s) on %s, tubes %s', this.slots.length, this.servers.join(', '), this.tubes.join(', '));
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
      connect: (server) => this.connect(server),
      pauseBeforeReconnect: (attempt) => pause(retryDelay(this.retry, attempt), this.abort.signal),
      connectionLost: (server, error, since) => this.outages.lost(server, error, since),
      connectionRestored: (server) => this.outages.connected(server),
      shared: this.shared,
    };
  }

  private async connect(server: string): Promise<Client> {
    const client = await Client.connect(this.connectOptions(server));
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

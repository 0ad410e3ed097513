import createDebug from 'debug';
import type { Client } from '../client.js';
import type { Job } from '../protocol/commands.js';
import { ConnectionError, DeadlineSoonError, ProtocolError, TimeoutError } from '../errors.js';
import type { JobEventInfo } from './events.js';
import type { Capacity } from './capacity.js';
import { runJob, type RunHost, type RunState } from './run-job.js';

const log = createDebug('beanline:worker');

/** What a slot needs from its worker besides running jobs. */
export interface SlotHost extends RunHost {
  readonly stopping: boolean;
  /** A new client to `server`, watching the worker's tubes (and only those). */
  connect(server: string): Promise<Client>;
  /** Waits before reconnect attempt `attempt`; returns early when the worker stops. */
  pauseBeforeReconnect(attempt: number): Promise<void>;
  /**
   * The connection was lost, or a reconnect that began at `since` (a performance.now() time) failed:
   * the worker reports an outage once per server, however many slots and attempts see it.
   */
  connectionLost(server: string, error: Error, since: number): void;
  /** A slot connected again after a loss. */
  connectionRestored(server: string): void;
  /**
   * With several servers: the places shared by every slot, and how long one reserve waits (a
   * silent server is then noticed within that plus the command timeout). Null with one server,
   * where each slot is a place and reserves wait as long as it takes.
   */
  readonly shared: { readonly capacity: Capacity; readonly sliceSeconds: number } | null;
}

type SlotState = 'idle' | 'reserving' | 'working' | 'stopped';

/**
 * One unit of concurrency: a connection of its own (beanstalkd ties delete, release and touch to
 * the reserving connection, and a waiting reserve holds up the connection) running one job at a time.
 */
export class Slot {
  private client: Client | null = null;
  private state: SlotState = 'idle';
  private run: RunState | null = null;
  /** A reserve sent behind the last job's delete, on `client`; taken by the next turn of the loop. */
  private nextJob: Promise<Job> | null = null;
  private readonly host: SlotHost;
  private readonly index: number;
  /** The server this slot reserves from, as its URL was given. */
  readonly server: string;

  constructor(host: SlotHost, index: number, server: string) {
    this.host = host;
    this.index = index;
    this.server = server;
  }

  /** The first connection, made before the worker reports itself started. */
  async open(): Promise<void> {
    this.client = await this.host.connect(this.server);
  }

  /** Reserves and runs jobs until the worker stops; reconnects by itself when the connection drops. */
  async loop(): Promise<void> {
    let failures = 0;
    while (!this.host.stopping) {
      const client = this.client ?? (await this.reconnect(++failures));
      if (client === null) continue;
      try {
        this.state = 'reserving';
        const job = await (this.takeNextJob() ?? this.reserve(client));
        // Only an answer proves the connection healthy; a server that accepts and drops must not make us spin.
        failures = 0;
        if (job === null) continue;
        this.state = 'working';
        if (this.host.stopping) {
          // Handed over as we stopped: closing the connection gives it back to ready, priority kept.
          client.destroy();
          break;
        }
        const capacity = this.host.shared?.capacity;
        if (capacity !== undefined && !capacity.tryAcquire()) {
          await this.handBack(client, job);
          continue;
        }
        this.run = { abandoned: false, running: null, server: this.server, reserveNext: () => this.reserveAhead(client) };
        try {
          await runJob(client, job, this.host, this.run);
        } finally {
          capacity?.release();
        }
      } catch (error) {
        if (this.host.stopping) break;
        this.onLoopError(client, error as Error);
      } finally {
        this.run = null;
        this.state = 'idle';
      }
    }
    this.state = 'stopped';
    await this.closeClient();
  }

  /**
   * The next job, or null when a slice of waiting ended without one. With several servers a
   * reserve goes out only while there is room, and waits a slice at a time.
   */
  private async reserve(client: Client): Promise<Job | null> {
    const shared = this.host.shared;
    if (shared === null) return client.reserve();
    await shared.capacity.untilMayReserve(this.server, this.host.signal);
    if (this.host.stopping) return null;
    shared.capacity.beginReserve(this.server);
    try {
      return await client.reserveWithTimeout(shared.sliceSeconds);
    } finally {
      shared.capacity.endReserve(this.server);
    }
  }

  /** A job that came while every place was taken goes back to ready as it was, for a slot with room. */
  private async handBack(client: Client, job: Job): Promise<void> {
    const { pri } = await client.statsJob(job.id);
    await client.release(job.id, { priority: pri });
    log('slot %d (%s): handed job %d back, every place taken', this.index, this.server, job.id);
  }

  private reserveAhead(client: Client): void {
    // With several servers, a reserve waits for room, which this job still holds.
    if (this.host.stopping || this.nextJob !== null || this.host.shared !== null) return;
    // If the loop never takes it (a stop, a lost connection), closing the connection hands back any job it brings.
    this.nextJob = client.reserve();
    this.nextJob.catch(() => undefined);
  }

  private takeNextJob(): Promise<Job> | null {
    const next = this.nextJob;
    this.nextJob = null;
    return next;
  }

  /** At stop: a slot waiting for a job lets go at once. */
  interrupt(): void {
    if (this.state === 'reserving') this.client?.destroy();
  }

  /**
   * At stop, when the grace period is over: drops the connection, which returns the running job to
   * ready (with its priority); the handler's result is then ignored.
   */
  abandon(): JobEventInfo | null {
    const running = this.run?.running ?? null;
    if (this.run !== null) this.run.abandoned = true;
    this.client?.destroy();
    return running;
  }

  /** The first attempt after a loss is immediate; later ones back off, even when connecting works. */
  private async reconnect(attempt: number): Promise<Client | null> {
    if (attempt > 1) await this.host.pauseBeforeReconnect(attempt - 1);
    if (this.host.stopping) return null;
    const since = performance.now();
    try {
      const client = await this.host.connect(this.server);
      if (this.host.stopping) {
        // stop() came while we were connecting: a reserve now would hold up the shutdown.
        await client.close();
        return null;
      }
      this.client = client;
      log('slot %d reconnected to %s (attempt %d)', this.index, this.server, attempt);
      this.host.connectionRestored(this.server);
      return client;
    } catch (error) {
      log('slot %d: reconnect attempt %d to %s failed: %s', this.index, attempt, this.server, (error as Error).message);
      this.host.connectionLost(this.server, error as Error, since);
      return null;
    }
  }

  private onLoopError(client: Client, error: Error): void {
    if (error instanceof DeadlineSoonError) return; // our own job is near its TTR; the keep-alive sees to it
    const broken = error instanceof ConnectionError || error instanceof ProtocolError || error instanceof TimeoutError;
    if (broken || !client.usable) {
      log('slot %d lost its connection: %s', this.index, error.message);
      client.destroy();
      this.client = null;
      this.nextJob = null;
      this.host.connectionLost(this.server, error, performance.now());
      return;
    }
    this.host.reportError(error);
  }

  private async closeClient(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client?.usable) await client.close();
  }
}

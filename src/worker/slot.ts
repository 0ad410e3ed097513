import createDebug from 'debug';
import type { Client } from '../client.js';
import type { Job } from '../protocol/commands.js';
import { ConnectionError, DeadlineSoonError, ProtocolError, TimeoutError } from '../errors.js';
import type { JobEventInfo } from './events.js';
import { runJob, type RunHost, type RunState } from './run-job.js';

const log = createDebug('beanline:worker');

/** What a slot needs from its worker besides running jobs. */
export interface SlotHost extends RunHost {
  readonly stopping: boolean;
  /** A new client watching the worker's tubes (and only those). */
  connect(): Promise<Client>;
  /** Waits before reconnect attempt `attempt`; returns early when the worker stops. */
  pauseBeforeReconnect(attempt: number): Promise<void>;
  /**
   * The connection was lost, or a reconnect that began at `since` (a performance.now() time) failed:
   * the worker reports an outage once, however many slots and attempts see it.
   */
  connectionLost(error: Error, since: number): void;
  /** A slot connected again after a loss. */
  connectionRestored(): void;
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

  constructor(host: SlotHost, index: number) {
    this.host = host;
    this.index = index;
  }

  /** The first connection, made before the worker reports itself started. */
  async open(): Promise<void> {
    this.client = await this.host.connect();
  }

  /** Reserves and runs jobs until the worker stops; reconnects by itself when the connection drops. */
  async loop(): Promise<void> {
    let failures = 0;
    while (!this.host.stopping) {
      const client = this.client ?? (await this.reconnect(++failures));
      if (client === null) continue;
      try {
        this.state = 'reserving';
        const job = await (this.takeNextJob() ?? client.reserve());
        this.state = 'working';
        // Only a job proves the connection healthy; a server that accepts and drops must not make us spin.
        failures = 0;
        if (this.host.stopping) {
          // Handed over as we stopped: closing the connection gives it back to ready, priority kept.
          client.destroy();
          break;
        }
        this.run = { abandoned: false, running: null, reserveNext: () => this.reserveAhead(client) };
        await runJob(client, job, this.host, this.run);
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

  private reserveAhead(client: Client): void {
    if (this.host.stopping || this.nextJob !== null) return;
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
      const client = await this.host.connect();
      if (this.host.stopping) {
        // stop() came while we were connecting: a reserve now would hold up the shutdown.
        await client.close();
        return null;
      }
      this.client = client;
      log('slot %d reconnected (attempt %d)', this.index, attempt);
      this.host.connectionRestored();
      return client;
    } catch (error) {
      log('slot %d: reconnect attempt %d failed: %s', this.index, attempt, (error as Error).message);
      this.host.connectionLost(error as Error, since);
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
      this.host.connectionLost(error, performance.now());
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

/**
 * One connected stretch of a scheduler's life: two connections, following until the lease comes,
 * leading while it is held. A lost connection ends the session (the scheduler opens a new one):
 * the lease died with it, so there is nothing to restore.
 *
 * Two connections because a follower blocks in `reserve` on the lock tube, while the record of
 * last ticks is read (followers' `list()`) and written (the leader) in a tube of its own that the
 * lease connection must never take from.
 */
import { Client } from '../client.js';
import type { ConnectOptions } from '../options.js';
import { acquireLease, type LeaseOptions } from './lease.js';
import { Leader, type LeaderHost } from './leader.js';
import { peekRecord } from './store.js';
import type { LastTicks } from './record.js';

export interface SessionHost extends LeaderHost {
  readonly lease: LeaseOptions;
  leading(value: boolean): void;
}

export class Session {
  /** A `reserve` for the lease is pending: closing the connection now loses nothing. */
  private blocked = false;
  private leader: Leader | null = null;

  /** Connects both clients, each on its own tube only. */
  static async open(connection: ConnectOptions, lockTube: string, recordTube: string, host: SessionHost): Promise<Session> {
    const opened = await Promise.allSettled([Client.connect(connection), Client.connect(connection)]);
    const [lease, ops] = opened.map((result) => (result.status === 'fulfilled' ? result.value : null));
    if (!lease || !ops) {
      lease?.destroy();
      ops?.destroy();
      throw (opened.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason;
    }
    try {
      await Promise.all([onlyTube(lease, lockTube), onlyTube(ops, recordTube)]);
    } catch (error) {
      lease.destroy();
      ops.destroy();
      throw error;
    }
    return new Session(lease, ops, host);
  }

  private constructor(
    private readonly lease: Client,
    readonly ops: Client,
    private readonly host: SessionHost,
  ) {
    const closed = (error: Error | undefined): void => this.leader?.wake(error ?? new Error('connection closed'));
    lease.on('close', closed);
    ops.on('close', closed);
    // Errors also reject the command that met them; the session reports them from there.
    lease.on('error', () => undefined);
    ops.on('error', () => undefined);
  }

  /** Follows and leads until the scheduler stops; rejects when a connection fails. */
  async run(): Promise<void> {
    const blocked = (waiting: boolean): void => {
      this.blocked = waiting;
    };
    while (!this.host.stopping()) {
      const acquired = await acquireLease(this.lease, this.host.lease, () => this.host.stopping(), blocked, () => this.recordedLeases());
      if (acquired === null) return;
      this.leader = new Leader(this.lease, this.ops, acquired.id, this.host);
      this.host.leading(true);
      try {
        await this.leader.run();
      } finally {
        this.leader = null;
        this.host.leading(false);
      }
    }
  }

  /** Cuts short what the session waits for, so that `run` returns soon after `stopping()` turns true. */
  interrupt(): void {
    this.leader?.wake();
    // A pending reserve cannot be called back: closing its connection ends it (a lease it was
    // about to take goes back to ready with the connection).
    if (this.blocked) this.lease.destroy();
  }

  /** The leases the newest record names: the writer's, and those it found stuck. */
  private async recordedLeases(): Promise<number[]> {
    const record = await peekRecord(this.ops);
    if (record === null) return [];
    return record.lease === null ? [...record.stale] : [record.lease, ...record.stale];
  }

  /** The newest record in beanstalkd, as a follower sees it. */
  peek(): Promise<LastTicks | null> {
    return peekRecord(this.ops);
  }

  async close(): Promise<void> {
    await Promise.all([this.lease.close().catch(() => undefined), this.ops.close().catch(() => undefined)]);
  }

  destroy(): void {
    this.lease.destroy();
    this.ops.destroy();
  }
}

/** Uses and watches `tube` alone. */
async function onlyTube(client: Client, tube: string): Promise<void> {
  await Promise.all([client.use(tube), client.watch(tube)]);
  await client.ignore('default');
}

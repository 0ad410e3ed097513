/**
 * One report per server outage: with N slots each retrying with backoff, a report per slot and
 * attempt buries the one fact that matters (a server is gone) under dozens of copies. Each attempt
 * is still logged under `beanline:worker`.
 */
import createDebug from 'debug';

const log = createDebug('beanline:worker');

interface Outage {
  /** When it began (performance.now()), or null while the server is reachable. */
  since: number | null;
  /** When the last one ended: an attempt begun before that says nothing about the server now. */
  endedAt: number;
  failedAttempts: number;
}

export interface Restored {
  readonly server: string;
  readonly downMs: number;
  readonly failedAttempts: number;
}

export class Outages {
  private readonly byServer = new Map<string, Outage>();

  constructor(
    private readonly report: (error: Error) => void,
    private readonly restored: (info: Restored) => void,
  ) {}

  /** The connection to `server` was lost, or a reconnect that began at `since` failed. */
  lost(server: string, error: Error, since: number): void {
    const outage = this.outage(server);
    if (outage.since !== null || since < outage.endedAt) {
      if (outage.since !== null) outage.failedAttempts += 1;
      log('%s: still disconnected: %s', server, error.message);
      return;
    }
    outage.since = performance.now();
    outage.failedAttempts = 0;
    this.report(error);
  }

  /** A slot connected to `server` again. */
  connected(server: string): void {
    const outage = this.outage(server);
    if (outage.since === null) return;
    const now = performance.now();
    const info = { server, downMs: Math.round(now - outage.since), failedAttempts: outage.failedAttempts };
    outage.since = null;
    outage.endedAt = now;
    log('%s: connected again after %d ms (%d failed attempts)', server, info.downMs, info.failedAttempts);
    this.restored(info);
  }

  private outage(server: string): Outage {
    let outage = this.byServer.get(server);
    if (outage === undefined) {
      outage = { since: null, endedAt: -Infinity, failedAttempts: 0 };
      this.byServer.set(server, outage);
    }
    return outage;
  }
}

/**
 * The dashboard's fixed set of servers (observe/server-set.ts), one reconnecting client each,
 * opened on first use, with the answers a route needs: 404 for a server number outside the list,
 * 503 for one that is down. A server that cannot be reached is tried again on a later request, not
 * on every one.
 */
import type { Client } from '../client.js';
import { ServerSet } from '../observe/server-set.js';
import type { ServerHandle, Snapshot } from '../observe/snapshot.js';
import { HttpError } from './http.js';

const SNAPSHOT_TIMEOUT_MS = 2_000;

export class Servers {
  private readonly set: ServerSet;

  constructor(urls: readonly string[]) {
    this.set = new ServerSet(urls, {
      // Once connected, a lost connection comes back by itself; the snapshot shows it down meanwhile.
      connect: { connectTimeoutMs: 3_000, commandTimeoutMs: 10_000, reconnect: { queueTimeoutMs: 2_000 } },
      retryAfterMs: 2_000,
    });
  }

  get urls(): string[] {
    return this.set.urls;
  }

  /** The client of server number `index` of the fixed list; 404 for a number outside it, 503 when it is down. */
  async client(index: number): Promise<Client> {
    const server = await this.set.server(index);
    if (server === undefined) throw new HttpError(404, `no server number ${index}`);
    if (server.client === null) throw new HttpError(503, `${server.url} is down: ${server.error}`);
    return server.client;
  }

  /** The connected servers as the observe/ functions take them. */
  handles(): Promise<(ServerHandle & { index: number })[]> {
    return this.set.connected();
  }

  /** Every server's stats and tubes, in the fixed order; only a server's first connect is waited for. */
  snapshot(): Promise<Snapshot> {
    return this.set.snapshot(SNAPSHOT_TIMEOUT_MS, { waitForFirst: true });
  }

  close(): void {
    this.set.close();
  }
}

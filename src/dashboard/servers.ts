/**
 * The dashboard's fixed set of servers, one reconnecting client each, opened on first use. A server
 * that cannot be reached is shown as down, and tried again on a later request, not on every one.
 */
import { Client } from '../client.js';
import { parseUrl } from '../options.js';
import type { ServerHandle, ServerSnapshot, Snapshot } from '../observe/snapshot.js';
import { takeSnapshot } from '../observe/snapshot.js';
import { HttpError } from './http.js';

const CONNECT_TIMEOUT_MS = 3_000;
const COMMAND_TIMEOUT_MS = 10_000;
const SNAPSHOT_TIMEOUT_MS = 2_000;
/** After a failed connect, wait this long before trying that server again. */
const RETRY_AFTER_MS = 2_000;

interface Slot {
  readonly url: string;
  client: Client | null;
  connecting: Promise<void> | null;
  error: string;
  failedAt: number;
}

export class Servers {
  private readonly slots: Slot[];
  private closed = false;

  constructor(urls: readonly string[]) {
    this.slots = urls.map((url) => ({ url, client: null, connecting: null, error: 'not connected yet', failedAt: 0 }));
  }

  get urls(): string[] {
    return this.slots.map((slot) => slot.url);
  }

  /** Every server, connected where it can be: a client, or why there is none. */
  async all(): Promise<Array<{ url: string; client: Client | null; error: string }>> {
    await Promise.all(this.slots.map((slot) => this.connect(slot)));
    return this.slots.map((slot) => ({ url: slot.url, client: slot.client, error: slot.error }));
  }

  /** The client of server number `index` of the fixed list; 404 for a number outside it, 503 when it is down. */
  async client(index: number): Promise<Client> {
    const slot = this.slots[index];
    if (slot === undefined || !Number.isInteger(index)) throw new HttpError(404, `no server number ${index}`);
    await this.connect(slot);
    if (slot.client === null) throw new HttpError(503, `${slot.url} is down: ${slot.error}`);
    return slot.client;
  }

  /** The connected servers as the observe/ functions take them. */
  async handles(): Promise<Array<ServerHandle & { index: number }>> {
    const all = await this.all();
    return all.flatMap((server, index) => (server.client === null ? [] : [{ url: server.url, client: server.client, index }]));
  }

  /**
   * Every server's stats and tubes, in the fixed order; servers not connected are down. Only a
   * server's first connect is waited for: a later attempt (to a host that may take its whole
   * connect timeout to fail) goes on in the background, so the live numbers of the others keep
   * coming once a second.
   */
  async snapshot(): Promise<Snapshot> {
    await Promise.all(this.slots.map((slot) => (slot.failedAt === 0 ? this.connect(slot) : void this.connect(slot))));
    const all = this.slots.map((slot) => ({ url: slot.url, client: slot.client, error: slot.error }));
    const up = all.filter((server) => server.client !== null).map((server) => ({ url: server.url, client: server.client as Client }));
    const taken = await takeSnapshot(up, { timeoutMs: SNAPSHOT_TIMEOUT_MS });
    const byUrl = new Map(taken.servers.map((server) => [server.url, server] as const));
    const servers: ServerSnapshot[] = all.map((server) => byUrl.get(server.url) ?? { url: server.url, up: false, error: server.error });
    return { at: taken.at, servers };
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.client?.destroy();
  }

  private connect(slot: Slot): Promise<void> {
    if (this.closed || slot.client !== null) return Promise.resolve();
    if (slot.connecting !== null) return slot.connecting;
    if (slot.failedAt !== 0 && Date.now() - slot.failedAt < RETRY_AFTER_MS) return Promise.resolve();
    slot.connecting = Client.connect({
      ...parseUrl(slot.url),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      // Once connected, a lost connection comes back by itself; the snapshot shows it down meanwhile.
      reconnect: { queueTimeoutMs: 2_000 },
    }).then(
      (client) => {
        if (this.closed) {
          client.destroy();
          return;
        }
        client.on('close', () => {
          if (slot.client === client) slot.client = null;
          slot.error = 'connection closed';
        });
        slot.client = client;
        slot.error = '';
      },
      (error: unknown) => {
        slot.error = error instanceof Error ? error.message : String(error);
        slot.failedAt = Date.now();
      },
    ).finally(() => {
      slot.connecting = null;
    });
    return slot.connecting;
  }
}

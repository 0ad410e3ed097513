/**
 * A fixed list of servers watched over time, by `top` and by the dashboard: a client per server,
 * connected when first needed. A server that cannot be reached, or whose connection is lost, is
 * shown as down with why, and tried again no more often than `retryAfterMs`. The list never
 * changes: nothing a caller passes later makes it connect anywhere else.
 */
import { Client } from '../client.js';
import { parseUrl, type ConnectOptions } from '../options.js';
import { takeSnapshot, type ServerHandle, type ServerSnapshot, type Snapshot } from './snapshot.js';

export interface ServerSetOptions {
  /** Timeouts and reconnect for each server's client. */
  readonly connect: Omit<ConnectOptions, 'host' | 'port' | 'tls'>;
  /** After a failed connect, wait this long before trying that server again (Infinity: never). */
  readonly retryAfterMs: number;
}

/** A server of the list: its client, or null and why not. */
export interface ServerState {
  readonly url: string;
  readonly client: Client | null;
  readonly error: string;
}

interface Slot {
  readonly url: string;
  client: Client | null;
  connecting: Promise<void> | null;
  error: string;
  /** Date.now() of the last failed connect; 0 before any. */
  failedAt: number;
}

export class ServerSet {
  private readonly slots: Slot[];
  private closed = false;

  constructor(urls: readonly string[], private readonly options: ServerSetOptions) {
    this.slots = urls.map((url) => ({ url, client: null, connecting: null, error: 'not connected yet', failedAt: 0 }));
  }

  get urls(): string[] {
    return this.slots.map((slot) => slot.url);
  }

  /** Connects every server that is not connected and is due a try; resolves when each attempt has ended. */
  async connectAll(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.connect(slot)));
  }

  /** The connected servers, in the list's order, each with its index in the list. */
  async connected(): Promise<(ServerHandle & { index: number })[]> {
    await this.connectAll();
    return this.slots.flatMap((slot, index) => (slot.client === null ? [] : [{ url: slot.url, client: slot.client, index }]));
  }

  /** Server number `index` of the list, connected if it can be; undefined outside the list. */
  async server(index: number): Promise<ServerState | undefined> {
    const slot = Number.isInteger(index) ? this.slots[index] : undefined;
    if (slot === undefined) return undefined;
    await this.connect(slot);
    return { url: slot.url, client: slot.client, error: slot.error };
  }

  /**
   * Every server's stats and tubes, in the list's order; a server not connected is down with why.
   * With `waitForFirst`, a server never tried is waited for; any other attempt goes on in the
   * background, so a host that takes its whole connect timeout to fail holds up no one's numbers.
   */
  async snapshot(timeoutMs: number, options: { waitForFirst?: boolean } = {}): Promise<Snapshot> {
    const first = this.slots.map((slot) => {
      const attempt = this.connect(slot);
      return options.waitForFirst === true && slot.failedAt === 0 ? attempt : undefined;
    });
    await Promise.all(first);
    const connected = this.slots.flatMap((slot) => (slot.client === null ? [] : [{ url: slot.url, client: slot.client }]));
    const taken = await takeSnapshot(connected, { timeoutMs });
    const byUrl = new Map(taken.servers.map((server) => [server.url, server] as const));
    const servers = this.slots.map((slot): ServerSnapshot => {
      const server = byUrl.get(slot.url);
      // A reconnecting client only knows it is not ready; the slot knows why it was lost.
      if (server === undefined || (!server.up && slot.client?.state !== 'ready')) return { url: slot.url, up: false, error: slot.error };
      return server;
    });
    return { at: taken.at, servers };
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.client?.destroy();
  }

  private connect(slot: Slot): Promise<void> {
    if (this.closed || slot.client !== null) return Promise.resolve();
    if (slot.failedAt !== 0 && Date.now() - slot.failedAt < this.options.retryAfterMs) return Promise.resolve();
    slot.connecting ??= this.attempt(slot).finally(() => {
      slot.connecting = null;
    });
    return slot.connecting;
  }

  private async attempt(slot: Slot): Promise<void> {
    let client: Client;
    try {
      client = await Client.connect({ ...parseUrl(slot.url), ...this.options.connect });
    } catch (error) {
      slot.error = firstLine(error);
      slot.failedAt = Date.now();
      return;
    }
    if (this.closed) {
      client.destroy();
      return;
    }
    client.on('reconnecting', ({ error }) => {
      slot.error = `reconnecting: ${firstLine(error)}`;
    });
    // Closed for good (a client without reconnect that lost its connection): a new one next time.
    client.on('close', () => {
      if (slot.client !== client) return;
      slot.client = null;
      slot.error = 'connection closed';
    });
    // Without a listener a lost connection would be an unhandled 'error' event; the state says it.
    client.on('error', () => undefined);
    slot.client = client;
    slot.error = '';
  }
}

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

/**
 * The servers `top` watches. Unlike the other commands, a server that cannot be reached does not
 * stop it: it is shown as down and asked again on every refresh, and a connected one reconnects by
 * itself after a loss, so that a restarted server reappears on screen.
 */
import type { ReconnectOptions } from '../options.js';
import { takeSnapshot, type ServerHandle, type ServerSnapshot, type Snapshot } from '../observe/snapshot.js';
import { connectServer, explain } from './context.js';

interface Slot {
  readonly url: string;
  handle: ServerHandle | null;
  /** Why it is down: the last connect or reconnect failure. */
  error: string;
  connecting: Promise<void> | null;
}

/** Quick to come back: an operator watching `top` wants to see a restarted server within seconds. */
const RECONNECT: ReconnectOptions = { minDelayMs: 200, maxDelayMs: 2_000, queueLimit: 100 };

export class WatchedServers {
  private readonly slots: Slot[];
  private readonly reconnect: boolean;
  private closed = false;

  /** `reconnect`: keep trying the servers that are down (the live screen), or ask once (`--once`). */
  constructor(urls: readonly string[], reconnect: boolean) {
    this.slots = urls.map((url) => ({ url, handle: null, error: 'not connected yet', connecting: null }));
    this.reconnect = reconnect;
  }

  /** Connects to every server; resolves when each has connected or failed. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.connect(slot)));
  }

  /** The servers that were down at the last look, with why. */
  down(): { url: string; error: string }[] {
    return this.slots.filter((slot) => slot.handle === null).map(({ url, error }) => ({ url, error }));
  }

  /** Every server in the order given: the connected ones asked at once, the others down with why. */
  async snapshot(timeoutMs: number): Promise<Snapshot> {
    for (const slot of this.slots) {
      if (slot.handle !== null && slot.handle.client.state === 'closed') {
        slot.handle.client.destroy();
        slot.handle = null;
      }
      // Not awaited: a server that takes its time to refuse must not hold up the others' numbers.
      if (slot.handle === null && this.reconnect) void this.connect(slot);
    }
    const connected = this.slots.flatMap((slot) => (slot.handle === null ? [] : [slot.handle]));
    const taken = await takeSnapshot(connected, { timeoutMs });
    const byUrl = new Map(taken.servers.map((server) => [server.url, server] as const));
    const servers = this.slots.map((slot): ServerSnapshot => {
      const server = byUrl.get(slot.url);
      if (server === undefined) return { url: slot.url, up: false, error: slot.error };
      // A reconnecting client only knows it is not ready; the slot knows why it was lost.
      if (!server.up && slot.handle?.client.state !== 'ready') return { url: slot.url, up: false, error: slot.error };
      return server;
    });
    return { at: taken.at, servers };
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.handle?.client.destroy();
  }

  private connect(slot: Slot): Promise<void> {
    slot.connecting ??= this.attempt(slot).finally(() => {
      slot.connecting = null;
    });
    return slot.connecting;
  }

  private async attempt(slot: Slot): Promise<void> {
    try {
      const handle = await connectServer(slot.url, this.reconnect ? { reconnect: RECONNECT } : {});
      if (this.closed) {
        handle.client.destroy();
        return;
      }
      handle.client.on('reconnecting', ({ error }) => {
        slot.error = `reconnecting: ${error.message}`;
      });
      // Without a listener a lost connection would be an unhandled 'error' event; the reconnect handles it.
      handle.client.on('error', () => undefined);
      slot.handle = handle;
    } catch (error) {
      slot.error = explain(error).message;
    }
  }
}

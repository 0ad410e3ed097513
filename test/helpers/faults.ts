/**
 * Clients behind a fault-injection proxy, and a log of a client's events with bounded waits on it,
 * for the reconnect and fault tests.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Client, ConnectionError, type ClientEvents, type ConnectOptions } from '../../src/index.js';
import { connectOnTube } from './assertions.js';
import { connectFor, within } from './harness.js';
import { proxyFor, type FaultProxy } from './proxy.js';
import { uniqueTube, type TestServer } from './server.js';

/** How long anything that should happen promptly may take before a test calls it a hang. */
export const BOUND = 5000;

type Name = keyof ClientEvents;
type Payload<E extends Name> = ClientEvents[E][0];

const NAMES = ['close', 'error', 'reconnecting', 'reconnect'] as const satisfies readonly Name[];

interface Entry {
  readonly name: Name;
  readonly payload: unknown;
  /** Date.now() when it was emitted. */
  readonly at: number;
}

/** Every event a client emits, in order. It listens to `error`, so the client emits that too. */
export class ClientLog {
  readonly entries: Entry[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(client: Client) {
    for (const name of NAMES) {
      (client.on as (event: Name, listener: (payload: unknown) => void) => Client)(name, (payload) => {
        this.entries.push({ name, payload, at: Date.now() });
        for (const wake of [...this.waiters]) wake();
      });
    }
  }

  of<E extends Name>(name: E): Payload<E>[] {
    return this.entries.filter((entry) => entry.name === name).map((entry) => entry.payload as Payload<E>);
  }

  /** The names of the events so far, in order. */
  get names(): Name[] {
    return this.entries.map((entry) => entry.name);
  }

  /** Resolves with the first `count` events `name` once that many have come; rejects after `ms`. */
  async until<E extends Name>(name: E, count = 1, ms = BOUND): Promise<Payload<E>[]> {
    const reached = new Promise<Payload<E>[]>((resolve) => {
      const check = (): void => {
        const seen = this.of(name);
        if (seen.length < count) return;
        this.waiters.delete(check);
        resolve(seen.slice(0, count));
      };
      this.waiters.add(check);
      check();
    });
    try {
      return await within(reached, ms, `${count} '${name}' event(s)`);
    } catch (error) {
      throw new Error(`${(error as Error).message}; events: ${this.describe()}`);
    }
  }

  /** The events so far, for assertion messages: `error (ConnectionError), reconnecting#1, ...` (the first and last few). */
  describe(): string {
    const text = this.entries.map(({ name, payload }) => {
      if (name === 'reconnecting') return `reconnecting#${(payload as Payload<'reconnecting'>).attempt}`;
      return payload instanceof Error ? `${name} (${payload.name})` : name;
    });
    if (text.length === 0) return 'none';
    if (text.length <= 12) return text.join(', ');
    return `${text.length} events: ${text.slice(0, 6).join(', ')}, ..., ${text.slice(-6).join(', ')}`;
  }
}

export interface Proxied {
  readonly proxy: FaultProxy;
  readonly client: Client;
  readonly log: ClientLog;
}

/**
 * A proxy in front of `server` and a client connected through it, both gone when the test ends.
 * With `tube`, the client uses and watches only that tube.
 */
export async function behindProxy(
  t: TestContext,
  server: TestServer,
  options: ConnectOptions = {},
  tube?: string,
): Promise<Proxied> {
  const proxy = await proxyFor(t, server);
  const target = { ...options, host: '127.0.0.1', port: proxy.port };
  const client = tube === undefined ? await Client.connect(target) : await connectOnTube(target, tube);
  t.after(() => client.destroy());
  return { proxy, client, log: new ClientLog(client) };
}

/** As behindProxy, on a fresh tube (used and watched alone), with a client straight to the server to observe it. */
export async function onTubeBehindProxy(
  t: TestContext,
  server: TestServer,
  options: ConnectOptions = {},
): Promise<Proxied & { tube: string; observer: Client }> {
  const tube = uniqueTube('proxied');
  const proxied = await behindProxy(t, server, options, tube);
  return { ...proxied, tube, observer: await connectFor(t, server.url) };
}

export function assertIncreasing(ids: readonly number[]): void {
  ids.forEach((id, i) => {
    if (i > 0) assert.ok(id > (ids[i - 1] as number), `id #${i} (${id}) does not follow ${ids[i - 1]}`);
  });
}

/** How a promise settled, for assertion messages: `42`, or `ConnectionError (maybe applied)`. */
export function outcome(settled: PromiseSettledResult<unknown>): string {
  if (settled.status === 'fulfilled') return String(settled.value);
  const error = settled.reason as Error;
  if (!(error instanceof ConnectionError)) return String(error);
  return `ConnectionError (${error.maybeApplied ? 'maybe applied' : 'not sent'})`;
}

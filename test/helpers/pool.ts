/**
 * Pools and connection counts for the pool and job tests: a pool that is closed when the test ends
 * (giving back whatever the test still holds, so a failed test cannot hang the close), and a bounded
 * wait for the server's count of open connections.
 */
import type { TestContext } from 'node:test';
import { Pool, type Client, type PoolOptions } from '../../src/index.js';
import { within } from './harness.js';

/** How long anything that should happen promptly may take before a test calls it a hang. */
export const BOUND = 5000;

/** A Pool that remembers which clients it has lent and not had back. */
class TrackedPool extends Pool {
  readonly outstanding = new Set<Client>();

  override async acquire(): Promise<Client> {
    const client = await super.acquire();
    this.outstanding.add(client);
    return client;
  }

  override async release(client: Client): Promise<void> {
    this.outstanding.delete(client);
    await super.release(client);
  }
}

/**
 * A pool closed when the test ends, whatever the outcome: clients the test still holds are
 * destroyed and given back first (close waits for every lent client), then the close is bounded.
 */
export function poolFor(t: TestContext, options: PoolOptions): Pool {
  const pool = new TrackedPool(options);
  t.after(async () => {
    for (const client of pool.outstanding) {
      client.destroy();
      await pool.release(client).catch(() => undefined);
    }
    await within(pool.close(), BOUND, 'closing the pool after the test');
  });
  return pool;
}

/**
 * Resolves once the server counts `expected` open connections (including `observer`'s own). Each
 * check is a round trip on `observer`: the server has no event for a connection opening or closing.
 */
export async function untilConnections(observer: Client, expected: number): Promise<void> {
  const deadline = Date.now() + BOUND;
  let seen: number;
  do {
    seen = (await observer.stats()).currentConnections;
    if (seen === expected) return;
  } while (Date.now() < deadline);
  throw new Error(`the server still counts ${seen} connections after ${BOUND} ms, expected ${expected}`);
}

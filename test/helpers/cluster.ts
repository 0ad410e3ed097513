/**
 * Clusters for the cluster tests: servers of the test's own, a Cluster closed when the test ends
 * (bounded: a server left stopped cannot hang it), a producer that keeps putting while a test breaks
 * a server, and a way to read back every job a server holds.
 */
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import {
  Client,
  Cluster,
  ConnectionError,
  NotFoundError,
  TimeoutError,
  type ClusterEvents,
  type ClusterOptions,
  type JobRef,
  type JobStats,
} from '../../src/index.js';
import { within } from './harness.js';
import { startServer, type TestServer } from './server.js';

export const BOUND = 10_000;

/** `count` servers of the test's own, killed when it ends. */
export async function ownServers(t: TestContext, count: number): Promise<TestServer[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => startServer()));
  t.after(() => Promise.all(servers.map((server) => server.kill())));
  return servers;
}

/** A cluster closed when the test ends; the close is bounded, then its clients are left to the server kills. */
export async function clusterFor(t: TestContext, target: readonly string[] | ClusterOptions): Promise<Cluster> {
  const cluster = await within(Cluster.connect(target), BOUND, 'Cluster.connect');
  t.after(() => within(cluster.close(), BOUND, 'closing the cluster').catch(() => undefined));
  return cluster;
}

/** The next `event` of the cluster, within BOUND. */
export async function nextEvent<E extends keyof ClusterEvents>(cluster: Cluster, event: E, what: string): Promise<ClusterEvents[E][0]> {
  const [info] = (await within(once(cluster, event), BOUND, what)) as ClusterEvents[E];
  return info;
}

/** How many refs name each server. */
export function countByServer(refs: readonly JobRef[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const ref of refs) counts.set(ref.server, (counts.get(ref.server) ?? 0) + 1);
  return counts;
}

/** What a put that was in flight when its server failed may reject with: never "not sent". */
export function isInFlightFailure(error: unknown): boolean {
  return (error instanceof ConnectionError && error.maybeApplied) || error instanceof TimeoutError;
}

export interface Producing {
  /** Puts that resolved, by server. */
  readonly stored: JobRef[];
  /** Puts that rejected. */
  readonly failed: unknown[];
  /** Resolves once `count` puts have resolved (within BOUND). */
  reached(count: number): Promise<void>;
  /** Stops after the wave in flight; resolves once it has ended. */
  stop(): Promise<void>;
}

/**
 * Puts waves of `wave` jobs into `tube`, each wave once the last has settled, until stopped. Bounded
 * by its caller's stop(): every wave waits on the servers, so it never spins.
 */
export function keepPutting(cluster: Cluster, tube: string, wave = 20): Producing {
  const stored: JobRef[] = [];
  const failed: unknown[] = [];
  const waiting = new Set<{ count: number; resolve: () => void }>();
  let stopping = false;
  const running = (async () => {
    while (!stopping) {
      const outcomes = await Promise.allSettled(Array.from({ length: wave }, () => cluster.put('tick', { tube })));
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') stored.push(outcome.value);
        else failed.push(outcome.reason);
      }
      for (const waiter of waiting) if (stored.length >= waiter.count) waiter.resolve();
    }
  })();
  return {
    stored,
    failed,
    reached(count) {
      const reached = new Promise<void>((resolve) => {
        const waiter = { count, resolve: () => (waiting.delete(waiter), resolve()) };
        waiting.add(waiter);
      });
      return within(reached, BOUND, `${count} puts stored`);
    },
    async stop() {
      stopping = true;
      await within(running, BOUND, 'the producer stopping');
    },
  };
}

export interface StoredJob {
  readonly id: number;
  readonly body: Buffer;
  readonly stats: JobStats;
}

/**
 * Every job on a server, found by walking its ids (the protocol cannot list jobs): a put tells the
 * highest id so far, then stats-job and peek go to every id below it, pipelined.
 */
export async function jobsOn(url: string): Promise<StoredJob[]> {
  const client = await Client.connect(url);
  try {
    const probe = await client.put('probe', { tube: 'probe' });
    await client.delete(probe);
    const found = await Promise.all(
      Array.from({ length: probe - 1 }, async (_, index) => {
        const id = index + 1;
        const [stats, job] = await Promise.all([client.statsJob(id).catch(missing), client.peek(id)]);
        return stats === null || job === null ? null : { id, body: job.body, stats };
      }),
    );
    return found.filter((job): job is StoredJob => job !== null);
  } finally {
    await client.close();
  }
}

function missing(error: unknown): null {
  if (error instanceof NotFoundError) return null;
  throw error;
}

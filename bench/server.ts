/**
 * A fresh beanstalkd for each measurement (spawned from PATH on a free port of 127.0.0.1 and killed
 * by PID, as the tests do), and what the parent does to it with the raw socket, untimed: fill the
 * tube before a reserve case, drain it after a put case, and check the server's counters.
 */
import { startServer, type TestServer } from '../test/helpers/server.js';
import { makeBody, Tally, type TallySummary } from './bodies.js';
import { drive } from './drive.js';
import { RawClient } from './raw-client.js';

export type BenchServer = TestServer;

/** Commands the parent keeps in flight while filling or draining. */
const WINDOW = 200;

export function freshServer(): Promise<BenchServer> {
  return startServer();
}

/** Puts jobs 0..jobs-1 into the default tube. */
export async function prefill(port: number, jobs: number): Promise<void> {
  const client = await RawClient.connect(port);
  await drive(jobs, WINDOW, (index) => client.put(makeBody(index)));
  await client.close();
}

/** Reserves and deletes every ready job, tallying the bodies. */
export async function drain(port: number, expected: number): Promise<TallySummary> {
  const client = await RawClient.connect(port);
  const tally = new Tally(expected);
  const lane = async (): Promise<void> => {
    for (let job = await client.reserveWithTimeout(0); job !== null; job = await client.reserveWithTimeout(0)) {
      tally.see(job.body);
      await client.delete(job.id);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  await client.close();
  return tally.summary();
}

/**
 * After a run of `jobs` jobs: each was put once and deleted once, and nothing is left in any state.
 * Returns what does not add up, or null.
 */
export async function checkCounters(port: number, jobs: number): Promise<string | null> {
  const client = await RawClient.connect(port);
  const stats = await client.stats();
  await client.close();
  const expected: Record<string, number> = {
    'total-jobs': jobs,
    'cmd-put': jobs,
    'cmd-delete': jobs,
    'current-jobs-ready': 0,
    'current-jobs-reserved': 0,
    'current-jobs-delayed': 0,
    'current-jobs-buried': 0,
  };
  const wrong = Object.entries(expected)
    .filter(([key, value]) => Number(stats.get(key)) !== value)
    .map(([key, value]) => `${key} ${stats.get(key) ?? '?'} (expected ${value})`);
  return wrong.length === 0 ? null : `server stats: ${wrong.join(', ')}`;
}

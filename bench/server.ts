/**
 * A fresh beanstalkd for each measurement (spawned from PATH on a free port of 127.0.0.1 and killed
 * by PID, as the tests do), and what the parent does to it with the raw socket, untimed: fill the
 * tube before a reserve case, drain it after a put or enqueue case, and check the server's counters.
 */
import { startServer, type TestServer } from '../test/helpers/server.js';
import { makeBody, Tally, type TallySummary } from './bodies.js';
import { DEFAULT_TUBE } from './cases.js';
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

/**
 * The parent's connection to the server for the checks, watching the case's tube only. It is opened
 * before the client runs and held until the checks are done: beanstalkd drops a named tube as soon
 * as nothing watches or uses it and it holds no job, and with it the tube's counters.
 */
export async function openChecker(port: number, tube: string): Promise<RawClient> {
  const client = await RawClient.connect(port);
  if (tube !== DEFAULT_TUBE) {
    await client.watch(tube);
    await client.ignore(DEFAULT_TUBE);
  }
  return client;
}

/** Reserves and deletes every ready job in the checker's tube, tallying the index each carries. */
export async function drain(checker: RawClient, expected: number, indexOf: (body: Buffer) => number): Promise<TallySummary> {
  const tally = new Tally(expected);
  const lane = async (): Promise<void> => {
    for (let job = await checker.reserveWithTimeout(0); job !== null; job = await checker.reserveWithTimeout(0)) {
      tally.seeIndex(indexOf(job.body));
      await checker.delete(job.id);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return tally.summary();
}

/**
 * After a run of `jobs` jobs: each was put once, into `tube`, and deleted once, and nothing is left
 * in any state. Returns what does not add up, or null.
 */
export async function checkCounters(checker: RawClient, jobs: number, tube: string): Promise<string | null> {
  const [stats, tubeStats] = await Promise.all([checker.stats(), checker.statsTube(tube)]);
  const expected: [source: string, stats: Map<string, string>, counts: Record<string, number>][] = [
    [
      'server stats',
      stats,
      {
        'total-jobs': jobs,
        'cmd-put': jobs,
        'cmd-delete': jobs,
        'current-jobs-ready': 0,
        'current-jobs-reserved': 0,
        'current-jobs-delayed': 0,
        'current-jobs-buried': 0,
      },
    ],
    [`stats-tube ${tube}`, tubeStats, { 'total-jobs': jobs, 'cmd-delete': jobs }],
  ];
  const wrong = expected.flatMap(([source, values, counts]) => {
    const off = Object.entries(counts)
      .filter(([key, value]) => Number(values.get(key)) !== value)
      .map(([key, value]) => `${key} ${values.get(key) ?? '?'} (expected ${value})`);
    return off.length === 0 ? [] : [`${source}: ${off.join(', ')}`];
  });
  return wrong.length === 0 ? null : wrong.join('; ');
}

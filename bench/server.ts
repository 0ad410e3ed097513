/**
 * A fresh server for each measurement, spawned on a free port of 127.0.0.1 and killed by PID, as the
 * tests do: beanstalkd from PATH, or beanline's embedded server as a process of its own (its bin,
 * as built into dist-bench/), so that its CPU time and memory are read the same way. And what the
 * parent does to it with the raw socket, untimed: fill the tube before a reserve case, drain it
 * after a put or enqueue case, and check the server's counters (summed, for the cluster case).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, startBeanstalkd } from '../test/helpers/server.js';
import { makeBody, type Tally } from './bodies.js';
import { DEFAULT_TUBE } from './cases.js';
import { drive } from './drive.js';
import { RawClient } from './raw-client.js';

export const SERVER_KINDS = ['beanstalkd', 'embedded'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export interface BenchServer {
  readonly port: number;
  readonly pid: number;
  kill(): Promise<void>;
}

/** Commands the parent keeps in flight while filling or draining. */
const WINDOW = 200;
/** beanstalkd's default -z, given to the embedded server too so both refuse the same bodies. */
const MAX_JOB_SIZE = 65535;
const EMBEDDED_BIN = fileURLToPath(new URL('../src/server/bin.js', import.meta.url));
const EMBEDDED_START_MS = 10_000;

const embeddedRunning = new Set<ChildProcess>();
// A failed or interrupted bench must not leave servers behind (the test helper does the same for beanstalkd).
process.on('exit', () => {
  for (const child of embeddedRunning) child.kill('SIGKILL');
});

export async function freshServer(kind: ServerKind): Promise<BenchServer> {
  if (kind === 'embedded') return embeddedServer();
  // Whatever $BEANLINE_TEST_SERVER says: this kind is the real one.
  const server = await startBeanstalkd();
  const pid = server.pid;
  if (pid === undefined) throw new Error('beanstalkd started without a pid');
  return { port: server.port, pid, kill: () => server.kill() };
}

/** `node dist-bench/src/server/bin.js`, ready once it says it listens. */
async function embeddedServer(): Promise<BenchServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const child = spawn(process.execPath, [EMBEDDED_BIN, '--port', String(port), '--max-job-size', String(MAX_JOB_SIZE)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    embeddedRunning.add(child);
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = once(child, 'exit');
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), EMBEDDED_START_MS);
      const check = (): void => {
        if (!output.includes('listening on')) return;
        clearTimeout(timer);
        resolve(true);
      };
      child.stdout.on('data', check);
      void exited.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready && child.pid !== undefined) {
      return {
        port,
        pid: child.pid,
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
            await exited;
          }
          embeddedRunning.delete(child);
        },
      };
    }
    child.kill('SIGKILL');
    embeddedRunning.delete(child);
    // Another process may have taken the free port between the probe and the spawn.
    if (attempt >= 5) throw new Error(`the embedded server did not start on port ${port}: ${output.trim()}`);
  }
}

/** A process's resident set size now, in KiB, or null where /proc cannot tell. */
export function rssKb(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'latin1')
      .split('\n')
      .find((entry) => entry.startsWith('VmRSS:'));
    return line === undefined ? null : Number(line.split(/\s+/)[1]);
  } catch {
    return null;
  }
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

/**
 * Reserves and deletes every ready job in the checker's tube, tallying the index each carries (one
 * tally for several servers checks each job once wherever it went); resolves with how many there were.
 */
export async function drain(checker: RawClient, tally: Tally, indexOf: (body: Buffer) => number): Promise<number> {
  let drained = 0;
  const lane = async (): Promise<void> => {
    for (let job = await checker.reserveWithTimeout(0); job !== null; job = await checker.reserveWithTimeout(0)) {
      drained += 1;
      tally.seeIndex(indexOf(job.body));
      await checker.delete(job.id);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return drained;
}

/**
 * After a run of `jobs` jobs: each was put once, into `tube`, and deleted once, and nothing is left
 * in any state. With several servers (one checker each) the counters are summed over them. Returns
 * what does not add up, or null.
 */
export async function checkCounters(checkers: readonly RawClient[], jobs: number, tube: string): Promise<string | null> {
  const read = await Promise.all(checkers.map((checker) => Promise.all([checker.stats(), checker.statsTube(tube)])));
  const summed = (pick: (pair: (typeof read)[number]) => Map<string, string>, key: string): number | null => {
    const values = read.map((pair) => pick(pair).get(key));
    return values.includes(undefined) ? null : values.reduce((sum, value) => sum + Number(value), 0);
  };
  const over = checkers.length === 1 ? '' : ` (summed over ${checkers.length} servers)`;
  const expected: [source: string, pick: (pair: (typeof read)[number]) => Map<string, string>, counts: Record<string, number>][] = [
    [
      `server stats${over}`,
      ([stats]) => stats,
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
    [`stats-tube ${tube}${over}`, ([, tubeStats]) => tubeStats, { 'total-jobs': jobs, 'cmd-delete': jobs }],
  ];
  const wrong = expected.flatMap(([source, pick, counts]) => {
    const off = Object.entries(counts)
      .map(([key, value]) => [key, value, summed(pick, key)] as const)
      .filter(([, value, seen]) => seen !== value)
      .map(([key, value, seen]) => `${key} ${seen ?? '?'} (expected ${value})`);
    return off.length === 0 ? [] : [`${source}: ${off.join(', ')}`];
  });
  return wrong.length === 0 ? null : wrong.join('; ');
}

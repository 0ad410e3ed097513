/**
 * Tools for tests of the in-process Worker against a real server: a log of every event a worker
 * emits with bounded waits on it, workers that are stopped when their test ends, gates that hold a
 * handler until the test lets it go, and bounded polling of tube stats where the server has no event.
 */
import { readFile } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import {
  defineJob,
  Worker,
  type Client,
  type JobContext,
  type JobDefinition,
  type JobDefinitionOptions,
  type JsonShaped,
  type TubeStats,
  type WorkerEvents,
  type WorkerOptions,
} from '../../src/index.js';
import { within } from './harness.js';

/** How long anything that should happen promptly may take before a test calls it a hang. */
export const BOUND = 5000;

export type EventName = keyof WorkerEvents;
export type Payload<E extends EventName> = WorkerEvents[E][0];

const EVENT_NAMES = [
  'job:start',
  'job:done',
  'job:retry',
  'job:buried',
  'job:released',
  'job:lost',
  'job:abandoned',
  'connection:restored',
  'error',
] as const satisfies readonly EventName[];
// Fails to compile when the worker gains an event this log does not record.
const everyEvent: Exclude<EventName, (typeof EVENT_NAMES)[number]> extends never ? true : never = true;
void everyEvent;

/**
 * Every event a worker emits, in order of arrival, and waits for more. It listens to `error`, so the
 * worker reports trouble here rather than as process warnings.
 */
export class EventLog {
  private readonly seen = new Map<EventName, unknown[]>(EVENT_NAMES.map((name) => [name, []]));
  private readonly waiters = new Set<() => void>();

  constructor(worker: Worker) {
    for (const name of EVENT_NAMES) {
      (worker.on as (event: string, listener: (payload: unknown) => void) => Worker)(name, (payload) => {
        this.seen.get(name)?.push(payload);
        for (const wake of [...this.waiters]) wake();
      });
    }
  }

  /** The events `name` so far. */
  of<E extends EventName>(name: E): readonly Payload<E>[] {
    return this.seen.get(name) as Payload<E>[];
  }

  count(name: EventName): number {
    return this.of(name).length;
  }

  /** Resolves with the first `count` events `name` once that many have come; rejects after `ms`. */
  until<E extends EventName>(name: E, count = 1, ms = BOUND): Promise<Payload<E>[]> {
    const reached = new Promise<Payload<E>[]>((resolve) => {
      const check = (): void => {
        if (this.count(name) < count) return;
        this.waiters.delete(check);
        resolve(this.of(name).slice(0, count));
      };
      this.waiters.add(check);
      check();
    });
    return within(reached, ms, `${count} '${name}' event(s) (seen ${this.count(name)})`);
  }

  /** Fails the test if a worker reported trouble it should not have. */
  assertNone(...names: EventName[]): void {
    for (const name of names) {
      const events = this.of(name);
      if (events.length > 0) {
        throw new Error(`unexpected '${name}' event(s): ${events.map((event) => describe(event)).join('; ')}`);
      }
    }
  }
}

function describe(event: unknown): string {
  if (event instanceof Error) return `${event.name}: ${event.message}`;
  const error = (event as { error?: unknown }).error;
  return error instanceof Error ? `${JSON.stringify(event)} (${error.name}: ${error.message})` : JSON.stringify(event);
}

export interface Running {
  readonly worker: Worker;
  readonly events: EventLog;
}

/** A worker with its event log, not yet started; stopped (with a short grace period) when `t` ends. */
export function workerFor(t: TestContext, options: WorkerOptions): Running {
  const worker = new Worker(options);
  const events = new EventLog(worker);
  t.after(() => worker.stop({ timeoutMs: 500 }));
  return { worker, events };
}

/** As workerFor, started. */
export async function runWorker(t: TestContext, options: WorkerOptions): Promise<Running> {
  const running = workerFor(t, options);
  await within(running.worker.start(), BOUND, 'worker.start()');
  return running;
}

/** A job type on `tube` whose retries come at once (backoff 0), running `run`. */
export function jobOn<Args extends JsonShaped<Args>>(
  tube: string,
  run: (args: Args, context: JobContext) => unknown,
  options: Partial<JobDefinitionOptions<Args>> = {},
): JobDefinition<Args> {
  return defineJob<Args>({ type: 'test-job', tube, backoff: () => 0, run, ...options });
}

/** A promise the test settles by hand: a handler awaits `promise` until the test calls `open()`. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

/** A closed gate; it is opened when `t` ends, so no handler is left waiting on it. */
export function gateFor(t: TestContext): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  t.after(() => open());
  return { promise, open };
}

/**
 * Resolves with the stats `read` returns once `check` accepts them. Each check is a round trip to the
 * server, which has no event for a connection it has noticed closing, or a reserve it has parked.
 */
export async function untilStats<S>(read: () => Promise<S>, check: (stats: S) => boolean, what: string, ms = BOUND): Promise<S> {
  const deadline = Date.now() + ms;
  let stats = await read();
  while (!check(stats)) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms; last stats ${JSON.stringify(stats)}`);
    stats = await read();
  }
  return stats;
}

/** As untilStats, on one tube's stats. */
export function untilTube(observer: Client, tube: string, check: (stats: TubeStats) => boolean, what: string): Promise<TubeStats> {
  return untilStats(() => observer.statsTube(tube), check, what);
}

/** A tube's jobs by state, for one readable deepEqual. */
export function jobCounts(stats: TubeStats): { ready: number; reserved: number; delayed: number; buried: number } {
  return {
    ready: stats.currentJobsReady,
    reserved: stats.currentJobsReserved,
    delayed: stats.currentJobsDelayed,
    buried: stats.currentJobsBuried,
  };
}

export const NO_JOBS = { ready: 0, reserved: 0, delayed: 0, buried: 0 } as const;

/**
 * Resolves once some socket of this machine has a TCP connection established to 127.0.0.1:`port`,
 * read from /proc/net/tcp (Linux): the one witness of a connect to a server that is not answering.
 */
export async function untilConnectedTo(port: number, ms = BOUND): Promise<void> {
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + ms;
  for (;;) {
    const table = await readFile('/proc/net/tcp', 'utf8');
    const established = table.split('\n').some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[2] === remote && fields[3] === '01';
    });
    if (established) return;
    if (Date.now() > deadline) throw new Error(`no connection to port ${port} within ${ms} ms`);
  }
}

/** The process's SIGTERM and SIGINT listeners, to see what a worker adds and removes. */
export function signalListeners(): Function[] {
  return [...process.listeners('SIGTERM'), ...process.listeners('SIGINT')];
}

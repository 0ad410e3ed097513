/**
 * Runs test/fixtures/worker-process.js as a child process and follows the JSON lines it writes, so a
 * test waits for what the worker reports rather than for time to pass. Every wait is bounded, and
 * every child is killed when its test ends, whatever the outcome.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixtureEnv, type FixtureConfig, type FixtureEvent, type FixtureLine } from '../fixtures/worker-process-protocol.js';
import { within } from './harness.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.js', import.meta.url));

/** How long anything a test waits for may take before it counts as a hang. */
export const BOUND_MS = 10_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Line<E extends FixtureEvent> = Extract<FixtureLine, { event: E }>;

interface Waiter {
  matches(line: FixtureLine): boolean;
  resolve(line: FixtureLine): void;
}

const running = new Set<ChildProcess>();

// An interrupted run must not leave workers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class WorkerProcess {
  /** Every line so far, in order. */
  readonly lines: FixtureLine[] = [];
  readonly pid: number;
  /** Resolves when the process has exited and its output has been read. */
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<Waiter>();
  private stderr = '';

  /** Starts the fixture and waits for its `ready` line; the process is killed when `t` ends. */
  static async start(t: TestContext, config: FixtureConfig): Promise<WorkerProcess> {
    const worker = new WorkerProcess(config);
    t.after(() => worker.kill('SIGKILL'));
    await worker.next('ready');
    return worker;
  }

  private constructor(config: FixtureConfig) {
    this.child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, ...fixtureEnv(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error(`cannot start ${FIXTURE}`);
    this.pid = this.child.pid;
    running.add(this.child);
    this.exited = once(this.child, 'close').then(([code, signal]) => {
      running.delete(this.child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => this.onLine(text));
  }

  /** The lines of one event, optionally for one job. */
  all<E extends FixtureEvent>(event: E, jid?: string): Line<E>[] {
    return this.lines.filter((line): line is Line<E> => isLine(line, event, jid));
  }

  /**
   * The first line of `event` (for job `jid`, if given), already written or to come. Fails after
   * BOUND_MS, or at once if the process exits without writing it.
   */
  async next<E extends FixtureEvent>(event: E, jid?: string): Promise<Line<E>> {
    const seen = this.all(event, jid)[0];
    if (seen !== undefined) return seen;
    const what = `worker ${this.pid}: a ${event} line${jid === undefined ? '' : ` for job ${jid}`}`;
    let waiter: Waiter | undefined;
    const written = new Promise<FixtureLine>((resolve) => {
      waiter = { matches: (line) => isLine(line, event, jid), resolve };
      this.waiters.add(waiter);
    });
    const exitedFirst = this.exited.then((exit) => {
      throw new Error(`${what}: the process exited first (${exit.code ?? exit.signal}); ${this.describe()}`);
    });
    try {
      return (await within(Promise.race([written, exitedFirst]), BOUND_MS, `${what}; ${this.describe()}`)) as Line<E>;
    } finally {
      this.waiters.delete(waiter!);
    }
  }

  /** How the process exits; fails if it is still running after BOUND_MS. */
  exit(): Promise<Exit> {
    return within(this.exited, BOUND_MS, `worker ${this.pid} exiting; ${this.describe()}`);
  }

  /** Sends `signal` unless the process has exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    this.signal(signal);
    return this.exit();
  }

  /** Its lines and stderr, for failure messages. */
  describe(): string {
    return `lines: ${JSON.stringify(this.lines)}; stderr: ${JSON.stringify(this.stderr.slice(-2000))}`;
  }

  private onLine(text: string): void {
    let line: FixtureLine;
    try {
      line = JSON.parse(text) as FixtureLine;
    } catch {
      this.stderr += `(stdout, not JSON) ${text}\n`;
      return;
    }
    this.lines.push(line);
    for (const waiter of this.waiters) {
      if (waiter.matches(line)) waiter.resolve(line);
    }
  }
}

function isLine<E extends FixtureEvent>(line: FixtureLine, event: E, jid: string | undefined): line is Line<E> {
  return line.event === event && (jid === undefined || ('jid' in line && line.jid === jid));
}

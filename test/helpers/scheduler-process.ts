/**
 * Runs test/fixtures/scheduler-process.js as a child process and follows the JSON lines it writes,
 * each stamped with the time this process read it, so a test waits for what a scheduler reports
 * and can time a takeover. Every wait is bounded, and every child is killed when its test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  schedulerFixtureEnv,
  type SchedulerFixtureConfig,
  type SchedulerFixtureLine,
} from '../fixtures/scheduler-process-protocol.js';
import { within } from './harness.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/scheduler-process.js', import.meta.url));

export const BOUND_MS = 10_000;

/** A line, and when this process read it (Date.now()). */
export interface Stamped {
  readonly line: SchedulerFixtureLine;
  readonly at: number;
}

const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class SchedulerProcess {
  readonly lines: Stamped[] = [];
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private stderr = '';

  /** Starts the fixture without waiting for it; it is killed when `t` ends. */
  static spawn(t: TestContext, config: SchedulerFixtureConfig): SchedulerProcess {
    const process = new SchedulerProcess(config);
    t.after(() => process.kill('SIGKILL'));
    return process;
  }

  private constructor(config: SchedulerFixtureConfig) {
    this.child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, ...schedulerFixtureEnv(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error(`cannot start ${FIXTURE}`);
    this.pid = this.child.pid;
    running.add(this.child);
    this.exited = once(this.child, 'close').then(([code, signal]) => {
      running.delete(this.child);
      for (const wake of [...this.waiters]) wake();
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      try {
        this.lines.push({ line: JSON.parse(text) as SchedulerFixtureLine, at: Date.now() });
      } catch {
        this.stderr += `(stdout, not JSON) ${text}\n`;
      }
      for (const wake of [...this.waiters]) wake();
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The stamped lines of one event. */
  all<E extends SchedulerFixtureLine['event']>(event: E): { line: Extract<SchedulerFixtureLine, { event: E }>; at: number }[] {
    return this.lines.filter((stamped) => stamped.line.event === event) as { line: Extract<SchedulerFixtureLine, { event: E }>; at: number }[];
  }

  /** Resolves once `done()` holds (checked on each line); fails after BOUND_MS or if the process exits first. */
  async until(done: () => boolean, what: string): Promise<void> {
    let wake: (() => void) | undefined;
    const reached = new Promise<void>((resolve, reject) => {
      wake = () => {
        if (done()) resolve();
        else if (!this.alive) reject(new Error(`scheduler ${this.pid}: exited before ${what}; ${this.describe()}`));
      };
      this.waiters.add(wake);
      wake();
    });
    try {
      await within(reached, BOUND_MS, `scheduler ${this.pid}: ${what}; ${this.describe()}`);
    } finally {
      this.waiters.delete(wake!);
    }
  }

  /** Sends `signal` and waits for the process to exit (bounded). */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await within(this.exited, BOUND_MS, `scheduler ${this.pid} exiting; ${this.describe()}`);
  }

  describe(): string {
    return `last lines: ${JSON.stringify(this.lines.slice(-5).map((stamped) => stamped.line))}; stderr: ${JSON.stringify(this.stderr.slice(-2000))}`;
  }
}

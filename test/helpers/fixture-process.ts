/**
 * A test fixture run as a child process, followed through the JSON lines it writes on stdout, each
 * stamped with the time this process read it: a test waits for what the fixture reports rather than
 * for time to pass. Every wait is bounded, and every child is killed when its test ends (or, at the
 * latest, when this process exits).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { within } from './harness.js';

/** How long anything a test waits for may take before it counts as a hang. */
export const BOUND_MS = 10_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A line, and when this process read it (Date.now()). */
export interface Stamped<L> {
  readonly line: L;
  readonly at: number;
}

const running = new Set<ChildProcess>();

// An interrupted run must not leave fixtures behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class FixtureProcess<L> {
  readonly stamped: Stamped<L>[] = [];
  readonly pid: number;
  /** Resolves when the process has exited and its output has been read. */
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly wakes = new Set<() => void>();
  private stderr = '';

  /** `label` names the process in failure messages ("worker", "scheduler"). */
  protected constructor(fixture: string, env: Record<string, string>, private readonly label: string) {
    this.child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`cannot start ${fixture}`);
    this.pid = this.child.pid;
    running.add(this.child);
    this.exited = once(this.child, 'close').then(([code, signal]) => {
      running.delete(this.child);
      this.wakeAll();
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      try {
        this.stamped.push({ line: JSON.parse(text) as L, at: Date.now() });
      } catch {
        this.stderr += `(stdout, not JSON) ${text}\n`;
      }
      this.wakeAll();
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `done()` holds (checked on each line); fails after BOUND_MS or if the process exits first. */
  async until(done: () => boolean, what: string): Promise<void> {
    let wake: (() => void) | undefined;
    const reached = new Promise<void>((resolve, reject) => {
      wake = () => {
        if (done()) resolve();
        else if (!this.alive) reject(new Error(`${this.label} ${this.pid}: exited before ${what}; ${this.describe()}`));
      };
      this.wakes.add(wake);
      wake();
    });
    try {
      await within(reached, BOUND_MS, `${this.label} ${this.pid}: ${what}; ${this.describe()}`);
    } finally {
      this.wakes.delete(wake!);
    }
  }

  /** How the process exits; fails if it is still running after BOUND_MS. */
  exit(): Promise<Exit> {
    return within(this.exited, BOUND_MS, `${this.label} ${this.pid} exiting; ${this.describe()}`);
  }

  /** Sends `signal` unless the process has exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the process to exit (bounded). */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    this.signal(signal);
    return this.exit();
  }

  /** Its last lines and stderr, for failure messages. */
  describe(): string {
    return `last lines: ${JSON.stringify(this.stamped.slice(-20).map((stamped) => stamped.line))}; stderr: ${JSON.stringify(this.stderr.slice(-2000))}`;
  }

  private wakeAll(): void {
    for (const wake of [...this.wakes]) wake();
  }
}

/**
 * Runs test/fixtures/worker-process.js as a child process (see fixture-process.ts) and follows the
 * lines it writes: the worker's events, job by job.
 */
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixtureEnv, type FixtureConfig, type FixtureEvent, type FixtureLine } from '../fixtures/worker-process-protocol.js';
import { FixtureProcess } from './fixture-process.js';

export { BOUND_MS, type Exit } from './fixture-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.js', import.meta.url));

type Line<E extends FixtureEvent> = Extract<FixtureLine, { event: E }>;

export class WorkerProcess extends FixtureProcess<FixtureLine> {
  /** Starts the fixture and waits for its `ready` line; the process is killed when `t` ends. */
  static async start(t: TestContext, config: FixtureConfig): Promise<WorkerProcess> {
    const worker = new WorkerProcess(config);
    t.after(() => worker.kill('SIGKILL'));
    await worker.next('ready');
    return worker;
  }

  private constructor(config: FixtureConfig) {
    super(FIXTURE, fixtureEnv(config), 'worker');
  }

  /** Every line so far, in order. */
  get lines(): FixtureLine[] {
    return this.stamped.map((stamped) => stamped.line);
  }

  /** The lines of one event, optionally for one job. */
  all<E extends FixtureEvent>(event: E, jid?: string): Line<E>[] {
    return this.lines.filter((line): line is Line<E> => line.event === event && (jid === undefined || ('jid' in line && line.jid === jid)));
  }

  /**
   * The first line of `event` (for job `jid`, if given), already written or to come. Fails after
   * BOUND_MS, or at once if the process exits without writing it.
   */
  async next<E extends FixtureEvent>(event: E, jid?: string): Promise<Line<E>> {
    await this.until(() => this.all(event, jid).length > 0, `a ${event} line${jid === undefined ? '' : ` for job ${jid}`}`);
    return this.all(event, jid)[0] as Line<E>;
  }
}

/**
 * Runs test/fixtures/scheduler-process.js as a child process (see fixture-process.ts) and follows
 * the lines it writes, each stamped with the time it was read, so a test can time a takeover.
 */
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  schedulerFixtureEnv,
  type SchedulerFixtureConfig,
  type SchedulerFixtureLine,
} from '../fixtures/scheduler-process-protocol.js';
import { FixtureProcess, type Stamped } from './fixture-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/scheduler-process.js', import.meta.url));

export class SchedulerProcess extends FixtureProcess<SchedulerFixtureLine> {
  /** Starts the fixture without waiting for it; it is killed when `t` ends. */
  static spawn(t: TestContext, config: SchedulerFixtureConfig): SchedulerProcess {
    const process = new SchedulerProcess(config);
    t.after(() => process.kill('SIGKILL'));
    return process;
  }

  private constructor(config: SchedulerFixtureConfig) {
    super(FIXTURE, schedulerFixtureEnv(config), 'scheduler');
  }

  /** The stamped lines of one event. */
  all<E extends SchedulerFixtureLine['event']>(event: E): Stamped<Extract<SchedulerFixtureLine, { event: E }>>[] {
    return this.stamped.filter((stamped) => stamped.line.event === event) as Stamped<Extract<SchedulerFixtureLine, { event: E }>>[];
  }
}

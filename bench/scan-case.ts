/**
 * Case (i) in the child: find the buried jobs of one tube among the jobs the parent filled in by
 * scan-layout.ts. beanline runs scanJobs (stats-job pipelined, then peek of the matches); the loop
 * clients do what other tools do: one id at a time from the highest down, `stats-job` and, for a
 * match, `peek`, each reply awaited before the next command, over the first LOOP_IDS ids. Each
 * match's body is checked against its id, and the number of matches against the layout's, so a
 * wrong scan fails the row. beanline comes in as a parameter, never imported here at load time.
 */
import type { AdapterModule } from './adapters/index.js';
import { bodyIndex } from './bodies.js';
import type { Plan } from './cases.js';
import type { Library } from './library.js';
import { isMatch, matchesBetween } from './scan-layout.js';
import type { Timing } from './task.js';

type ScanPlan = Extract<Plan, { kind: 'scan' }>;
type Timer = (work: () => Promise<unknown>) => Promise<Timing>;

export interface ScanCaseResult {
  timing: Timing;
  /** Ids asked about in the timed part: the rate is per id. */
  ids: number;
  problems: string[];
}

/** The matches a scan reported, each checked against the layout. */
class Matches {
  private count = 0;
  private readonly wrong: string[] = [];

  constructor(private readonly plan: ScanPlan) {}

  see(id: number, body: Uint8Array): void {
    this.count += 1;
    const index = bodyIndex(body);
    if (index !== id - 1) this.wrong.push(`job ${id}: its body is not the one put with that id`);
    else if (!isMatch(index, this.plan.jobs, this.plan.tube)) this.wrong.push(`job ${id} is not a buried job of ${this.plan.tube}`);
  }

  /** What went wrong, given how many matches the ids scanned hold. */
  problems(expected: number): string[] {
    const count = this.count === expected ? [] : [`found ${this.count} buried jobs of ${this.plan.tube}, expected ${expected}`];
    return [...count, ...this.wrong.slice(0, 2)];
  }
}

export async function scanPipelined(library: Library, port: number, plan: ScanPlan, timed: Timer): Promise<ScanCaseResult> {
  // Loaded here, not at the top: a child measuring another client must not load this checkout's src/.
  const { scanJobs } = await import('../src/observe/scan.js');
  const client = await library.Client.connect({ host: '127.0.0.1', port });
  const matches = new Matches(plan);
  let ids = 0;
  const filter = { tube: plan.tube, state: 'buried' } as const;
  const timing = await timed(async () => {
    const onProgress = ({ scanned }: { scanned: number }): void => {
      ids = scanned;
    };
    for await (const job of scanJobs(client, { filter, onProgress })) matches.see(job.id, job.body);
  });
  await client.close();
  return { timing, ids, problems: matches.problems(matchesBetween(0, plan.jobs, plan.jobs, plan.tube)) };
}

export async function scanLoop(adapter: AdapterModule, port: number, plan: ScanPlan, timed: Timer): Promise<ScanCaseResult> {
  const connection = await adapter.connect(port);
  if (connection.jobState === undefined || connection.peekBody === undefined) throw new Error('this client cannot run the scan loop');
  const jobState = connection.jobState.bind(connection);
  const peekBody = connection.peekBody.bind(connection);
  // The fill's ids are 1..jobs, so the highest is given; finding it would cost the loop one round trip.
  const top = plan.jobs;
  const last = Math.max(1, top - (plan.loop ?? top) + 1);
  const matches = new Matches(plan);
  const timing = await timed(async () => {
    for (let id = top; id >= last; id -= 1) {
      const look = await jobState(id);
      if (look === null || look.tube !== plan.tube || look.state !== 'buried') continue;
      const body = await peekBody(id);
      if (body !== null) matches.see(id, body);
    }
  });
  await connection.close();
  return { timing, ids: top - last + 1, problems: matches.problems(matchesBetween(last - 1, top, plan.jobs, plan.tube)) };
}

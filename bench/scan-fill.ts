/**
 * The parent's side of the scan case (i) and the bulk-delete case (j), untimed: it fills a fresh
 * server by the layout of scan-layout.ts, and reads the server's counters before and after the
 * client ran. The fill goes through beanline's Client, because burying needs a reservation:
 * `reserve-job` then `bury` for each job, pipelined. The counters are read with the raw socket, so
 * the client under test never checks itself.
 */
import { Client } from '../src/index.js';
import { makeBody } from './bodies.js';
import type { Plan } from './cases.js';
import { drive } from './drive.js';
import type { RawClient } from './raw-client.js';
import { isBuried, isDeleted, scanTubeOf } from './scan-layout.js';

export type ScanPlan = Extract<Plan, { kind: 'scan' | 'bulk-delete' }>;

/** Commands the fill keeps in flight. */
const WINDOW = 200;

/** Where each index goes under the plan: (j) buries all of its jobs in its one tube and deletes none. */
function layoutOf(plan: ScanPlan): { tube(index: number): string; buried(index: number): boolean; deleted(index: number): boolean } {
  if (plan.kind === 'bulk-delete') return { tube: () => plan.tube, buried: () => true, deleted: () => false };
  return { tube: scanTubeOf, buried: isBuried, deleted: (index) => isDeleted(index, plan.jobs) };
}

const indexesWhere = (jobs: number, keep: (index: number) => boolean): number[] =>
  Array.from({ length: jobs }, (_, index) => index).filter(keep);

/** Puts the plan's jobs, buries and deletes the ones the layout says; ids must come out as index + 1. */
export async function fillForScan(port: number, plan: ScanPlan): Promise<void> {
  const layout = layoutOf(plan);
  const client = await Client.connect({ host: '127.0.0.1', port });
  try {
    await drive(plan.jobs, WINDOW, async (index) => {
      const id = await client.put(makeBody(index), { tube: layout.tube(index) });
      // The child finds jobs by id and checks them by index: the two must agree.
      if (id !== index + 1) throw new Error(`fill: job ${index} got id ${id}, expected ${index + 1} (not a fresh server?)`);
    });
    const buried = indexesWhere(plan.jobs, layout.buried);
    await drive(buried.length, WINDOW, async (ticket) => {
      const id = (buried[ticket] as number) + 1;
      await client.reserveJob(id);
      await client.bury(id);
    });
    const deleted = indexesWhere(plan.jobs, layout.deleted);
    await drive(deleted.length, WINDOW, (ticket) => client.delete((deleted[ticket] as number) + 1));
  } finally {
    await client.close();
  }
}

/**
 * What the server's counters should say: (i) leaves the fill as it was (the scan only reads, and its
 * probe job is deleted at once), (j) empties its tube with one delete per job. Before the run both
 * should show the fill. Returns what does not add up, or null.
 */
export async function scanServerProblem(checker: RawClient, plan: ScanPlan, moment: 'before' | 'after'): Promise<string | null> {
  const layout = layoutOf(plan);
  const alive = indexesWhere(plan.jobs, (index) => !layout.deleted(index));
  const buried = alive.filter(layout.buried).length;
  const emptied = plan.kind === 'bulk-delete' && moment === 'after';
  const expected: [source: string, read: () => Promise<Map<string, string>>, counts: Record<string, number>][] = [
    [
      'server stats',
      () => checker.stats(),
      {
        'current-jobs-ready': emptied ? 0 : alive.length - buried,
        'current-jobs-buried': emptied ? 0 : buried,
        'current-jobs-reserved': 0,
        'current-jobs-delayed': 0,
      },
    ],
  ];
  if (plan.kind === 'bulk-delete') {
    expected.push([`stats-tube ${plan.tube}`, () => checker.statsTube(plan.tube), { 'current-jobs-buried': emptied ? 0 : plan.jobs, 'cmd-delete': emptied ? plan.jobs : 0 }]);
  }
  const wrong: string[] = [];
  for (const [source, read, counts] of expected) {
    const stats = await read();
    const off = Object.entries(counts)
      .filter(([key, value]) => Number(stats.get(key)) !== value)
      .map(([key, value]) => `${key} ${stats.get(key) ?? '?'} (expected ${value})`);
    if (off.length > 0) wrong.push(`${source} ${moment} the run: ${off.join(', ')}`);
  }
  return wrong.length === 0 ? null : wrong.join('; ');
}

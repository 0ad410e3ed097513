/**
 * The parent's side of the overview case (k) of issue 16, untimed: it fills a fresh server by the
 * layout of overview-case.ts, reads the server's counters before and after the client ran, and
 * writes the case's note under the table (times per refresh, which the table's rate hides). The fill
 * goes through beanline's Client, because burying needs a reservation: `reserve-job` then `bury`.
 */
import { Client } from '../src/index.js';
import { makeBody } from './bodies.js';
import type { Plan } from './cases.js';
import { drive } from './drive.js';
import { BIG_TUBE, DELAY_SECONDS, smallTube, SMALL_TUBE_JOBS, tubeCount } from './overview-case.js';
import type { RawClient } from './raw-client.js';
import { formatNumber, median, type Summary } from './stats.js';

type OverviewPlan = Extract<Plan, { kind: 'overview' }>;

/** Commands the fill keeps in flight. */
const WINDOW = 200;

/**
 * The big tube's jobs first, then each small tube's: the listing of the big tube then walks over the
 * small tubes' newer ids before it finds its page, as a tube page does on a busy server.
 */
export async function fillForOverview(port: number, plan: OverviewPlan): Promise<void> {
  const client = await Client.connect({ host: '127.0.0.1', port });
  try {
    await drive(plan.bigTube, WINDOW, (index) => client.put(makeBody(index), { tube: BIG_TUBE }));
    const perTube = SMALL_TUBE_JOBS.length;
    await drive(plan.jobs * perTube, WINDOW, async (ticket) => {
      const state = SMALL_TUBE_JOBS[ticket % perTube];
      const id = await client.put(makeBody(ticket), { tube: smallTube(Math.floor(ticket / perTube)), delay: state === 'delayed' ? DELAY_SECONDS : 0 });
      if (state === 'buried') {
        await client.reserveJob(id);
        await client.bury(id);
      }
    });
  } finally {
    await client.close();
  }
}

/** What the server's counts should be, before the run and after it (the dashboard only reads). Null when they are. */
export async function overviewServerProblem(checker: RawClient, plan: OverviewPlan, moment: 'before' | 'after'): Promise<string | null> {
  const of = (state: string): number => plan.jobs * SMALL_TUBE_JOBS.filter((s) => s === state).length;
  const expected: Record<string, number> = {
    'current-jobs-ready': of('ready') + plan.bigTube,
    'current-jobs-delayed': of('delayed'),
    'current-jobs-buried': of('buried'),
    'current-jobs-reserved': 0,
    'current-tubes': tubeCount(plan),
  };
  const stats = await checker.stats();
  const off = Object.entries(expected)
    .filter(([key, value]) => Number(stats.get(key)) !== value)
    .map(([key, value]) => `${key} ${stats.get(key) ?? '?'} (expected ${value})`);
  return off.length === 0 ? null : `server stats ${moment} the run: ${off.join(', ')}`;
}

/** The note under the table: ms per refresh and per listing, over the runs, when the row passed. */
export function overviewNotes(summaries: Summary[]): string[] {
  return summaries
    .filter(({ row, failure, refreshes }) => row.caseDef.id === 'k' && failure === null && refreshes.length > 0)
    .map(({ row, cpuUsPerJob, refreshes: runs }) => {
      const ms = (value: number): string => formatNumber(value, 1);
      const medians = runs.map((run) => run.medianMs);
      const plan = row.caseDef.plan(row.adapter, row.jobs);
      const bigTube = plan.kind === 'overview' ? formatNumber(plan.bigTube) : '?';
      return (
        `(k) \`GET /api/overview\` of ${formatNumber(row.jobs)} tubes (${formatNumber(row.jobs + 2)} with \`default\` and ${BIG_TUBE}), ` +
        `after one untimed request that opens the dashboard's connection: ` +
        `${ms(median(medians))} ms per refresh (median of the runs' medians; ${ms(Math.min(...medians))}–${ms(Math.max(...medians))}), ` +
        `slowest single refresh ${ms(Math.max(...runs.map((run) => run.maxMs)))} ms; ${formatNumber(cpuUsPerJob / 1000, 1)} ms of the child's CPU ` +
        `(dashboard and HTTP client) per refresh; the server counted ${formatNumber(median(runs.map((run) => run.statsTubePerRefresh)))} ` +
        `stats-tube and 1 list-tubes per refresh. The tube page's listing, \`GET /api/jobs\` of ${BIG_TUBE} (${bigTube} jobs), page 0: ` +
        `${ms(median(runs.map((run) => run.listingMedianMs)))} ms (median), slowest ${ms(Math.max(...runs.map((run) => run.listingMaxMs)))} ms, ` +
        `${formatNumber(median(runs.map((run) => run.statsJobPerListing)))} stats-job per listing (for a page of 50).`
      );
    });
}

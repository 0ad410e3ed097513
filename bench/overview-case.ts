/**
 * Case (k) in the child: the dashboard's own handler (`createDashboard`) behind node:http on
 * 127.0.0.1, asked `GET /api/overview` again and again, one request after the other. No page is
 * listening, so each request takes a fresh snapshot (stats, list-tubes, a stats-tube per tube) and
 * feeds it to the Rates: the work the live stream does once a second. Each reply must list every
 * tube of the layout with its counts, and the server's own counters must show one list-tubes and
 * one stats-tube per tube per refresh, else the row fails. Then the tube page's job listing of the
 * big tube, timed apart. beanline comes in by a dynamic import, never at load time: this file is
 * also the layout the parent fills by (overview-fill.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plan } from './cases.js';
import { RawClient } from './raw-client.js';
import { median } from './stats.js';
import type { RefreshTimes, Timing } from './task.js';

type OverviewPlan = Extract<Plan, { kind: 'overview' }>;
type Timer = (work: () => Promise<unknown>) => Promise<Timing>;

/** Each small tube's jobs, in the order they are put: two ready, one delayed, one buried. */
export const SMALL_TUBE_JOBS = ['ready', 'ready', 'delayed', 'buried'] as const;
/** Far beyond the run: the delayed jobs stay delayed. */
export const DELAY_SECONDS = 3_600;
/** The tube of `bigTube` ready jobs whose page is listed. */
export const BIG_TUBE = 'bench-ov-big';
/** Timed listing requests, after an untimed first one. */
const LISTINGS = 10;
/** `GET /api/jobs` pages hold this many (src/dashboard/api/jobs.ts). */
const PAGE_SIZE = 50;

export const smallTube = (index: number): string => `bench-ov-${String(index).padStart(5, '0')}`;

/** The tubes beanstalkd should list: the small ones, the big one, and `default`, which always exists. */
export const tubeCount = (plan: OverviewPlan): number => plan.jobs + 2;

export interface OverviewCaseResult {
  timing: Timing;
  refresh: RefreshTimes;
  problems: string[];
}

/** The fields of the overview's JSON the checks read (src/observe/rates.ts, RatesView). */
interface OverviewReply {
  servers: { up: boolean; error?: string }[];
  tubes: { name: string; ready: number; delayed: number; buried: number; reserved: number }[];
}

interface Reply {
  status: number;
  body: string;
  ms: number;
}

function get(agent: http.Agent, port: number, path: string): Promise<Reply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - start }));
      res.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** What is wrong with one refresh's reply, or null: every tube listed, with the layout's counts. */
function overviewProblem(reply: Reply, plan: OverviewPlan): string | null {
  if (reply.status !== 200) return `GET /api/overview answered ${reply.status}: ${reply.body.slice(0, 200)}`;
  const view = JSON.parse(reply.body) as OverviewReply;
  const down = view.servers.find((server) => !server.up);
  if (down !== undefined) return `the overview showed the server down: ${down.error ?? '?'}`;
  if (view.tubes.length !== tubeCount(plan)) return `the overview listed ${view.tubes.length} tubes, expected ${tubeCount(plan)}`;
  const byName = new Map(view.tubes.map((tube) => [tube.name, tube]));
  const count = (state: string): number => SMALL_TUBE_JOBS.filter((s) => s === state).length;
  for (let index = 0; index < plan.jobs; index += 1) {
    const tube = byName.get(smallTube(index));
    if (tube === undefined) return `the overview missed tube ${smallTube(index)}`;
    if (tube.ready !== count('ready') || tube.delayed !== count('delayed') || tube.buried !== count('buried') || tube.reserved !== 0) {
      return `tube ${tube.name}: ${tube.ready} ready, ${tube.delayed} delayed, ${tube.buried} buried, ${tube.reserved} reserved; not as filled`;
    }
  }
  const big = byName.get(BIG_TUBE);
  if (big?.ready !== plan.bigTube) return `tube ${BIG_TUBE}: ${big?.ready ?? 'no'} ready jobs, expected ${plan.bigTube}`;
  return null;
}

function listingProblem(reply: Reply): string | null {
  if (reply.status !== 200) return `GET /api/jobs answered ${reply.status}: ${reply.body.slice(0, 200)}`;
  const page = JSON.parse(reply.body) as { jobs: { tube: string }[]; more: boolean };
  const wrong = page.jobs.find((job) => job.tube !== BIG_TUBE);
  if (page.jobs.length !== PAGE_SIZE || !page.more || wrong !== undefined) {
    const stray = wrong === undefined ? '' : `, one of ${wrong.tube}`;
    return `GET /api/jobs gave ${page.jobs.length} jobs (more: ${String(page.more)})${stray}; expected a full page of ${BIG_TUBE}`;
  }
  return null;
}

/** The server's counter `key` went up by this much from `before` to `after`. */
const delta = (before: Map<string, string>, after: Map<string, string>, key: string): number => Number(after.get(key)) - Number(before.get(key));

export async function runOverviewCase(port: number, plan: OverviewPlan, timed: Timer): Promise<OverviewCaseResult> {
  // Loaded here, not at the top: see the file's comment.
  const { createDashboard } = await import('../src/dashboard/index.js');
  const dashboard = createDashboard({ servers: [`beanstalk://127.0.0.1:${port}`] });
  const server = http.createServer(dashboard);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const httpPort = (server.address() as AddressInfo).port;
  // One kept-alive connection, as a page has: no TCP set-up in the figure.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // The server's counters, read over a connection of the harness's own, not the dashboard's.
  const counters = await RawClient.connect(port);
  const problems: string[] = [];
  try {
    // The page's first load, untimed: it opens the dashboard's connection to the server.
    const first = await get(agent, httpPort, '/api/overview');
    const firstProblem = overviewProblem(first, plan);
    if (firstProblem !== null) problems.push(`first refresh: ${firstProblem}`);
    const replies: Reply[] = [];
    const before = await counters.stats();
    const timing = await timed(async () => {
      for (let refresh = 0; refresh < plan.refreshes; refresh += 1) replies.push(await get(agent, httpPort, '/api/overview'));
    });
    const after = await counters.stats();
    // Parsed after the clock stopped: the checks are the harness's work, not the page's.
    const wrong = replies.map((reply) => overviewProblem(reply, plan)).filter((problem) => problem !== null);
    if (wrong.length > 0) problems.push(`${wrong.length} of ${plan.refreshes} refreshes: ${wrong[0]}`);
    const listTubes = delta(before, after, 'cmd-list-tubes');
    const statsTube = delta(before, after, 'cmd-stats-tube');
    if (listTubes !== plan.refreshes) problems.push(`the server got ${listTubes} list-tubes for ${plan.refreshes} refreshes`);
    if (statsTube !== plan.refreshes * tubeCount(plan)) {
      problems.push(`the server got ${statsTube} stats-tube for ${plan.refreshes} refreshes of ${tubeCount(plan)} tubes`);
    }

    const listing = `/api/jobs?tube=${BIG_TUBE}&page=0`;
    const listings = [await get(agent, httpPort, listing)];
    const beforeListings = await counters.stats();
    for (let request = 0; request < LISTINGS; request += 1) listings.push(await get(agent, httpPort, listing));
    const afterListings = await counters.stats();
    const badListing = listings.map(listingProblem).find((problem) => problem !== null);
    if (badListing !== undefined) problems.push(badListing);
    const timedListings = listings.slice(1).map((reply) => reply.ms);
    const ms = replies.map((reply) => reply.ms);
    return {
      timing,
      refresh: {
        medianMs: median(ms),
        maxMs: Math.max(...ms),
        statsTubePerRefresh: statsTube / plan.refreshes,
        listingMedianMs: median(timedListings),
        listingMaxMs: Math.max(...timedListings),
        statsJobPerListing: delta(beforeListings, afterListings, 'cmd-stats-job') / LISTINGS,
      },
      problems,
    };
  } finally {
    await counters.close();
    agent.destroy();
    dashboard.close();
    server.close();
  }
}

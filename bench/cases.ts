/**
 * The cases, and what each client does in each: a plan the child process carries out.
 */
import type { AdapterInfo } from './adapters/index.js';
import { BULK_TUBE, LOOP_IDS, SCAN_TUBES } from './scan-layout.js';

export type CaseId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k';

export interface CaseDef {
  id: CaseId;
  title: string;
  /** Default job count (override with --jobs id=count). */
  jobs: number;
  /** Whether the other npm clients take part (else only beanline, baseline and raw). */
  peers: boolean;
  /** When set, only these clients take part (a case of an API no other client has). */
  clients?: readonly string[];
  /**
   * Runs without the warm-up: what it measures is a one-off operation (a scan, a CLI run), done
   * cold by the operator too.
   */
  cold?: boolean;
  plan(adapter: AdapterInfo, jobs: number): Work;
}

/** What a case has a client do. */
export type Work =
  /** `jobs` puts from one connection into `tube` (after one `use` unless it is `default`), `window` outstanding at a time. */
  | { kind: 'put'; jobs: number; window: number; tube: string }
  /** `jobs` defineJob jobs enqueued through one beanline Client into `tube`, `window` outstanding at a time. */
  | { kind: 'enqueue'; jobs: number; window: number; tube: string }
  /** `jobs` reserve + delete over `connections` connections, one job at a time each. */
  | { kind: 'reserve'; jobs: number; connections: number }
  /** beanline's Worker runs `jobs` defineJob jobs at `concurrency`. */
  | { kind: 'worker'; jobs: number; concurrency: number }
  /** `jobs` puts through one beanline Cluster of `servers` servers into `tube`, `window` outstanding at a time. */
  | { kind: 'cluster-put'; jobs: number; window: number; tube: string; servers: number }
  /**
   * `jobs` jobs filled in by the parent (scan-fill.ts), then the buried ones of `tube` looked for:
   * with scanJobs when `loop` is null, else one id at a time from the highest down, over the first
   * `loop` ids at most.
   */
  | { kind: 'scan'; jobs: number; tube: string; loop: number | null }
  /** `jobs` buried jobs in `tube` filled in by the parent, then deleted by the CLI (`jobs --delete`). */
  | { kind: 'bulk-delete'; jobs: number; tube: string }
  /**
   * The dashboard's overview: `jobs` is the number of tubes the parent fills (overview-fill.ts), a
   * few jobs each, plus one tube of `bigTube` jobs; the child then times `refreshes` requests of
   * `GET /api/overview`, and the job listing of the big tube (overview-case.ts).
   */
  | { kind: 'overview'; jobs: number; refreshes: number; bigTube: number };

/**
 * The work, after `warmup` jobs of the same kind that run first, untimed but checked like the
 * rest: the timed jobs then measure a client past JIT compilation and first use, as a long-running
 * process sees it.
 */
export type Plan = Work & { warmup: number };

/** The tube every case but (g) puts into and reserves from, and the one the clients start in. */
export const DEFAULT_TUBE = 'default';
/** (g)'s tube: not the client's tube in use, so a Client that serves it with `use` pays for it. */
export const NAMED_TUBE = 'bench-named';

/** The tube a plan's jobs go into. */
export const tubeOf = (work: Work): string => ('tube' in work ? work.tube : DEFAULT_TUBE);

/** The cases whose server the parent fills with jobs of its own layout, and checks its own way. */
export const isScanWork = (work: Work): work is Extract<Work, { kind: 'scan' | 'bulk-delete' }> =>
  work.kind === 'scan' || work.kind === 'bulk-delete';

/** The cases whose server the parent fills with its own layout: the scans and the overview. */
export const isFilledWork = (work: Work): work is Extract<Work, { kind: 'scan' | 'bulk-delete' | 'overview' }> =>
  isScanWork(work) || work.kind === 'overview';

/** How many servers a plan needs, each a fresh one of the run's kind: one but for the cluster case. */
export const serverCount = (work: Work): number => (work.kind === 'cluster-put' ? work.servers : 1);

const PIPELINE_WINDOW = 100;
const BULK_WINDOW = 10_000;
const PARALLEL_CONNECTIONS = 10;
const CLUSTER_SERVERS = 2;
/** Enough for a median and a max that mean something, in about as many seconds as the page would take. */
const OVERVIEW_REFRESHES = 30;
/** Issue 16's "100,000 jobs in a tube", for the tube page's listing. */
const BIG_TUBE_JOBS = 100_000;

export const CASES: readonly CaseDef[] = [
  {
    id: 'a',
    title: 'put, one at a time',
    jobs: 20_000,
    peers: true,
    plan: (_, jobs) => ({ kind: 'put', jobs, window: 1, tube: DEFAULT_TUBE }),
  },
  {
    id: 'b',
    title: `put, ${PIPELINE_WINDOW} in flight on one connection`,
    jobs: 100_000,
    peers: true,
    // A client that waits for each reply would only queue the window inside itself: run it one at a time.
    plan: (adapter, jobs) => ({ kind: 'put', jobs, window: adapter.pipelines ? PIPELINE_WINDOW : 1, tube: DEFAULT_TUBE }),
  },
  {
    id: 'c',
    title: 'reserve + delete, one connection',
    jobs: 20_000,
    peers: true,
    plan: (_, jobs) => ({ kind: 'reserve', jobs, connections: 1 }),
  },
  {
    id: 'd',
    title: `reserve + delete, ${PARALLEL_CONNECTIONS} connections`,
    jobs: 50_000,
    peers: true,
    plan: (_, jobs) => ({ kind: 'reserve', jobs, connections: PARALLEL_CONNECTIONS }),
  },
  {
    id: 'e',
    title: `Worker, concurrency ${PARALLEL_CONNECTIONS}, no-op handler`,
    jobs: 20_000,
    peers: false,
    // The ceiling is raw reserve + delete over as many connections.
    plan: (adapter, jobs) =>
      adapter.name === 'raw'
        ? { kind: 'reserve', jobs, connections: PARALLEL_CONNECTIONS }
        : { kind: 'worker', jobs, concurrency: PARALLEL_CONNECTIONS },
  },
  {
    id: 'f',
    title: `put, ${BULK_WINDOW.toLocaleString('en-US')} in flight (bulk)`,
    jobs: 1_000_000,
    peers: false,
    plan: (_, jobs) => ({ kind: 'put', jobs, window: BULK_WINDOW, tube: DEFAULT_TUBE }),
  },
  {
    id: 'g',
    title: `enqueue into a named tube, ${PIPELINE_WINDOW} in flight on one connection`,
    jobs: 100_000,
    peers: false,
    // (b)'s window, so that a client's (g) over its (b) is what the envelope and a tube other than its
    // tube in use cost. The ceiling puts plain bodies after one `use`: all a tube has to cost.
    plan: (adapter, jobs) =>
      adapter.name === 'raw'
        ? { kind: 'put', jobs, window: PIPELINE_WINDOW, tube: NAMED_TUBE }
        : { kind: 'enqueue', jobs, window: PIPELINE_WINDOW, tube: NAMED_TUBE },
  },
  {
    id: 'h',
    title: `put through a Cluster of ${CLUSTER_SERVERS} servers, ${PIPELINE_WINDOW} in flight`,
    jobs: 100_000,
    peers: false,
    // A beanline API: no other client has one, and the raw socket talks to one server. (b)'s body and
    // window, so that (h) over (b) is what a second server gives, and what the Cluster costs.
    clients: ['beanline'],
    plan: (_, jobs) => ({ kind: 'cluster-put', jobs, window: PIPELINE_WINDOW, tube: DEFAULT_TUBE, servers: CLUSTER_SERVERS }),
  },
  {
    id: 'i',
    title: `jobs scan: one tube's buried jobs among ${SCAN_TUBES.length} tubes (rates per id asked about)`,
    jobs: 100_000,
    peers: true,
    // beanline's scanJobs against the one-at-a-time loop other tools run: beanline's own Client in
    // the loop, so only the pipelining differs, and fivebeans to show what its users get.
    clients: ['beanline', 'loop', 'fivebeans'],
    cold: true,
    // The loop covers the first ids only: at one round trip per id the whole range would take minutes.
    plan: (adapter, jobs) => ({ kind: 'scan', jobs, tube: SCAN_TUBES[0], loop: adapter.name === 'beanline' ? null : LOOP_IDS }),
  },
  {
    id: 'j',
    title: 'bulk delete of buried jobs, `beanline jobs --delete` (rates per job deleted)',
    jobs: 100_000,
    peers: false,
    // The built CLI as the operator runs it: beanline's alone.
    clients: ['beanline'],
    cold: true,
    plan: (_, jobs) => ({ kind: 'bulk-delete', jobs, tube: BULK_TUBE }),
  },
  {
    id: 'k',
    title: 'dashboard overview refresh, `GET /api/overview` (jobs = tubes; rates per refresh)',
    jobs: 1_000,
    peers: false,
    // The dashboard's own handler, in the child: beanline's alone.
    clients: ['beanline'],
    // The child opens the dashboard's connection with one untimed request, as the page's first load
    // does; the job-count warm-up means nothing here.
    cold: true,
    plan: (_, jobs) => ({ kind: 'overview', jobs, refreshes: OVERVIEW_REFRESHES, bigTube: BIG_TUBE_JOBS }),
  },
];

/** How the client ran, for the table. */
export function describePlan(plan: Work, adapter: AdapterInfo): string {
  switch (plan.kind) {
    case 'put': {
      const use = plan.tube === DEFAULT_TUBE ? '' : `use ${plan.tube}, then `;
      if (plan.window > 1) return `${use}${plan.window.toLocaleString('en-US')} in flight`;
      return `${use}${adapter.pipelines ? '1 at a time' : '1 at a time (cannot pipeline)'}`;
    }
    case 'enqueue':
      return `defineJob enqueue, ${plan.window.toLocaleString('en-US')} in flight`;
    case 'reserve':
      return plan.connections === 1 ? '1 connection' : `${plan.connections} connections`;
    case 'worker':
      return `Worker, ${plan.concurrency} slots`;
    case 'cluster-put':
      return `Cluster of ${plan.servers}, ${plan.window.toLocaleString('en-US')} in flight`;
    case 'scan':
      if (plan.loop === null) return 'scanJobs: stats-job pipelined, then peek the matches';
      return `loop: stats-job 1 at a time (peek each match), first ${Math.min(plan.loop, plan.jobs).toLocaleString('en-US')} ids`;
    case 'bulk-delete':
      return 'node dist/src/cli/main.js: scan, then stats-job + delete each';
    case 'overview':
      return `createDashboard in node:http, ${plan.refreshes} refreshes one after another`;
  }
}

/** Whether the client runs in the case at all. */
export function takesPart(caseDef: CaseDef, adapter: AdapterInfo): boolean {
  if (adapter.onlyIn !== undefined && !adapter.onlyIn.includes(caseDef.id)) return false;
  if (caseDef.clients !== undefined) return caseDef.clients.includes(adapter.name);
  return caseDef.peers || !adapter.peer;
}

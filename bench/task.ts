/** What the benchmark parent asks of a child process, and what the child reports back. */
import type { TallySummary } from './bodies.js';
import type { Plan } from './cases.js';

export interface ChildTask {
  /** The adapter's name (adapters/index.ts). */
  client: string;
  plan: Plan;
  /** The servers' ports: one, but for the cluster case. */
  ports: number[];
  /** The servers' pids, in the same order, for their CPU time over the timed part. */
  serverPids: number[];
  /** Where the baseline client is loaded from (`--baseline DIR`); null without it. */
  baselineDir: string | null;
}

export interface Timing {
  elapsedMs: number;
  /** User + system CPU time of the child over the timed part, in microseconds. */
  cpuUs: number;
  /** The servers' CPU time over the same part, summed, in ns; null where /proc cannot tell. */
  serverCpuNs: number | null;
}

export interface ChildResult {
  /** The timed part; null when the run failed before it ended. */
  timing: Timing | null;
  /** Peak resident set size of the child over its whole life, in KiB (getrusage). */
  maxRssKb: number;
  /** The bodies the client received (reserve and worker plans; put and enqueue plans are drained by the parent). */
  tally: TallySummary | null;
  /** Worker plan: how long enqueueing the jobs with defineJob took (timed apart from the run). */
  enqueue: Timing | null;
  /**
   * What the timed part did when it is not the plan's jobs: in the scan case (i), the ids asked about.
   * Absent to count the plan's jobs.
   */
  units?: number;
  /** The overview case (k): its times per request. Absent elsewhere. */
  refresh?: RefreshTimes;
  /** Why the run failed, or null. */
  error: string | null;
}

/** Case (k): times per request, which a rate over the whole run would hide (its slowest one). */
export interface RefreshTimes {
  /** `GET /api/overview`, timed ones only: median and slowest, in ms. */
  medianMs: number;
  maxMs: number;
  /** The stats-tube commands the server counted per refresh: the tubes it holds, if one batch asked about each once. */
  statsTubePerRefresh: number;
  /** `GET /api/jobs` of the big tube's first page, after an untimed first one: median and slowest, in ms. */
  listingMedianMs: number;
  listingMaxMs: number;
  /** The stats-job commands the server counted per listing: the ids its scan asked about for one page. */
  statsJobPerListing: number;
}

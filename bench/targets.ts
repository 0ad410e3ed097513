/**
 * The project's performance targets (issue 5; (g) from issue 11; (i), (j) from issue 15; (k) from
 * issue 16), judged
 * from the measured rows: met, not met, or not measured (a case or client left out of this run). A
 * failed row never meets anything. With a baseline in the run, each is judged for it too, so the
 * two read side by side.
 */
import { BASELINE } from './adapters/index.js';
import type { CaseId } from './cases.js';
import { clip, formatNumber, median, type Summary } from './stats.js';

export type Verdict = 'met' | 'not met' | 'not measured';

export interface TargetResult {
  target: string;
  verdict: Verdict;
  /** The numbers behind the verdict. */
  detail: string;
  /** The same target judged for the baseline client; null when it did not run. */
  baseline: Judgement | null;
}

type Judgement = Pick<TargetResult, 'verdict' | 'detail'>;

interface Target {
  target: string;
  /** `client` is beanline or the baseline. */
  judge(rows: Rows, client: string): Judgement;
}

class Rows {
  constructor(private readonly summaries: Summary[]) {}

  find(caseId: CaseId, client: string): Summary | undefined {
    return this.summaries.find((s) => s.row.caseDef.id === caseId && s.row.adapter.name === client);
  }

  /** The fastest peer that passed its checks. */
  bestPeer(caseId: CaseId): Summary | undefined {
    const peers = this.summaries.filter((s) => s.row.caseDef.id === caseId && s.row.adapter.peer && s.failure === null);
    return peers.sort((x, y) => y.jobsPerSec - x.jobsPerSec)[0];
  }
}

const unmeasured = (what: string): Judgement => ({ verdict: 'not measured', detail: what });

function judge(holds: boolean, detail: string): Judgement {
  return { verdict: holds ? 'met' : 'not met', detail };
}

/** The client's row in `caseId`, or why it cannot be judged. */
function rowOf(rows: Rows, caseId: CaseId, client: string): Summary | Judgement {
  const row = rows.find(caseId, client);
  if (row === undefined) return unmeasured(`${client} did not run case (${caseId})`);
  if (row.failure !== null) return { verdict: 'not met', detail: `${client} failed its checks in (${caseId}): ${clip(row.failure, 140)}` };
  return row;
}

const isSummary = (value: Summary | Judgement): value is Summary => 'row' in value;

function versusRaw(caseId: CaseId, factor: number): Target {
  return {
    target: `(${caseId}) beanline ≥ ${factor}× raw`,
    judge: (rows, client) => {
      const row = rowOf(rows, caseId, client);
      if (!isSummary(row)) return row;
      if (row.ratio === null) return unmeasured(`no valid raw row in case (${caseId})`);
      return judge(row.ratio >= factor, `${formatNumber(row.ratio, 2)}× raw`);
    },
  };
}

function versusPeers(caseId: CaseId, factor: number): Target {
  return {
    target: `(${caseId}) beanline ≥ ${factor === 1 ? '' : `${factor}× `}best peer`,
    judge: (rows, client) => {
      const row = rowOf(rows, caseId, client);
      if (!isSummary(row)) return row;
      const best = rows.bestPeer(caseId);
      if (best === undefined) return unmeasured(`no peer passed case (${caseId})`);
      const ratio = row.jobsPerSec / best.jobsPerSec;
      return judge(
        ratio >= factor,
        `${formatNumber(row.jobsPerSec)} vs ${best.row.adapter.name} ${formatNumber(best.jobsPerSec)} jobs/s: ${formatNumber(ratio, 2)}×`,
      );
    },
  };
}

function bound(caseId: CaseId, target: string, measure: (row: Summary) => [value: number, holds: boolean, unit: string]): Target {
  return {
    target,
    judge: (rows, client) => {
      const row = rowOf(rows, caseId, client);
      if (!isSummary(row)) return row;
      const [value, holds, unit] = measure(row);
      return judge(holds, `${formatNumber(value, 1)} ${unit}`);
    },
  };
}

/** The client in `caseId` against itself in `baseId`, jobs/s. */
function versusOwn(caseId: CaseId, baseId: CaseId, factor: number, target: string): Target {
  return {
    target,
    judge: (rows, client) => {
      const [row, base] = [rowOf(rows, caseId, client), rowOf(rows, baseId, client)];
      if (!isSummary(row)) return row;
      if (!isSummary(base)) return base;
      const ratio = row.jobsPerSec / base.jobsPerSec;
      return judge(
        ratio >= factor,
        `${formatNumber(row.jobsPerSec)} vs ${formatNumber(base.jobsPerSec)} jobs/s in (${baseId}): ${formatNumber(ratio, 2)}×`,
      );
    },
  };
}

const MAX_CPU_US_PER_PUT = 10;
const MAX_BULK_RSS_MB = 200;
const MIN_SCAN_IDS_PER_SEC = 50_000;
const MAX_DELETE_SECONDS = 10;
const DELETE_JOBS = 100_000;
const MAX_REFRESH_MS = 200;
const OVERVIEW_TUBES = 1_000;

const TARGETS: Target[] = [
  versusRaw('b', 0.9),
  versusPeers('b', 1.3),
  versusPeers('a', 1),
  versusRaw('a', 0.9),
  versusPeers('c', 1),
  versusRaw('c', 0.9),
  versusPeers('d', 1.2),
  versusRaw('e', 0.5),
  bound('b', `(b) CPU per pipelined put ≤ ${MAX_CPU_US_PER_PUT} µs`, (row) => [
    row.cpuUsPerJob,
    row.cpuUsPerJob <= MAX_CPU_US_PER_PUT,
    'µs/put',
  ]),
  bound('f', `(f) peak RSS < ${MAX_BULK_RSS_MB} MB`, (row) => [row.rssMb, row.rssMb < MAX_BULK_RSS_MB, 'MB']),
  versusOwn('g', 'b', 0.9, '(g) beanline enqueue into a named tube ≥ 0.9× its own put in (b)'),
  bound('i', `(i) beanline scans ≥ ${formatNumber(MIN_SCAN_IDS_PER_SEC)} ids/s`, (row) => [
    row.jobsPerSec,
    row.jobsPerSec >= MIN_SCAN_IDS_PER_SEC,
    'ids/s',
  ]),
  // At another --jobs count, judged at the row's rate.
  bound('j', `(j) the CLI deletes ${formatNumber(DELETE_JOBS)} buried jobs in < ${MAX_DELETE_SECONDS} s`, (row) => {
    const seconds = DELETE_JOBS / row.jobsPerSec;
    return [seconds, seconds < MAX_DELETE_SECONDS, row.row.jobs === DELETE_JOBS ? 's' : `s at the rate of a run of ${formatNumber(row.row.jobs)}`];
  }),
  // Judged on the typical refresh; the slowest one is reported beside it, as a page would feel it
  // once, not every second.
  bound('k', `(k) the dashboard's overview of ${formatNumber(OVERVIEW_TUBES)} tubes refreshes in < ${MAX_REFRESH_MS} ms (median)`, (row) => {
    if (row.refreshes.length === 0) return [Number.NaN, false, 'ms: no times per refresh came back'];
    const ms = median(row.refreshes.map((run) => run.medianMs));
    const slowest = Math.max(...row.refreshes.map((run) => run.maxMs));
    const tubes = row.row.jobs === OVERVIEW_TUBES ? '' : ` at ${formatNumber(row.row.jobs)} tubes`;
    return [ms, ms < MAX_REFRESH_MS, `ms per refresh${tubes}; slowest ${formatNumber(slowest, 1)} ms`];
  }),
];

export function judgeTargets(summaries: Summary[]): TargetResult[] {
  const rows = new Rows(summaries);
  const withBaseline = summaries.some(({ row }) => row.adapter.name === BASELINE);
  return TARGETS.map(({ target, judge: verdictOf }) => ({
    target,
    ...verdictOf(rows, 'beanline'),
    baseline: withBaseline ? verdictOf(rows, BASELINE) : null,
  }));
}

export function targetLines(results: TargetResult[]): string[] {
  return results.map(({ target, verdict, detail, baseline }) => {
    const line = `- ${target}: **${verdict}** (${detail})`;
    // A case left out of the run leaves both unmeasured: saying so twice adds nothing.
    if (baseline === null || (verdict === 'not measured' && baseline.verdict === 'not measured')) return line;
    return `${line}; ${BASELINE}: ${baseline.verdict} (${baseline.detail})`;
  });
}

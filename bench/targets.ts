/**
 * The project's performance targets (issue 5), judged from the measured rows: met, not met, or not
 * measured (a case or client left out of this run). A failed row never meets anything.
 */
import type { CaseId } from './cases.js';
import { formatNumber, type Summary } from './stats.js';

export type Verdict = 'met' | 'not met' | 'not measured';

export interface TargetResult {
  target: string;
  verdict: Verdict;
  /** The numbers behind the verdict. */
  detail: string;
}

type Judgement = Omit<TargetResult, 'target'>;

interface Target {
  target: string;
  judge(rows: Rows): Judgement;
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

/** beanline in `caseId`, or why it cannot be judged. */
function beanline(rows: Rows, caseId: CaseId): Summary | Judgement {
  const row = rows.find(caseId, 'beanline');
  if (row === undefined) return unmeasured(`beanline did not run case (${caseId})`);
  if (row.failure !== null) return { verdict: 'not met', detail: `beanline failed its checks: ${row.failure}` };
  return row;
}

const isSummary = (value: Summary | Judgement): value is Summary => 'row' in value;

function versusRaw(caseId: CaseId, factor: number): Target {
  return {
    target: `(${caseId}) beanline ≥ ${factor}× raw`,
    judge: (rows) => {
      const row = beanline(rows, caseId);
      if (!isSummary(row)) return row;
      if (row.ratio === null) return unmeasured(`no valid raw row in case (${caseId})`);
      return judge(row.ratio >= factor, `${formatNumber(row.ratio, 2)}× raw`);
    },
  };
}

function versusPeers(caseId: CaseId, factor: number): Target {
  return {
    target: `(${caseId}) beanline ≥ ${factor === 1 ? '' : `${factor}× `}best peer`,
    judge: (rows) => {
      const row = beanline(rows, caseId);
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
    judge: (rows) => {
      const row = beanline(rows, caseId);
      if (!isSummary(row)) return row;
      const [value, holds, unit] = measure(row);
      return judge(holds, `${formatNumber(value, 1)} ${unit}`);
    },
  };
}

const MAX_CPU_US_PER_PUT = 10;
const MAX_BULK_RSS_MB = 200;

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
];

export function judgeTargets(summaries: Summary[]): TargetResult[] {
  const rows = new Rows(summaries);
  return TARGETS.map(({ target, judge: verdictOf }) => ({ target, ...verdictOf(rows) }));
}

export function targetLines(results: TargetResult[]): string[] {
  return results.map(({ target, verdict, detail }) => `- ${target}: **${verdict}** (${detail})`);
}

/**
 * From trials to one row per client, case and server: medians over the runs, the ratio to the
 * case's ceiling (raw on the same server), and the markdown tables.
 */
import { BASELINE, type AdapterInfo } from './adapters/index.js';
import type { CaseDef, CaseId } from './cases.js';
import type { ServerKind } from './server.js';
import type { RefreshTimes } from './task.js';
import type { TrialResult } from './trial.js';

export interface Row {
  caseDef: CaseDef;
  adapter: AdapterInfo;
  server: ServerKind;
  jobs: number;
  /** How the client ran (describePlan). */
  mode: string;
  trials: TrialResult[];
}

export interface Summary {
  row: Row;
  jobsPerSec: number;
  minJobsPerSec: number;
  maxJobsPerSec: number;
  cpuUsPerJob: number;
  rssMb: number;
  /** Median over the runs that could measure it; null if none could (so for the three below). */
  serverBusy: number | null;
  serverCpuUsPerJob: number | null;
  serverEmptyRssMb: number | null;
  serverMbPer100kJobs: number | null;
  enqueuePerSec: number | null;
  /** Case (k): each run's times per request, in run order; empty elsewhere. */
  refreshes: RefreshTimes[];
  /** The first failure of any run: then the row does not count. */
  failure: string | null;
  /** Median jobs/s over raw's in the same case; null without a valid raw row. */
  ratio: number | null;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(rows: Row[]): Summary[] {
  const base = rows.map((row) => {
    const of = (pick: (trial: TrialResult) => number): number => median(row.trials.map(pick));
    /** The median over the runs that measured it; null if none did. */
    const ofMeasured = (pick: (trial: TrialResult) => number | null): number | null => {
      const values = row.trials.map(pick).filter((value) => value !== null);
      return values.length === 0 ? null : median(values);
    };
    const rates = row.trials.map((trial) => trial.jobsPerSec);
    return {
      row,
      jobsPerSec: median(rates),
      minJobsPerSec: Math.min(...rates),
      maxJobsPerSec: Math.max(...rates),
      cpuUsPerJob: of((trial) => trial.cpuUsPerJob),
      rssMb: of((trial) => trial.rssMb),
      serverBusy: ofMeasured((trial) => trial.serverBusy),
      serverCpuUsPerJob: ofMeasured((trial) => trial.serverCpuUsPerJob),
      serverEmptyRssMb: ofMeasured((trial) => trial.serverEmptyRssMb),
      serverMbPer100kJobs: ofMeasured((trial) => trial.serverMbPer100kJobs),
      enqueuePerSec: ofMeasured((trial) => trial.enqueuePerSec),
      refreshes: row.trials.flatMap((trial) => (trial.refresh === null ? [] : [trial.refresh])),
      failure: row.trials.find((trial) => trial.failure !== null)?.failure ?? null,
      ratio: null,
    };
  });
  return base.map((summary) => {
    const ceiling = base.find(
      (other) => other.row.caseDef === summary.row.caseDef && other.row.server === summary.row.server && other.row.adapter.name === 'raw',
    );
    const valid = ceiling !== undefined && ceiling.failure === null && ceiling.jobsPerSec > 0;
    return { ...summary, ratio: valid ? summary.jobsPerSec / ceiling.jobsPerSec : null };
  });
}

export const formatNumber = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const COLUMNS: [title: string, align: 'left' | 'right'][] = [
  ['case', 'left'],
  ['client', 'left'],
  ['jobs', 'right'],
  ['mode', 'left'],
  ['jobs/s (median)', 'right'],
  ['min–max', 'right'],
  ['× ceiling', 'right'],
  ['CPU µs/job', 'right'],
  ['peak RSS MB', 'right'],
  ['server busy', 'right'],
  ['check', 'left'],
];

export const clip = (text: string, length: number): string => (text.length <= length ? text : `${text.slice(0, length - 1)}…`);

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function tableHead(columns: [title: string, align: 'left' | 'right'][]): string[] {
  return [
    `| ${columns.map(([title]) => title).join(' | ')} |`,
    `|${columns.map(([, align]) => (align === 'right' ? '---:' : '---')).join('|')}|`,
  ];
}

/** With `withServer`, a column saying which server each row ran on (runs on beanstalkd alone omit it). */
export function markdownTable(summaries: Summary[], withServer = false): string {
  const columns: typeof COLUMNS = withServer ? [...COLUMNS.slice(0, 2), ['server', 'left'], ...COLUMNS.slice(2)] : COLUMNS;
  const lines = tableHead(columns);
  for (const summary of summaries) {
    const { row } = summary;
    const rate = formatNumber(summary.jobsPerSec);
    const runs = row.trials.length;
    const failed = row.trials.filter((trial) => trial.failure !== null).length;
    lines.push(
      `| ${[
        `(${row.caseDef.id}) ${row.caseDef.title}`,
        row.adapter.name === 'raw' ? 'raw (ceiling)' : row.adapter.name,
        ...(withServer ? [row.server] : []),
        formatNumber(row.jobs),
        row.mode,
        summary.failure === null ? rate : `~~${rate}~~`,
        `${formatNumber(summary.minJobsPerSec)}–${formatNumber(summary.maxJobsPerSec)}`,
        summary.ratio === null || summary.failure !== null ? '—' : `${formatNumber(summary.ratio, 2)}×`,
        formatNumber(summary.cpuUsPerJob, 1),
        formatNumber(summary.rssMb),
        summary.serverBusy === null ? '—' : `${formatNumber(summary.serverBusy * 100)}%`,
        summary.failure === null ? `ok (${runs} runs)` : `**FAILED** ${failed}/${runs}: ${clip(summary.failure, 140)}`,
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

const BASELINE_COLUMNS: [title: string, align: 'left' | 'right'][] = [
  ['case', 'left'],
  ['beanline jobs/s', 'right'],
  ['baseline jobs/s', 'right'],
  ['jobs/s × baseline', 'right'],
  ['beanline CPU µs/job', 'right'],
  ['baseline CPU µs/job', 'right'],
  ['CPU × baseline', 'right'],
];

/**
 * beanline over the baseline case by case, from the medians in the main table (whose min–max
 * columns show how far apart runs of the same code land). Empty when the baseline did not run.
 */
export function baselineTable(summaries: Summary[]): string {
  const find = (caseDef: CaseDef, client: string) =>
    summaries.find((s) => s.row.caseDef === caseDef && s.row.adapter.name === client);
  const lines = tableHead(BASELINE_COLUMNS);
  for (const caseDef of new Set(summaries.map(({ row }) => row.caseDef))) {
    const [current, baseline] = [find(caseDef, 'beanline'), find(caseDef, BASELINE)];
    if (current === undefined || baseline === undefined) continue;
    const valid = current.failure === null && baseline.failure === null;
    const ratio = (x: number, y: number): string => (valid && y > 0 ? `${formatNumber(x / y, 2)}×` : '—');
    const rate = ({ jobsPerSec, failure }: Summary): string =>
      failure === null ? formatNumber(jobsPerSec) : `~~${formatNumber(jobsPerSec)}~~ (failed)`;
    lines.push(
      `| ${[
        `(${caseDef.id}) ${caseDef.title}`,
        rate(current),
        rate(baseline),
        ratio(current.jobsPerSec, baseline.jobsPerSec),
        formatNumber(current.cpuUsPerJob, 1),
        formatNumber(baseline.cpuUsPerJob, 1),
        ratio(current.cpuUsPerJob, baseline.cpuUsPerJob),
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return lines.length === 2 ? '' : lines.join('\n');
}

const inWords = (names: string[]): string =>
  names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;

/** Each client's jobs/s in `over` against its own in `under`, when both passed. */
function sameClientRatios(summaries: Summary[], over: CaseId, under: CaseId): string[] {
  const passed = (caseId: CaseId, client: string) =>
    summaries.find((s) => s.row.caseDef.id === caseId && s.row.adapter.name === client && s.failure === null && s.jobsPerSec > 0);
  return summaries
    .filter((s) => s.row.caseDef.id === over)
    .flatMap(({ row }) => {
      const [top, bottom] = [passed(over, row.adapter.name), passed(under, row.adapter.name)];
      if (top === undefined || bottom === undefined) return [];
      return [`${row.adapter.name} ${formatNumber(top.jobsPerSec / bottom.jobsPerSec, 2)}×`];
    });
}

/**
 * (h) against (b), client by client: jobs/s and client CPU per job, and the servers' CPU per job
 * (both servers summed in (h)), when both passed.
 */
function clusterNotes(summaries: Summary[]): string[] {
  const passed = (caseId: CaseId, client: string) =>
    summaries.find((s) => s.row.caseDef.id === caseId && s.row.adapter.name === client && s.failure === null && s.jobsPerSec > 0);
  return summaries
    .filter((s) => s.row.caseDef.id === 'h')
    .flatMap(({ row }) => {
      const [cluster, single] = [passed('h', row.adapter.name), passed('b', row.adapter.name)];
      if (cluster === undefined || single === undefined) return [];
      const serverCpu =
        cluster.serverCpuUsPerJob === null || single.serverCpuUsPerJob === null
          ? ''
          : `; server CPU ${formatNumber(cluster.serverCpuUsPerJob, 1)} against ${formatNumber(single.serverCpuUsPerJob, 1)} µs/job`;
      return [
        `(h) over (b), ${row.adapter.name}: ${formatNumber(cluster.jobsPerSec / single.jobsPerSec, 2)}× the jobs/s ` +
          `(${formatNumber(cluster.jobsPerSec)} against ${formatNumber(single.jobsPerSec)}), ` +
          `${formatNumber(cluster.cpuUsPerJob / single.cpuUsPerJob, 2)}× the client CPU per job ` +
          `(${formatNumber(cluster.cpuUsPerJob, 1)} against ${formatNumber(single.cpuUsPerJob, 1)} µs)${serverCpu}. ` +
          `Its server busy is both servers' CPU summed (200% is two cores).`,
      ];
    });
}

/** Notes under the table: the cases without peers, (g) and (h) against (b), and the worker case's enqueue rate. */
export function tableNotes(summaries: Summary[]): string[] {
  const alone = [...new Set(summaries.map(({ row }) => row.caseDef).filter((caseDef) => !caseDef.peers))];
  const soloists = (caseDef: CaseDef): string[] => [
    ...new Set(summaries.filter(({ row }) => row.caseDef === caseDef && !row.adapter.peer).map(({ row }) => row.adapter.name)),
  ];
  // Cases run by the same clients share a line: "(e), (f): beanline and raw only".
  const byClients = new Map<string, string[]>();
  for (const caseDef of alone) {
    const who = inWords(soloists(caseDef));
    byClients.set(who, [...(byClients.get(who) ?? []), `(${caseDef.id})`]);
  }
  const notes = [...byClients].map(([who, ids]) => `${ids.join(', ')}: ${who} only; peers n/a.`);
  const named = sameClientRatios(summaries, 'g', 'b');
  if (named.length > 0) {
    notes.push(`(g) over (b), jobs/s into a named tube against plain puts, each client in this run: ${named.join(', ')}.`);
  }
  notes.push(...clusterNotes(summaries));
  for (const { row, enqueuePerSec } of summaries) {
    if (enqueuePerSec === null) continue;
    notes.push(
      `(${row.caseDef.id}) ${row.adapter.name}: enqueueing the ${formatNumber(row.jobs)} jobs with defineJob ` +
        `(100 in flight; not in the table's figure) ran at ${formatNumber(enqueuePerSec)} jobs/s (median).`,
    );
  }
  return notes;
}

/** The embedded server's throughput over beanstalkd's that the project asks for (issue 12). */
export const EMBEDDED_TARGET = 0.5;

const SERVER_COLUMNS: [title: string, align: 'left' | 'right'][] = [
  ['case', 'left'],
  ['client', 'left'],
  ['beanstalkd jobs/s', 'right'],
  ['embedded jobs/s', 'right'],
  ['× beanstalkd', 'right'],
  ['server CPU µs/job (beanstalkd / embedded)', 'right'],
  ['server RSS empty MB (beanstalkd / embedded)', 'right'],
  ['MB per 100,000 jobs stored (beanstalkd / embedded)', 'right'],
];

/**
 * The embedded server against beanstalkd, client by client and case by case, from the medians of
 * the main table; and the verdict on the target. Empty when not both ran.
 */
export function serverTable(summaries: Summary[]): string[] {
  const lines = tableHead(SERVER_COLUMNS);
  const ratios: { ratio: number; where: string }[] = [];
  const failedPairs: string[] = [];
  for (const real of summaries) {
    const { row } = real;
    if (row.server !== 'beanstalkd') continue;
    const embedded = summaries.find(
      (s) => s.row.caseDef === row.caseDef && s.row.adapter.name === row.adapter.name && s.row.server === 'embedded',
    );
    if (embedded === undefined) continue;
    const where = `(${row.caseDef.id}) ${row.adapter.name}`;
    const valid = real.failure === null && embedded.failure === null && real.jobsPerSec > 0;
    if (valid) ratios.push({ ratio: embedded.jobsPerSec / real.jobsPerSec, where });
    else failedPairs.push(where);
    const rate = ({ jobsPerSec, failure }: Summary): string =>
      failure === null ? formatNumber(jobsPerSec) : `~~${formatNumber(jobsPerSec)}~~ (failed)`;
    const pair = (pick: (s: Summary) => number | null, digits: number): string =>
      [real, embedded].map((s) => (pick(s) === null ? '—' : formatNumber(pick(s) as number, digits))).join(' / ');
    lines.push(
      `| ${[
        `(${row.caseDef.id}) ${row.caseDef.title}`,
        row.adapter.name === 'raw' ? 'raw (ceiling)' : row.adapter.name,
        rate(real),
        rate(embedded),
        valid ? `${formatNumber(embedded.jobsPerSec / real.jobsPerSec, 2)}×` : '—',
        pair((s) => s.serverCpuUsPerJob, 1),
        pair((s) => s.serverEmptyRssMb, 0),
        pair((s) => s.serverMbPer100kJobs, 1),
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  if (lines.length === 2) return [];
  const lowest = [...ratios].sort((x, y) => x.ratio - y.ratio)[0];
  const met = failedPairs.length === 0 && lowest !== undefined && lowest.ratio >= EMBEDDED_TARGET;
  const detail = [
    ...(lowest === undefined ? [] : [`lowest ${formatNumber(lowest.ratio, 2)}× in ${lowest.where}`]),
    ...(failedPairs.length === 0 ? [] : [`failed checks in ${failedPairs.join(', ')}`]),
  ].join('; ');
  return [
    lines.join('\n'),
    '',
    `- The embedded server ≥ ${EMBEDDED_TARGET}× beanstalkd's jobs/s in every case and client run: **${met ? 'met' : 'not met'}** (${detail})`,
  ];
}

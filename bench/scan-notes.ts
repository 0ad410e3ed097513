/**
 * Notes under the table for the scan case (i) and the bulk-delete case (j) of issue 15: the
 * pipelined scan against the one-at-a-time loops of the same run, and the bulk delete in seconds,
 * the unit the issue states its target in.
 */
import { formatNumber, type Summary } from './stats.js';

const passed = (summary: Summary | undefined): summary is Summary =>
  summary !== undefined && summary.failure === null && summary.jobsPerSec > 0;

function scanNote(summaries: Summary[]): string[] {
  const rows = summaries.filter(({ row }) => row.caseDef.id === 'i');
  const scan = rows.find(({ row }) => row.adapter.name === 'beanline');
  if (!passed(scan)) return [];
  const loops = rows.filter((summary) => summary !== scan && passed(summary));
  if (loops.length === 0) return [];
  const against = loops.map(
    ({ row, jobsPerSec, cpuUsPerJob }) =>
      `${formatNumber(scan.jobsPerSec / jobsPerSec, 1)}× ${row.adapter.name}'s (${formatNumber(jobsPerSec)} ids/s, ` +
      `${formatNumber(cpuUsPerJob, 1)} µs of client CPU per id)`,
  );
  return [
    `(i) beanline's scanJobs asked about ${formatNumber(scan.jobsPerSec)} ids/s at ${formatNumber(scan.cpuUsPerJob, 1)} µs of ` +
      `client CPU per id (medians): ${against.join(', ')}. The loops cover the first ids from the top only.`,
  ];
}

function deleteNote(summaries: Summary[]): string[] {
  const row = summaries.find((summary) => summary.row.caseDef.id === 'j' && summary.row.adapter.name === 'beanline');
  if (!passed(row)) return [];
  const seconds = (rate: number): string => formatNumber(row.row.jobs / rate, 2);
  return [
    `(j) \`beanline jobs --delete\` emptied a tube of ${formatNumber(row.row.jobs)} buried jobs in ${seconds(row.jobsPerSec)} s ` +
      `(median; ${seconds(row.maxJobsPerSec)}–${seconds(row.minJobsPerSec)} s), spawn to exit, with ` +
      `${formatNumber((row.cpuUsPerJob * row.row.jobs) / 1e6, 2)} s of its own CPU (median).`,
  ];
}

export function scanNotes(summaries: Summary[]): string[] {
  const ran = [...new Set(summaries.map(({ row }) => row.caseDef.id).filter((id) => id === 'i' || id === 'j'))].map((id) => `(${id})`);
  const cold = ran.length === 0 ? [] : [`${ran.join(', ')}: no warm-up (a scan and a CLI run are one-off, and cold for the operator too).`];
  return [...cold, ...scanNote(summaries), ...deleteNote(summaries)];
}

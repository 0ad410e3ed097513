/**
 * The YAML bodies of stats, stats-job, stats-tube and the tube lists, field for field and in the
 * order beanstalkd 1.12 writes them (prot.c: STATS_FMT, STATS_JOB_FMT, STATS_TUBE_FMT).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { now, NS_PER_SECOND, type Job, type State, type Tube } from './state.js';

/** The version the embedded server answers to: the one it is held to. */
export const VERSION = '1.12';
/** beanstalkd's default binlog size, which it reports even without a binlog. */
const BINLOG_MAX_SIZE = 10485760;

/** The counters of `stats`, in its order: the command each counts. */
const COMMAND_COUNTERS = [
  'put', 'peek', 'peek-ready', 'peek-delayed', 'peek-buried', 'reserve', 'reserve-with-timeout', 'delete', 'release',
  'use', 'watch', 'ignore', 'bury', 'kick', 'touch', 'stats', 'stats-job', 'stats-tube', 'list-tubes',
  'list-tube-used', 'list-tubes-watched', 'pause-tube',
] as const;

/** C's integer division of nanoseconds into whole seconds (toward zero). */
function seconds(ns: number): number {
  return Math.trunc(ns / NS_PER_SECOND);
}

/** A server's identity in `stats`: a random id per start, and the machine it runs on. */
export interface Identity {
  readonly id: string;
  readonly hostname: string;
  readonly os: string;
  readonly platform: string;
}

export function identity(): Identity {
  return { id: randomBytes(8).toString('hex'), hostname: os.hostname(), os: os.version(), platform: os.machine() };
}

function usage(micros: number): string {
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

export function serverStats(state: State, who: Identity): string {
  const counts = COMMAND_COUNTERS.map((name) => `cmd-${name}: ${state.commands.get(name) ?? 0}\n`).join('');
  const rusage = process.resourceUsage();
  return (
    '---\n' +
    `current-jobs-urgent: ${state.urgent}\n` +
    `current-jobs-ready: ${state.readyCount}\n` +
    `current-jobs-reserved: ${state.reserved}\n` +
    `current-jobs-delayed: ${state.delayedCount()}\n` +
    `current-jobs-buried: ${state.buried}\n` +
    counts +
    `job-timeouts: ${state.timeouts}\n` +
    `total-jobs: ${state.totalJobs}\n` +
    `max-job-size: ${state.maxJobSize}\n` +
    `current-tubes: ${state.tubes.length}\n` +
    `current-connections: ${state.connections}\n` +
    `current-producers: ${state.producers}\n` +
    `current-workers: ${state.workers}\n` +
    `current-waiting: ${state.waiting}\n` +
    `total-connections: ${state.totalConnections}\n` +
    `pid: ${process.pid}\n` +
    `version: "${VERSION}"\n` +
    `rusage-utime: ${usage(rusage.userCPUTime)}\n` +
    `rusage-stime: ${usage(rusage.systemCPUTime)}\n` +
    `uptime: ${seconds(now() - state.startedAt)}\n` +
    'binlog-oldest-index: 0\n' +
    'binlog-current-index: 0\n' +
    'binlog-records-migrated: 0\n' +
    'binlog-records-written: 0\n' +
    `binlog-max-size: ${BINLOG_MAX_SIZE}\n` +
    `draining: ${state.draining}\n` +
    `id: ${who.id}\n` +
    `hostname: ${who.hostname}\n` +
    `os: ${who.os}\n` +
    `platform: ${who.platform}\n`
  );
}

export function jobStats(job: Job): string {
  const at = now();
  const timeLeft = job.state === 'reserved' || job.state === 'delayed' ? seconds(job.deadlineAt - at) : 0;
  return (
    '---\n' +
    `id: ${job.id}\n` +
    `tube: ${job.tube.name}\n` +
    `state: ${job.state}\n` +
    `pri: ${job.pri}\n` +
    `age: ${seconds(at - job.createdAt)}\n` +
    `delay: ${seconds(job.delay)}\n` +
    `ttr: ${seconds(job.ttr)}\n` +
    `time-left: ${timeLeft}\n` +
    'file: 0\n' +
    `reserves: ${job.reserves}\n` +
    `timeouts: ${job.timeouts}\n` +
    `releases: ${job.releases}\n` +
    `buries: ${job.buries}\n` +
    `kicks: ${job.kicks}\n`
  );
}

export function tubeStats(tube: Tube): string {
  const timeLeft = tube.pause > 0 ? seconds(tube.unpauseAt - now()) : 0;
  return (
    '---\n' +
    `name: ${tube.name}\n` +
    `current-jobs-urgent: ${tube.urgent}\n` +
    `current-jobs-ready: ${tube.ready.length}\n` +
    `current-jobs-reserved: ${tube.reserved}\n` +
    `current-jobs-delayed: ${tube.delay.length}\n` +
    `current-jobs-buried: ${tube.buriedCount}\n` +
    `total-jobs: ${tube.totalJobs}\n` +
    `current-using: ${tube.using}\n` +
    `current-watching: ${tube.watching}\n` +
    `current-waiting: ${tube.waiting.length}\n` +
    `cmd-delete: ${tube.deletes}\n` +
    `cmd-pause-tube: ${tube.pauses}\n` +
    `pause: ${seconds(tube.pause)}\n` +
    `pause-time-left: ${timeLeft}\n`
  );
}

export function tubeList(tubes: Iterable<Tube>): string {
  let body = '---\n';
  for (const tube of tubes) body += `- ${tube.name}\n`;
  return body;
}

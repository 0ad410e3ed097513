/**
 * Snapshots -> what an operator reads: per server and per tube the counts, and rates from the
 * deltas of beanstalkd's cumulative counters between the two latest snapshots. Pure: the CLI's
 * `top` and the dashboard feed it snapshots and draw its view, so both show the same numbers.
 *
 * beanstalkd counts reserves per server only (`cmd-reserve`, `cmd-reserve-with-timeout`); a tube
 * has no reserve counter, so tubes carry puts/s and deletes/s and no reserves/s: one cannot be
 * derived from the other counts without guessing.
 */
import type { ServerStats, TubeStats } from '../protocol/stats.js';
import type { ServerSnapshot, Snapshot } from './snapshot.js';

export interface ServerRates {
  url: string;
  up: boolean;
  /** Why the server is down. */
  error?: string;
  /** The latest stats, when up. */
  stats?: ServerStats;
  putsPerSecond: number;
  reservesPerSecond: number;
  deletesPerSecond: number;
  producers: number;
  workers: number;
  waiting: number;
  connections: number;
}

/** One tube, summed over every server that has it. */
export interface TubeRates {
  name: string;
  ready: number;
  reserved: number;
  delayed: number;
  buried: number;
  urgent: number;
  waiting: number;
  /** The longest pause left on any of its servers; 0 when not paused. */
  pausedSecondsLeft: number;
  /** Jobs ever put into it (since the tube was last created on each server). */
  total: number;
  putsPerSecond: number;
  deletesPerSecond: number;
  /** Puts/s at each snapshot, oldest first, at most `windowSeconds` samples. */
  history: number[];
  /** The servers it is on, in the snapshot's order. */
  servers: string[];
}

export interface RatesView {
  /** When the latest snapshot was taken (`Date.now()`); 0 before the first. */
  at: number;
  servers: ServerRates[];
  /** Busiest first: puts/s + deletes/s, then jobs held, then name. */
  tubes: TubeRates[];
}

type UpServer = Extract<ServerSnapshot, { up: true }>;

export class Rates {
  private readonly windowSeconds: number;
  private previous: Snapshot | null = null;
  private latest: Snapshot | null = null;
  private readonly histories = new Map<string, number[]>();
  private current: RatesView = { at: 0, servers: [], tubes: [] };

  /** `windowSeconds`: how many samples of history each tube keeps (one a second under `top`). */
  constructor(windowSeconds = 60) {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
      throw new RangeError(`windowSeconds must be a whole number from 1, got ${String(windowSeconds)}`);
    }
    this.windowSeconds = windowSeconds;
  }

  add(snapshot: Snapshot): void {
    this.previous = this.latest;
    this.latest = snapshot;
    const before = this.previous;
    const seconds = before === null ? 0 : (snapshot.at - before.at) / 1000;
    const baselines = new Map<string, UpServer>();
    for (const server of before?.servers ?? []) {
      if (server.up) baselines.set(server.url, server);
    }
    const servers = snapshot.servers.map((server) => serverRates(server, baselineFor(server, baselines), seconds));
    const tubes = this.tubeRates(snapshot, baselines, seconds, before !== null);
    this.current = { at: snapshot.at, servers, tubes: tubes.sort(busiestFirst) };
  }

  view(): RatesView {
    return this.current;
  }

  private tubeRates(snapshot: Snapshot, baselines: Map<string, UpServer>, seconds: number, sampled: boolean): TubeRates[] {
    const rows = new Map<string, TubeRates>();
    for (const server of snapshot.servers) {
      if (!server.up) continue;
      const baseline = baselineFor(server, baselines);
      const oldTubes = new Map((baseline?.tubes ?? []).map((tube) => [tube.name, tube] as const));
      for (const tube of server.tubes) {
        const row = rows.get(tube.name) ?? emptyRow(tube.name);
        rows.set(tube.name, row);
        addTube(row, tube, server.url);
        if (baseline === undefined) continue;
        // A tube missing from the previous snapshot of a server that was up then was created since,
        // with its counters from 0: its whole count happened in the interval.
        const old = oldTubes.get(tube.name);
        row.putsPerSecond += rate(tube.totalJobs, old?.totalJobs ?? 0, seconds);
        row.deletesPerSecond += rate(tube.cmdDelete, old?.cmdDelete ?? 0, seconds);
      }
    }
    // History follows the tubes present now; a tube that went away starts afresh if it comes back.
    for (const name of this.histories.keys()) {
      if (!rows.has(name)) this.histories.delete(name);
    }
    for (const row of rows.values()) {
      const history = this.histories.get(row.name) ?? [];
      if (sampled) history.push(row.putsPerSecond);
      if (history.length > this.windowSeconds) history.splice(0, history.length - this.windowSeconds);
      this.histories.set(row.name, history);
      row.history = [...history];
    }
    return [...rows.values()];
  }
}

/**
 * The previous snapshot of the same server, unless the server restarted in between (its counters
 * started again from 0, so a delta would mean nothing).
 */
function baselineFor(server: ServerSnapshot, baselines: Map<string, UpServer>): UpServer | undefined {
  if (!server.up) return undefined;
  const old = baselines.get(server.url);
  if (old === undefined) return undefined;
  const restarted = server.stats.pid !== old.stats.pid || server.stats.uptime < old.stats.uptime;
  return restarted ? undefined : old;
}

function serverRates(server: ServerSnapshot, baseline: UpServer | undefined, seconds: number): ServerRates {
  if (!server.up) {
    return { url: server.url, up: false, error: server.error, ...zeroRates(), producers: 0, workers: 0, waiting: 0, connections: 0 };
  }
  const now = server.stats;
  const old = baseline?.stats;
  return {
    url: server.url,
    up: true,
    stats: now,
    putsPerSecond: old === undefined ? 0 : rate(now.totalJobs, old.totalJobs, seconds),
    reservesPerSecond: old === undefined ? 0 : rate(reserves(now), reserves(old), seconds),
    deletesPerSecond: old === undefined ? 0 : rate(now.cmdDelete, old.cmdDelete, seconds),
    producers: now.currentProducers,
    workers: now.currentWorkers,
    waiting: now.currentWaiting,
    connections: now.currentConnections,
  };
}

function reserves(stats: ServerStats): number {
  return stats.cmdReserve + stats.cmdReserveWithTimeout;
}

function zeroRates(): Pick<ServerRates, 'putsPerSecond' | 'reservesPerSecond' | 'deletesPerSecond'> {
  return { putsPerSecond: 0, reservesPerSecond: 0, deletesPerSecond: 0 };
}

/** Per second; a counter that went down (its tube or server started again) gives 0, never a negative rate. */
function rate(now: number, before: number, seconds: number): number {
  if (seconds <= 0 || now < before) return 0;
  return (now - before) / seconds;
}

/** A tube's row before any server's figures are added to it. */
export function emptyRow(name: string): TubeRates {
  return {
    name,
    ready: 0,
    reserved: 0,
    delayed: 0,
    buried: 0,
    urgent: 0,
    waiting: 0,
    pausedSecondsLeft: 0,
    total: 0,
    putsPerSecond: 0,
    deletesPerSecond: 0,
    history: [],
    servers: [],
  };
}

function addTube(row: TubeRates, tube: TubeStats, url: string): void {
  row.ready += tube.currentJobsReady;
  row.reserved += tube.currentJobsReserved;
  row.delayed += tube.currentJobsDelayed;
  row.buried += tube.currentJobsBuried;
  row.urgent += tube.currentJobsUrgent;
  row.waiting += tube.currentWaiting;
  row.pausedSecondsLeft = Math.max(row.pausedSecondsLeft, tube.pauseTimeLeft);
  row.total += tube.totalJobs;
  row.servers.push(url);
}

function held(tube: TubeRates): number {
  return tube.ready + tube.reserved + tube.delayed + tube.buried;
}

function busiestFirst(a: TubeRates, b: TubeRates): number {
  const activity = b.putsPerSecond + b.deletesPerSecond - (a.putsPerSecond + a.deletesPerSecond);
  if (activity !== 0) return activity;
  const jobs = held(b) - held(a);
  if (jobs !== 0) return jobs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

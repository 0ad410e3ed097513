/**
 * One trial: a fresh server (two for the cluster case), the tube filled if the case reserves (or
 * the tubes laid out, with buried jobs and gaps, for the scan and bulk-delete cases: scan-fill.ts;
 * 1,000 tubes of jobs in varied states for the overview case: overview-fill.ts),
 * the client measured in a child process of its own, then the checks (bodies each seen exactly once
 * and intact, on whichever server; server counters, summed over the servers). Where all the case's
 * jobs sit in the servers at once (after the fill, or after the client's puts), the servers' RSS is
 * read with them and without, for their memory per job.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bodyIndex, envelopeIndex, Tally, tallyProblem, type TallySummary } from './bodies.js';
import { isFilledWork, isScanWork, serverCount, tubeOf, type Plan } from './cases.js';
import { fillForOverview, overviewServerProblem } from './overview-fill.js';
import { pin, type Placement } from './placement.js';
import type { RawClient } from './raw-client.js';
import { fillForScan, scanServerProblem } from './scan-fill.js';
import { checkCounters, drain, freshServer, openChecker, prefill, rssKb, type BenchServer, type ServerKind } from './server.js';
import type { ChildResult, ChildTask, RefreshTimes } from './task.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

export interface TrialOptions {
  server: ServerKind;
  /** A child still running after this long is killed and the trial fails. */
  timeoutMs: number;
  /** Where `node --cpu-prof` writes the child's profile; null for no profile. */
  profileDir: string | null;
  placement: Placement;
  /** `--baseline DIR`, passed on to the child; null without it. */
  baselineDir: string | null;
}

export interface TrialResult {
  jobsPerSec: number;
  cpuUsPerJob: number;
  rssMb: number;
  /**
   * The server's CPU time over the timed part, over its length: 1.0 is one core busy throughout
   * (beanstalkd has one thread; the embedded server's GC and I/O threads can take it past 1.0).
   * With several servers, their times summed (so up to 2.0 for two beanstalkds). Null where /proc
   * cannot tell.
   */
  serverBusy: number | null;
  /** The server's CPU time per timed job, in µs; null where /proc cannot tell. */
  serverCpuUsPerJob: number | null;
  /** The server's RSS before any job was put, in MB; null where /proc cannot tell. */
  serverEmptyRssMb: number | null;
  /**
   * What the server's RSS grew by with every job of the run stored (warm-up included), scaled to
   * 100,000 jobs, in MB; null where no moment holds them all (the worker case) or /proc cannot tell.
   * For a Node server this includes the heap's one-off growth (its young generation, headroom), so it
   * reads high when few jobs are stored.
   */
  serverMbPer100kJobs: number | null;
  /** Worker case: the rate of enqueueing with defineJob, timed apart. */
  enqueuePerSec: number | null;
  /** Overview case (k): its times per request; null elsewhere. */
  refresh: RefreshTimes | null;
  /** Why the trial does not count, or null. */
  failure: string | null;
}

export async function runTrial(client: string, plan: Plan, options: TrialOptions): Promise<TrialResult> {
  const servers: BenchServer[] = [];
  // The warm-up's jobs are checked like the timed ones.
  const allJobs = plan.warmup + plan.jobs;
  const tube = tubeOf(plan);
  try {
    // One after another, so that a server that fails to start leaves the others in `servers` to kill.
    const count = serverCount(plan);
    while (servers.length < count) servers.push(await freshServer(options.server));
    for (const server of servers) pin(server.pid, options.placement, 'server');
    const pids = servers.map((server) => server.pid);
    const emptyKb = summedRssKb(pids);
    // Only the one-server cases reserve or scan.
    if (plan.kind === 'reserve') await prefill((servers[0] as BenchServer).port, allJobs);
    if (isScanWork(plan)) await fillForScan((servers[0] as BenchServer).port, plan);
    if (plan.kind === 'overview') await fillForOverview((servers[0] as BenchServer).port, plan);
    const checkers = await Promise.all(servers.map((server) => openChecker(server.port, tube)));
    if (isFilledWork(plan)) {
      const unfilled = await layoutProblem(checkers[0] as RawClient, plan, 'before');
      if (unfilled !== null) throw new Error(`the fill went wrong: ${unfilled}`);
    }
    // (k) stores jobs in another unit than its count (tubes): no memory per job from it.
    let fullKb = plan.kind === 'reserve' || isScanWork(plan) ? summedRssKb(pids) : null;
    const task: ChildTask = { client, plan, ports: servers.map((server) => server.port), serverPids: pids, baselineDir: options.baselineDir };
    const result = await runChild(task, options);
    const puts = plan.kind === 'put' || plan.kind === 'enqueue' || plan.kind === 'cluster-put';
    // The client has put every job and gone (unless it failed); the drain below takes them out.
    if (puts && result.error === null) fullKb = summedRssKb(pids);
    let tally: TallySummary | null = result.tally;
    let spread: string | null = null;
    if (puts) {
      const shared = new Tally(allJobs);
      const indexOf = plan.kind === 'enqueue' ? (body: Buffer) => envelopeIndex(body, tube) : bodyIndex;
      const held = await Promise.all(checkers.map((checker) => drain(checker, shared, indexOf)));
      tally = shared.summary();
      spread = unevenSpread(held);
    }
    // The scan and overview cases check their replies in the child and the server's counters here; no bodies come back.
    const counters = isFilledWork(plan)
      ? await layoutProblem(checkers[0] as RawClient, plan, 'after')
      : await checkCounters(checkers, allJobs, tube);
    await Promise.all(checkers.map((checker) => checker.close()));
    const bodies = isFilledWork(plan) ? null : tally === null ? 'no bodies were checked' : tallyProblem(tally);
    const problems = [result.error, bodies, counters, spread].filter((problem) => problem !== null);
    const timing = result.timing;
    // Per job, or per what the child counted instead (ids asked about, in the scan case).
    const units = result.units ?? plan.jobs;
    return {
      jobsPerSec: timing === null ? 0 : units / (timing.elapsedMs / 1000),
      cpuUsPerJob: timing === null ? 0 : timing.cpuUs / units,
      rssMb: result.maxRssKb / 1024,
      serverBusy: timing === null || timing.serverCpuNs === null ? null : timing.serverCpuNs / 1e6 / timing.elapsedMs,
      serverCpuUsPerJob: timing === null || timing.serverCpuNs === null ? null : timing.serverCpuNs / 1000 / units,
      serverEmptyRssMb: emptyKb === null ? null : emptyKb / 1024,
      serverMbPer100kJobs: emptyKb === null || fullKb === null ? null : ((fullKb - emptyKb) / 1024) * (100_000 / allJobs),
      enqueuePerSec: result.enqueue === null ? null : plan.jobs / (result.enqueue.elapsedMs / 1000),
      refresh: result.refresh ?? null,
      failure: problems.length === 0 ? null : problems.join('; '),
    };
  } catch (error) {
    // The harness itself failed (filling, draining or reading the server): the trial does not count.
    const failure = `harness: ${error instanceof Error ? error.message : String(error)}`;
    return {
      jobsPerSec: 0,
      cpuUsPerJob: 0,
      rssMb: 0,
      serverBusy: null,
      serverCpuUsPerJob: null,
      serverEmptyRssMb: null,
      serverMbPer100kJobs: null,
      enqueuePerSec: null,
      refresh: null,
      failure,
    };
  } finally {
    await Promise.all(servers.map((server) => server.kill()));
  }
}

/** What the server's counters say against the layout the parent filled, or null when they agree. */
function layoutProblem(checker: RawClient, plan: Extract<Plan, { kind: 'scan' | 'bulk-delete' | 'overview' }>, moment: 'before' | 'after'): Promise<string | null> {
  return plan.kind === 'overview' ? overviewServerProblem(checker, plan, moment) : scanServerProblem(checker, plan, moment);
}

/** The servers' RSS summed, in KiB; null where /proc cannot tell for one of them. */
function summedRssKb(pids: readonly number[]): number | null {
  const sizes = pids.map(rssKb);
  return sizes.includes(null) ? null : (sizes as number[]).reduce((sum, size) => sum + size, 0);
}

/**
 * With several servers, round robin should give each its share: a server far off it (under 40% of
 * an even share) means the case did not measure what it says. Null when it did.
 */
function unevenSpread(held: readonly number[]): string | null {
  if (held.length < 2) return null;
  const share = held.reduce((sum, count) => sum + count, 0) / held.length;
  return held.some((count) => count < 0.4 * share) ? `uneven spread over the servers: ${held.join(' / ')} jobs` : null;
}

function runChild(task: ChildTask, options: TrialOptions): Promise<ChildResult> {
  const execArgv = ['--no-deprecation'];
  if (options.profileDir !== null) {
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${task.client}-${Date.now()}.cpuprofile`);
  }
  const child = fork(CHILD, [JSON.stringify(task)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // Before the child has connected: loading its modules takes far longer than this.
  pin(child.pid, options.placement, 'client');
  return new Promise((resolve) => {
    let result: ChildResult | null = null;
    const failed = (error: string): ChildResult => ({ timing: null, tally: null, enqueue: null, maxRssKb: 0, error });
    const timer = setTimeout(() => {
      result ??= failed(`timed out after ${options.timeoutMs / 1000} s`);
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('message', (message) => {
      result ??= message as ChildResult;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(result ?? failed(`the child exited (${signal ?? code}) without a result`));
    });
  });
}

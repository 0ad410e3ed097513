/**
 * End to end under load (issue 13): three servers, one of them a beanstalkd with a binlog; a Cluster
 * puts defineJob jobs at a steady rate while a Worker given all three servers runs them. The binlog
 * server is killed with SIGKILL mid-load and later restarted on its port with its binlog.
 *
 * What must hold: no put issued once the cluster has said the server is down is refused; the worker
 * goes on with the other two meanwhile; once the server is back, the jobs its binlog kept are run;
 * at the end every acknowledged put has run exactly once, but for jobs the crashed server had handed
 * out and not yet seen deleted (its binlog gives them back as ready: they run again after the
 * restart, "ran twice after the crash"). Puts refused as maybe applied are counted: such a job may
 * or may not exist, and runs at most once if it does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ConnectionError, TimeoutError, type Cluster, type JobContext, type JobDefinition } from '../../src/index.js';
import { clusterFor, nextEvent, ownServers } from '../helpers/cluster.js';
import { durableServer } from '../helpers/durable.js';
import { within } from '../helpers/harness.js';
import { NEEDS_BEANSTALKD, uniqueTube } from '../helpers/server.js';
import { BOUND, jobOn, runWorker, untilStats } from '../helpers/worker.js';

/** The producer puts BATCH jobs every TICK_MS: about 1,000 a second, steadily, whatever the servers do. */
const TICK_MS = 10;
const BATCH = 10;
/** Jobs acknowledged before the worker starts: a backlog on every server, so the crash finds jobs waiting. */
const BACKLOG = 900;
/** The handler's work: long enough that some jobs are being run (reserved) when the server dies. */
const WORK_MS = 2;
/** Slots per server; at most this many jobs run at once across the three. */
const CONCURRENCY = 4;
/** Cluster retries quick enough to see the server come back within the test. */
const QUICK_RETRY = { minDelayMs: 20, maxDelayMs: 250 };
/** How long the end (the backlog and whatever the binlog gave back) may take to be worked off. */
const DRAIN_MS = 12_000;

interface Run {
  readonly server: string;
  readonly id: number;
  readonly jid: string;
  /** performance.now() when the handler began. */
  readonly at: number;
}

type Outcome =
  | { readonly kind: 'pending' }
  | { readonly kind: 'acked'; readonly server: string; readonly id: number; readonly jid: string }
  /** ConnectionError with maybeApplied, or TimeoutError: written when the server failed; the job may exist. */
  | { readonly kind: 'maybe'; readonly error: Error }
  /** Anything else: a put that certainly failed (there should be none). */
  | { readonly kind: 'refused'; readonly error: unknown };

/**
 * Every put by sequence number and every run of a handler, with running counts so that a wait can
 * check its condition on every event at no cost, and waits that wake on those events.
 */
class Load {
  readonly puts: Outcome[] = [];
  readonly runs = new Map<number, Run[]>();
  private readonly ackedBy = new Map<string, number>();
  private readonly ranBy = new Map<string, number>();
  /** Acknowledged puts whose job has not run yet. */
  private unrun = 0;
  private readonly waiters = new Set<() => void>();

  /** The next sequence number, as a put is issued. */
  issue(): number {
    this.puts.push({ kind: 'pending' });
    return this.puts.length - 1;
  }

  get issued(): number {
    return this.puts.length;
  }

  settle(seq: number, outcome: Outcome): void {
    this.puts[seq] = outcome;
    if (outcome.kind === 'acked') {
      this.ackedBy.set(outcome.server, this.ackedOn(outcome.server) + 1);
      if (!this.runs.has(seq)) this.unrun += 1;
    }
    this.wake();
  }

  ran(seq: number, context: JobContext): void {
    const runs = this.runs.get(seq) ?? [];
    // A job can run before its put resolves here: its reply and the reserve come on different connections.
    if (runs.length === 0 && this.puts[seq]?.kind === 'acked') this.unrun -= 1;
    runs.push({ server: context.server, id: context.id, jid: context.jid, at: performance.now() });
    this.runs.set(seq, runs);
    this.ranBy.set(context.server, this.ranOn(context.server) + 1);
    this.wake();
  }

  ackedOn(server: string): number {
    return this.ackedBy.get(server) ?? 0;
  }

  ranOn(server: string): number {
    return this.ranBy.get(server) ?? 0;
  }

  get acked(): number {
    return [...this.ackedBy.values()].reduce((sum, count) => sum + count, 0);
  }

  get waitingToRun(): number {
    return this.unrun;
  }

  /** Acknowledged puts on `server` whose job has not run yet, by sequence number. */
  notRunOn(server: string): number[] {
    return this.puts.flatMap((outcome, seq) => (outcome.kind === 'acked' && outcome.server === server && !this.runs.has(seq) ? [seq] : []));
  }

  /** Resolves once `check` holds, checked on every put and run; rejects after `ms`. */
  until(check: () => boolean, what: string, ms = BOUND): Promise<void> {
    const reached = new Promise<void>((resolve) => {
      const wake = (): void => {
        if (!check()) return;
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      wake();
    });
    return within(reached, ms, `${what} (${this.issued} issued, ${this.acked} acknowledged, ${this.unrun} of them not run yet)`);
  }

  private wake(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

interface Producer {
  /**
   * Calls `then` once, in the turn after the next batch is issued: by then its puts are written (the
   * client flushes on nextTick) and being answered, so a crash from `then` may catch some in flight.
   */
  afterNextBatch(then: () => void): void;
  /** Stops issuing, and resolves once every put issued has settled. */
  stop(): Promise<void>;
}

/** BATCH puts every TICK_MS through the cluster, each job carrying its sequence number. */
function produce(load: Load, cluster: Cluster, job: JobDefinition<{ seq: number }>): Producer {
  const inFlight = new Set<Promise<void>>();
  let hook: (() => void) | null = null;
  const timer = setInterval(() => {
    for (let n = 0; n < BATCH; n += 1) {
      const seq = load.issue();
      const put: Promise<void> = job.enqueue(cluster, { seq }).then(
        ({ server, id, jid }) => load.settle(seq, { kind: 'acked', server: server as string, id, jid }),
        (error: unknown) => {
          const maybe = (error instanceof ConnectionError && error.maybeApplied) || error instanceof TimeoutError;
          load.settle(seq, maybe ? { kind: 'maybe', error: error as Error } : { kind: 'refused', error });
        },
      );
      inFlight.add(put);
      void put.finally(() => inFlight.delete(put));
    }
    const then = hook;
    hook = null;
    if (then !== null) setImmediate(then);
  }, TICK_MS);
  let stopped: Promise<void> | null = null;
  return {
    afterNextBatch(then) {
      hook = then;
    },
    stop() {
      clearInterval(timer);
      stopped ??= within(Promise.all([...inFlight]).then(() => undefined), BOUND, 'the puts in flight settling');
      return stopped;
    },
  };
}

test(
  'three servers under steady load, the binlog one SIGKILLed and restarted: ' +
    'no put refused once the failure is known, every acknowledged job done once',
  { skip: NEEDS_BEANSTALKD, timeout: 30_000 },
  async (t) => {
    const durable = await durableServer(t);
    const [first, second] = await ownServers(t, 2);
    if (first === undefined || second === undefined) return;
    const urls = [durable.url, first.url, second.url];
    const others = [first.url, second.url];
    const tube = uniqueTube('load');
    const load = new Load();
    const job = jobOn<{ seq: number }>(tube, async ({ seq }, context) => {
      load.ran(seq, context);
      await delay(WORK_MS);
    });

    const cluster = await clusterFor(t, { servers: urls, retry: QUICK_RETRY });
    const downs: { server: string; error: Error; afterSeq: number; at: number }[] = [];
    const ups: { server: string; at: number }[] = [];
    // Synchronous: every put issued from here on was issued once the cluster knew.
    cluster.on('server:down', ({ server, error }) => downs.push({ server, error, afterSeq: load.issued, at: performance.now() }));
    cluster.on('server:up', ({ server }) => ups.push({ server, at: performance.now() }));
    const began = performance.now();
    const producer = produce(load, cluster, job);
    t.after(() => producer.stop().catch(() => undefined));

    // 1. A backlog on every server, then the worker.
    await load.until(() => urls.every((url) => load.ackedOn(url) >= BACKLOG / 3), `${BACKLOG} puts acknowledged, spread`);
    const { events } = await runWorker(t, {
      connection: urls,
      jobs: [job],
      concurrency: CONCURRENCY,
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    });
    await load.until(() => load.ranOn(durable.url) >= 50, 'the worker running jobs of the binlog server');

    // 2. The crash, mid-load: jobs are waiting on the server and some are being run.
    const down = nextEvent(cluster, 'server:down', 'the crashed server marked down');
    let crashAt = 0;
    const crashed = new Promise<void>((resolve, reject) => {
      producer.afterNextBatch(() => {
        crashAt = performance.now();
        durable.crash().then(resolve, reject);
      });
    });
    await within(crashed, BOUND, 'the crash');
    assert.equal((await down).server, durable.url);
    const [known] = downs;
    assert.ok(known !== undefined);
    // Acknowledged, not run: the binlog must give these back.
    const keptByBinlog = load.notRunOn(durable.url);
    assert.ok(keptByBinlog.length > 0, 'the crash found jobs waiting on the server');

    // 3. Down: puts go to the other two, which the worker goes on draining.
    const [ackedOthers, ranOthers] = [others.map((url) => load.ackedOn(url)), others.map((url) => load.ranOn(url))];
    await load.until(
      () =>
        others.every(
          (url, index) => load.ackedOn(url) - (ackedOthers[index] as number) >= 200 && load.ranOn(url) - (ranOthers[index] as number) >= 200,
        ),
      'the other servers taking puts and being worked while one is down',
    );
    const [lost] = await events.until('error');
    assert.ok(lost instanceof ConnectionError, `the worker reported the outage: ${String(lost)}`);
    const downtimeRuns = others.map((url, index) => load.ranOn(url) - (ranOthers[index] as number));

    // 4. Back: the cluster puts to it again and the worker reserves from it again.
    const up = nextEvent(cluster, 'server:up', 'the restarted server marked up');
    const restored = events.until('connection:restored', 1, BOUND);
    const restartAt = performance.now();
    await durable.restart();
    assert.equal((await up).server, durable.url);
    assert.equal((await restored)[0]?.server, durable.url);
    const ackedDurable = load.ackedOn(durable.url);
    await load.until(() => load.ackedOn(durable.url) - ackedDurable >= 200, 'puts to the restarted server');
    await producer.stop();
    const stoppedAt = performance.now();

    // 5. The end: every acknowledged job run, and nothing left on any server (maybe-applied jobs included).
    await load.until(() => load.waitingToRun === 0, 'every acknowledged job run', DRAIN_MS);
    await untilStats(
      () => cluster.statsTube(tube),
      (stats) => stats.currentJobsReady + stats.currentJobsReserved + stats.currentJobsDelayed + stats.currentJobsBuried === 0,
      'the tube empty on every server',
      DRAIN_MS,
    );
    const endedAt = performance.now();

    const result = tally(load, {
      crashed: durable.url,
      restartAt,
      afterSeq: known.afterSeq,
      done: events.of('job:done').map(({ jid }) => jid),
      lost: events.of('job:lost').map(({ jid }) => jid),
    });
    const { acked, maybe, refused, refusedAfter, wrong, ranTwice, doneNotReported } = result;
    const keptRan = keptByBinlog.filter((seq) => (load.runs.get(seq) ?? []).some((run) => run.at > restartAt)).length;
    const maybeRan = maybe.filter((seq) => load.runs.has(seq)).length;
    const ms = (from: number, to: number): string => `${((to - from) / 1000).toFixed(1)} s`;
    t.diagnostic(
      `${load.issued} puts in ${ms(began, stoppedAt)}: ${acked} acknowledged, ${maybe.length} rejected with maybeApplied ` +
        `(${maybeRan} of those jobs existed and ran), ${refused.length} refused; ${refusedAfter.length} of the ${load.issued - known.afterSeq} ` +
        `issued after the server:down were rejected`,
    );
    t.diagnostic(
      `crash at ${ms(began, crashAt)}, marked down ${(known.at - crashAt).toFixed(0)} ms later; down ${ms(crashAt, restartAt)}, ` +
        `during which the other two ran ${downtimeRuns.join(' + ')} jobs; ${keptByBinlog.length} acknowledged jobs were waiting on it, ` +
        `${keptRan} of them ran after the restart`,
    );
    t.diagnostic(
      `runs by server: ${urls.map((url) => `${url === durable.url ? 'binlog' : url.slice(-5)} ${load.ranOn(url)}`).join(', ')}; ${ranTwice.length} ran twice after the crash ` +
        `(reserved when it died: the binlog gives them back as ready); ${events.count('job:lost')} job:lost; ` +
        `${doneNotReported} ran once but were reported lost, not done; all worked off ${ms(stoppedAt, endedAt)} after the producer stopped`,
    );

    assert.deepEqual(refusedAfter.slice(0, 5), [], `${refusedAfter.length} puts issued after the failure was known were rejected`);
    assert.deepEqual(refused.slice(0, 5), [], `${refused.length} puts refused other than as maybe applied`);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} puts not run as they should`);
    assert.equal(keptRan, keptByBinlog.length, 'every job waiting on the server at the crash ran after the restart');
    assert.deepEqual(downs.map(({ server }) => server), [durable.url], 'one server:down, for the crashed server');
    assert.deepEqual(ups.map(({ server }) => server), [durable.url], 'one server:up, for the restarted server');
    assert.equal(events.count('error'), 1, `one worker error for the one outage: ${events.of('error').map(String).join('; ')}`);
    assert.equal(events.count('connection:restored'), 1);
    events.assertNone('job:retry', 'job:buried', 'job:abandoned');
  },
);

interface Tally {
  readonly acked: number;
  /** Puts rejected as maybe applied, by sequence number. */
  readonly maybe: number[];
  /** Puts rejected as certainly not stored. */
  readonly refused: string[];
  /** Puts issued after the server:down that were rejected in any way. */
  readonly refusedAfter: string[];
  /** Every way a put's runs differ from what the crash allows. */
  readonly wrong: string[];
  /** Jobs that ran twice: before the crash, and again after the restart (reserved when it died). */
  readonly ranTwice: number[];
  /** Acknowledged jobs that ran with no job:done: deleted, but the reply lost with the server. */
  readonly doneNotReported: number;
}

interface TallyContext {
  /** The server that crashed. */
  readonly crashed: string;
  readonly restartAt: number;
  /** The first sequence number issued once the cluster said the server was down. */
  readonly afterSeq: number;
  /** The jids of the worker's job:done and job:lost events. */
  readonly done: readonly string[];
  readonly lost: readonly string[];
}

/** Every put against its runs: each acknowledged job once, or twice where the crash allows it. */
function tally(load: Load, context: TallyContext): Tally {
  const doneByJid = new Map<string, number>();
  for (const jid of context.done) doneByJid.set(jid, (doneByJid.get(jid) ?? 0) + 1);
  const lost = new Set(context.lost);
  const result = {
    acked: 0,
    maybe: [] as number[],
    refused: [] as string[],
    refusedAfter: [] as string[],
    wrong: [] as string[],
    ranTwice: [] as number[],
    doneNotReported: 0,
  };
  const twice = (runs: readonly Run[]): boolean => twiceAfterCrash(runs, context.crashed, context.restartAt);
  const described = (runs: readonly Run[]): string => runs.map((run) => `${run.server}#${run.id}`).join(', ');
  for (const [seq, outcome] of load.puts.entries()) {
    const runs = load.runs.get(seq) ?? [];
    if (outcome.kind === 'pending') {
      result.wrong.push(`put ${seq} never settled`);
      continue;
    }
    if (outcome.kind !== 'acked') {
      if (seq >= context.afterSeq) result.refusedAfter.push(`put ${seq}: ${String(outcome.error)}`);
      if (outcome.kind === 'refused') {
        result.refused.push(`put ${seq}: ${String(outcome.error)}`);
        if (runs.length > 0) result.wrong.push(`put ${seq} was refused as not stored, yet ran as ${described(runs)}`);
      } else {
        // Maybe stored: at most once, or twice as any job may after the crash.
        result.maybe.push(seq);
        if (runs.length > 1 && !twice(runs)) result.wrong.push(`maybe-applied put ${seq} ran as ${described(runs)}`);
        else if (runs.length === 2) result.ranTwice.push(seq);
      }
      continue;
    }
    result.acked += 1;
    const elsewhere = runs.filter((run) => run.server !== outcome.server || run.id !== outcome.id || run.jid !== outcome.jid);
    if (elsewhere.length > 0) result.wrong.push(`put ${seq} acknowledged as ${outcome.server}#${outcome.id}, ran as ${described(elsewhere)}`);
    if (runs.length === 0) {
      result.wrong.push(`acknowledged put ${seq} (${outcome.server}#${outcome.id}) never ran`);
    } else if (runs.length > 1 && !twice(runs)) {
      result.wrong.push(`acknowledged put ${seq} ran as ${described(runs)}`);
    } else if (runs.length === 2) {
      result.ranTwice.push(seq);
      if (!lost.has(outcome.jid)) result.wrong.push(`put ${seq} ran twice with no job:lost for its first run`);
    }
    const done = doneByJid.get(outcome.jid) ?? 0;
    if (done > 1) result.wrong.push(`put ${seq}: ${done} job:done events`);
    if (done === 0 && runs.length > 0) result.doneNotReported += 1;
  }
  return result;
}

/** Two runs of one job on the crashed server: one begun before the restart, the other after it. */
function twiceAfterCrash(runs: readonly Run[], server: string, restartAt: number): boolean {
  const [before, after] = runs;
  return (
    runs.length === 2 &&
    before !== undefined &&
    after !== undefined &&
    before.server === server &&
    after.server === server &&
    before.id === after.id &&
    before.at < restartAt &&
    after.at > restartAt
  );
}

/**
 * Durability against a real beanstalkd with a binlog (-b), killed with SIGKILL and restarted on its
 * port with the same binlog. A put the server acknowledged must be there after the restart (SIGKILL
 * ends the process, not the OS: what beanstalkd wrote is in the page cache even when not yet fsynced);
 * jobs keep their states, reserved ones come back ready; a reconnecting producer and running Workers
 * carry on by themselves. A job that runs twice is the at-least-once delivery the protocol gives; an
 * acknowledged job that never runs is a bug.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, ConnectionError, NotFoundError, type Enqueued, type JobState } from '../../src/index.js';
import { connectOnTube } from '../helpers/assertions.js';
import { durableServer } from '../helpers/durable.js';
import { onFreshTube, within } from '../helpers/harness.js';
import { NEEDS_BEANSTALKD, uniqueTube } from '../helpers/server.js';
import { BOUND, jobCounts, jobOn, NO_JOBS, runWorker, untilStats } from '../helpers/worker.js';

/** Jobs put before the crash in the first test: enough that the last ones cannot all be fsynced. */
const JOBS = 3000;
/** Delayed, buried and reserved jobs at the crash, each. */
const SOME = 20;
const HOUR = 3600;

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** What a job should look like after the restart. */
interface Expected {
  readonly body: string;
  readonly state: JobState;
  readonly delay: number;
}

test(`SIGKILL with a binlog: all ${JOBS + 4 * SOME} acknowledged jobs survive; delayed stay delayed, buried stay buried, reserved come back ready`, { skip: NEEDS_BEANSTALKD }, async (t) => {
  const durable = await durableServer(t);
  const { client, tube } = await onFreshTube(t, durable.url);
  const expected = new Map<number, Expected>();
  const put = async (body: string, state: JobState, delay = 0): Promise<number> => {
    const id = await client.put(body, { delay, ttr: HOUR });
    expected.set(id, { body, state, delay });
    return id;
  };
  await Promise.all(range(JOBS).map((i) => put(`ready ${i}`, 'ready')));
  await Promise.all(range(SOME).map((i) => put(`delayed ${i}`, 'delayed', HOUR)));
  const toBury = await Promise.all(range(SOME).map((i) => put(`buried ${i}`, 'buried')));
  // Reserved at the crash: the server gives them back to ready on restart.
  const toHold = await Promise.all(range(SOME).map((i) => put(`reserved ${i}`, 'ready')));
  await Promise.all([...toBury.flatMap((id) => [client.reserveJob(id), client.bury(id)]), ...toHold.map((id) => client.reserveJob(id))]);
  assert.deepEqual(jobCounts(await client.statsTube(tube)), { ready: JOBS, reserved: SOME, delayed: SOME, buried: SOME });
  // A last burst answered right before the kill: in the binlog file, most likely not yet fsynced.
  await Promise.all(range(SOME).map((i) => put(`last ${i}`, 'ready')));

  await durable.crash();
  await durable.restart();
  const after = await connectOnTube(durable.url, tube);
  t.after(() => after.destroy());

  const ids = [...expected.keys()];
  const stats = await Promise.all(ids.map((id) => after.statsJob(id).catch(orNullIf(NotFoundError))));
  const lost = ids.filter((_, i) => stats[i] === null);
  const wrong = ids.flatMap((id, i) => {
    const seen = stats[i];
    const want = expected.get(id) as Expected;
    return seen && (seen.state !== want.state || seen.delay !== want.delay) ? [{ id, want, seen: { state: seen.state, delay: seen.delay } }] : [];
  });
  const report = `${ids.length} jobs acknowledged before the crash, ${lost.length} lost (ids ${lost.slice(0, 20).join(', ')})`;
  t.diagnostic(report);
  assert.equal(lost.length, 0, report);
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} jobs in the wrong state or delay after the restart`);
  assert.deepEqual(jobCounts(await after.statsTube(tube)), { ready: JOBS + 2 * SOME, reserved: 0, delayed: SOME, buried: SOME });

  // Each can be reserved (reserve-job takes a job in any state) with its body intact; then it is deleted.
  const bodies = await Promise.all(ids.map((id) => Promise.all([after.reserveJob(id), after.delete(id)]).then(([job]) => job.body.toString())));
  const changed = ids.filter((id, i) => bodies[i] !== expected.get(id)?.body);
  assert.deepEqual(changed.slice(0, 5), [], `${changed.length} bodies changed across the restart`);
  assert.deepEqual(jobCounts(await after.statsTube(tube)), NO_JOBS);
});

/** How the puts of one producer went: acknowledged (with their jids), or refused, and how. */
class PutTally {
  readonly acknowledged = new Set<string>();
  /** ConnectionError with maybeApplied: written when the connection died; the job may exist. */
  maybeApplied = 0;
  /** ConnectionError, not written: no job. */
  notSent = 0;
  readonly other: unknown[] = [];

  /** Resolves with the number of puts acknowledged, once every one has settled. */
  async wave(count: number, put: () => Promise<Enqueued>): Promise<number> {
    const outcomes = await Promise.all(range(count).map(() => put().then((enqueued) => this.onPut(enqueued), (error: unknown) => this.onError(error))));
    return outcomes.filter(Boolean).length;
  }

  get issued(): number {
    return this.acknowledged.size + this.maybeApplied + this.notSent + this.other.length;
  }

  private onPut({ jid }: Enqueued): true {
    this.acknowledged.add(jid);
    return true;
  }

  private onError(error: unknown): false {
    if (!(error instanceof ConnectionError)) this.other.push(error);
    else if (error.maybeApplied) this.maybeApplied += 1;
    else this.notSent += 1;
    return false;
  }
}

test('a crash under running Workers and a reconnecting producer: no acknowledged job is lost, the workers resume and finish them all', { skip: NEEDS_BEANSTALKD }, async (t) => {
  const durable = await durableServer(t);
  const tube = uniqueTube('crash');
  const runs = new Map<string, number>();
  const job = jobOn<Record<string, never>>(tube, (_args, context) => {
    runs.set(context.jid, (runs.get(context.jid) ?? 0) + 1);
  });
  const { events } = await runWorker(t, {
    connection: durable.url,
    jobs: [job],
    concurrency: 4,
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
  });
  const producer = await Client.connect({ host: '127.0.0.1', port: durable.port, reconnect: true });
  t.after(() => producer.destroy());
  await producer.use(tube);
  const tally = new PutTally();
  const put = (): Promise<Enqueued> => job.enqueue(producer, {});

  assert.equal(await tally.wave(1000, put), 1000, 'puts before the crash');
  await events.until('job:done', 100);
  // The crash comes once the server has answered the first put of a wave: the rest are in flight or unsent.
  const firstAnswered = new Promise<void>((resolve) => {
    void tally.wave(1, put).then(() => resolve());
  });
  const atCrash = tally.wave(499, put);
  await within(firstAnswered, BOUND, 'the first put of the wave');
  // A plain listener: events.once would also listen to 'error', which the lost connection emits.
  const reconnecting = new Promise((resolve) => producer.once('reconnecting', resolve));
  await durable.crash();
  await within(atCrash, BOUND, 'the puts in flight at the crash');
  await within(reconnecting, BOUND, "the producer's 'reconnecting' event");
  // Issued while the server is down: they wait in the producer's queue and go out after the reconnect.
  const downtime = tally.wave(200, put);
  assert.equal(producer.reconnecting, true);
  await durable.restart();
  assert.equal(await within(downtime, BOUND, 'the puts issued during the downtime'), 200, 'puts issued during the downtime');
  assert.equal(await tally.wave(500, put), 500, 'puts after the restart');

  const observer = await connectOnTube(durable.url, tube);
  t.after(() => observer.destroy());
  const unrun = (): string[] => [...tally.acknowledged].filter((jid) => !runs.has(jid));
  const finished = await untilStats(
    () => observer.statsTube(tube),
    (stats) => stats.currentJobsReady + stats.currentJobsReserved + stats.currentJobsDelayed === 0 && unrun().length === 0,
    'every job run and the tube empty',
    15_000,
  ).then(
    () => null,
    (error: Error) => error,
  );

  const lost = unrun();
  const ranTwice = [...runs.values()].filter((count) => count > 1).length;
  const report =
    `${tally.issued} puts: ${tally.acknowledged.size} acknowledged, ${tally.maybeApplied} in flight at the crash (maybeApplied), ` +
    `${tally.notSent} not sent; ${runs.size} jobs ran, ${lost.length} acknowledged ones lost, ${ranTwice} ran twice or more`;
  t.diagnostic(report);
  assert.equal(lost.length, 0, `${report}; lost: ${lost.slice(0, 10).join(', ')}`);
  assert.equal(finished, null, `${report}; ${finished?.message}`);
  assert.deepEqual(tally.other.map(String), [], `errors other than ConnectionError: ${report}`);
  assert.ok(runs.size <= tally.acknowledged.size + tally.maybeApplied, `no job from nowhere: ${report}`);
  assert.deepEqual(jobCounts(await observer.statsTube(tube)), NO_JOBS);
  const other = events.of('error').filter((error) => !(error instanceof ConnectionError));
  assert.deepEqual(other.map(String), [], 'worker errors other than lost connections');
  events.assertNone('job:retry', 'job:buried');
});

/** For `.catch`: null for an error of class `kind`, else the error again. */
function orNullIf(kind: abstract new (...args: never[]) => Error): (error: unknown) => null {
  return (error) => {
    if (error instanceof kind) return null;
    throw error;
  };
}

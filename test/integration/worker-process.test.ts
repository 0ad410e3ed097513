/**
 * The Worker as a process, against real beanstalkd: killed mid-job, stopped by SIGTERM with a job in
 * flight, and left running while its server crashes and comes back. A job may run twice (at least
 * once); none may be lost. Tests synchronise on the JSON lines the fixture worker writes
 * (test/fixtures/worker-process.ts); every wait is bounded, and every process is killed at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enqueue, parseEnvelope, type Client, type Enqueued, type JobState, type JobStats } from '../../src/index.js';
import { JOB_TYPE } from '../fixtures/worker-process-protocol.js';
import { durableServer } from '../helpers/durable.js';
import { connectFor, onFreshTube } from '../helpers/harness.js';
import { NEEDS_BEANSTALKD, sharedServer, uniqueTube } from '../helpers/server.js';
import { BOUND_MS, WorkerProcess } from '../helpers/worker-process.js';

const server = await sharedServer();

/** A handler that outlasts every bound of this file: the run is only ever interrupted. */
const FOREVER_MS = 60_000;

function put(producer: Client, tube: string, count: number, label: string): Promise<Enqueued[]> {
  return Promise.all(Array.from({ length: count }, (_, n) => enqueue(producer, JOB_TYPE, { label, n }, { tube })));
}

/**
 * The job's stats once it is in `state`. The server tells nobody when it takes a job back from a
 * dropped connection, so this asks it, each check one round trip, for at most BOUND_MS.
 */
async function untilState(client: Client, id: number, state: JobState): Promise<JobStats> {
  const deadline = Date.now() + BOUND_MS;
  let stats = await client.statsJob(id);
  while (stats.state !== state) {
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${stats.state}, not ${state}, after ${BOUND_MS} ms`);
    stats = await client.statsJob(id);
  }
  return stats;
}

/** No job left in the tube in any state. */
async function assertTubeEmpty(client: Client, tube: string): Promise<void> {
  const stats = await client.statsTube(tube);
  const left = {
    ready: stats.currentJobsReady,
    reserved: stats.currentJobsReserved,
    delayed: stats.currentJobsDelayed,
    buried: stats.currentJobsBuried,
  };
  assert.deepEqual(left, { ready: 0, reserved: 0, delayed: 0, buried: 0 }, `jobs left in ${tube}`);
}

/** The job is back to ready, untouched: taken back by the server, not failed and re-put by the worker. */
async function assertGivenBack(client: Client, job: Enqueued): Promise<void> {
  const stats = await untilState(client, job.id, 'ready');
  assert.equal(stats.reserves, 1, 'reserved once, by the worker that let it go');
  assert.equal(stats.timeouts, 0, 'given back when the connection closed, not when its TTR ran out');
  const peeked = await client.peek(job.id);
  assert.ok(peeked !== null);
  const parsed = parseEnvelope(peeked.body);
  assert.ok(parsed.ok);
  assert.equal(parsed.envelope.failure, undefined, 'an interrupted run is not a failure');
}

test('a worker killed mid-job: the server takes the job back and another worker process runs it', async (t) => {
  const { client: producer, tube } = await onFreshTube(t, server.url);
  const first = await WorkerProcess.start(t, { url: server.url, tube, hangMs: FOREVER_MS });
  const [job] = await put(producer, tube, 1, 'kill');
  assert.ok(job !== undefined);
  await first.next('start', job.jid);

  assert.deepEqual(await first.kill('SIGKILL'), { code: null, signal: 'SIGKILL' });
  await assertGivenBack(producer, job);

  const second = await WorkerProcess.start(t, { url: server.url, tube });
  const done = await second.next('done', job.jid);
  assert.equal(done.id, job.id, 'the same beanstalkd job, not a copy');
  const runs = [...first.all('start', job.jid), ...second.all('start', job.jid)];
  assert.equal(runs.length, 2, `the handler runs: ${JSON.stringify(runs)}`);
  assert.deepEqual(first.all('done'), []);
  assert.equal(await producer.peek(job.id), null, 'deleted once done');
  await assertTubeEmpty(producer, tube);
});

test('SIGTERM with a handler shorter than the grace period: the job finishes, nothing more is taken, the process exits 0', async (t) => {
  const { client: producer, tube } = await onFreshTube(t, server.url);
  const worker = await WorkerProcess.start(t, { url: server.url, tube, hangMs: 1000, shutdownTimeoutMs: BOUND_MS - 2000 });
  const [running, waiting] = await put(producer, tube, 2, 'term-short');
  assert.ok(running !== undefined && waiting !== undefined);
  await worker.next('start', running.jid);

  worker.signal('SIGTERM');
  assert.deepEqual(await worker.exit(), { code: 0, signal: null }, worker.describe());
  assert.equal(worker.all('done', running.jid).length, 1, worker.describe());
  assert.equal(await producer.peek(running.id), null, 'the finished job is deleted');
  assert.deepEqual(
    worker.all('start').map((line) => line.jid),
    [running.jid],
    'no job is reserved after SIGTERM',
  );
  const untouched = await producer.statsJob(waiting.id);
  assert.deepEqual({ state: untouched.state, reserves: untouched.reserves }, { state: 'ready', reserves: 0 });
});

for (const { handler, stopsOnAbort, code } of [
  // Outlasts the grace period: the exit is forced, and says so.
  { handler: 'a long handler that cannot be cancelled', stopsOnAbort: false, code: 1 },
  // Stops at once, as JobContext.signal advises: "a long job should stop and throw".
  { handler: 'a long handler that stops when context.signal aborts', stopsOnAbort: true, code: 0 },
]) {
  test(`SIGTERM with ${handler}: the job goes back to ready untouched, the process exits ${code}`, async (t) => {
    const { client: producer, tube } = await onFreshTube(t, server.url);
    const worker = await WorkerProcess.start(t, { url: server.url, tube, hangMs: FOREVER_MS, stopsOnAbort, shutdownTimeoutMs: 200 });
    const [job] = await put(producer, tube, 1, 'term-long');
    assert.ok(job !== undefined);
    await worker.next('start', job.jid);

    worker.signal('SIGTERM');
    assert.deepEqual(await worker.exit(), { code, signal: null }, worker.describe());
    const outcomes = [...worker.all('done'), ...worker.all('retry'), ...worker.all('buried')];
    assert.deepEqual(outcomes, [], 'a run cut short by the shutdown is neither done nor failed');
    const abandoned = worker.all('abandoned').map((line) => line.jid);
    assert.deepEqual(abandoned, stopsOnAbort ? [] : [job.jid], 'job:abandoned names the handler left running');
    await assertGivenBack(producer, job);
  });
}

test('the server crashes and restarts under a running worker: it resumes by itself, no job is lost', { skip: NEEDS_BEANSTALKD }, async (t) => {
  const durable = await durableServer(t);
  const { url } = durable;
  const tube = uniqueTube('restart');
  const worker = await WorkerProcess.start(t, { url, tube, hangMs: 300, concurrency: 2 });
  const before = await put(await connectFor(t, url), tube, 6, 'before');
  // Two jobs are running and four are ready when the server dies: all of them are in the binlog.
  await worker.next('start', before[1]!.jid);

  await durable.crash();
  await durable.restart();
  const producer = await connectFor(t, url);
  const after = await put(producer, tube, 4, 'after');
  const jobs = [...before, ...after];
  for (const { jid } of jobs) await worker.next('done', jid);

  const ranTwice = jobs.filter(({ jid }) => worker.all('start', jid).length > 1);
  const ids = ranTwice.map(({ id }) => id).join(', ') || 'none';
  const report = `${jobs.length} jobs, ${ranTwice.length} ran more than once (ids ${ids}); ${worker.describe()}`;
  t.diagnostic(`after the restart: ${jobs.length} jobs done, ${ranTwice.length} ran more than once`);
  const interrupted = new Set(worker.all('lost').map((line) => line.jid));
  assert.ok(interrupted.has(before[0]!.jid), `the job running at the crash is reported lost: ${report}`);
  assert.ok(ranTwice.every(({ jid }) => interrupted.has(jid)), `only jobs running at the crash run twice: ${report}`);
  assert.deepEqual([...worker.all('retry'), ...worker.all('buried')], [], report);
  await assertTubeEmpty(producer, tube);

  assert.deepEqual(await worker.kill('SIGTERM'), { code: 0, signal: null }, 'it still stops cleanly');
});

/**
 * The in-process Worker against a real beanstalkd, one tube per test: throughput and parallelism,
 * one connection per slot, the TTR keep-alive, retries and the dead set, bodies it cannot run, raw
 * handlers, the job context, stop() with and without a grace period, and a server that goes away.
 * Tests wait on the worker's events; where the server is the only witness, they poll its stats.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ConnectionError,
  enqueue,
  InvalidArgumentError,
  NotFoundError,
  parseEnvelope,
  UnhandledJobError,
  Worker,
  type Client,
  type Job,
  type JobContext,
  type JobDefinition,
  type JobEnvelope,
  type JobStats,
} from '../../src/index.js';
import { connectOnTube } from '../helpers/assertions.js';
import { connectFor, onFreshTube, ownServer, rejection, track, untilWaiting, within } from '../helpers/harness.js';
import { freePort, sharedServer, startServer, uniqueTube } from '../helpers/server.js';
import {
  BOUND,
  gateFor,
  jobCounts,
  jobOn,
  NO_JOBS,
  runWorker,
  signalListeners,
  untilConnectedTo,
  untilStats,
  untilTube,
  workerFor,
} from '../helpers/worker.js';

const server = await sharedServer();

/** A failure of a class of its own, so that the recorded errorType can be told from a plain Error. */
class FlakyError extends Error {
  override name = 'FlakyError';
}

/** Puts `count` jobs of `job`, args `{ n }`; resolves with their ids in order. */
async function enqueueMany(job: JobDefinition<{ n: number }>, producer: Client, count: number): Promise<number[]> {
  const enqueued = await Promise.all(Array.from({ length: count }, (_, n) => job.enqueue(producer, { n })));
  return enqueued.map(({ id }) => id);
}

/** Reserves every ready job of the client's watched tubes; resolves with their ids. */
async function takeAllReady(client: Client): Promise<number[]> {
  const ids: number[] = [];
  for (let job = await client.reserveWithTimeout(0); job !== null; job = await client.reserveWithTimeout(0)) ids.push(job.id);
  return ids;
}

/**
 * The sockets and timers this process holds, once those already closing are gone: a destroyed
 * socket's handle is released in the close phase, within two turns of the event loop.
 */
async function openHandles(): Promise<{ sockets: number; timers: number }> {
  for (let turn = 0; turn < 3; turn += 1) await new Promise(setImmediate);
  const resources = process.getActiveResourcesInfo();
  return {
    sockets: resources.filter((name) => name === 'TCPSocketWrap' || name === 'ConnectWrap').length,
    timers: resources.filter((name) => name === 'Timeout').length,
  };
}

function sorted(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}

/** The envelope in a peeked body; fails if there is no job or the body is not an envelope. */
function envelopeOf(job: Job | null): JobEnvelope {
  assert.ok(job !== null, 'no job found');
  const parsed = parseEnvelope(job.body);
  assert.ok(parsed.ok, `not an envelope: ${parsed.ok ? '' : parsed.reason}`);
  return parsed.envelope;
}

test('1,000 jobs at concurrency 10: each runs exactly once, up to 10 at a time, and all are deleted', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const runs = new Map<number, number>();
  let active = 0;
  let mostActive = 0;
  const job = jobOn<{ n: number }>(tube, async ({ n }) => {
    runs.set(n, (runs.get(n) ?? 0) + 1);
    active += 1;
    mostActive = Math.max(mostActive, active);
    await delay(1); // the work, so that runs can overlap
    active -= 1;
  });
  const total = 1000;
  await enqueueMany(job, client, total);
  const { worker, events } = await runWorker(t, { connection: server.url, jobs: [job], concurrency: 10 });
  await events.until('job:done', total, 20_000);
  await within(worker.stop(), BOUND, 'stop()');

  assert.equal(runs.size, total);
  assert.deepEqual([...runs].filter(([, count]) => count !== 1), [], 'jobs that ran other than once');
  assert.equal(events.count('job:start'), total);
  assert.ok(mostActive > 1, `the handler never ran in parallel (most at once: ${mostActive})`);
  assert.ok(mostActive <= 10, `${mostActive} runs at once at concurrency 10`);
  const stats = await client.statsTube(tube);
  assert.deepEqual(jobCounts(stats), NO_JOBS);
  assert.equal(stats.totalJobs, total);
  assert.equal(stats.cmdDelete, total);
  events.assertNone('job:retry', 'job:buried', 'job:lost', 'error');
});

test('each slot has a connection of its own: concurrency 4 adds 4 connections, all waiting in reserve', async (t) => {
  const own = await ownServer(t);
  const { client, tube } = await onFreshTube(t, own.url);
  const before = await client.stats();
  await runWorker(t, { connection: own.url, tubes: [tube], concurrency: 4 });
  const tubeStats = await untilTube(client, tube, (stats) => stats.currentWaiting === 4, 'four slots waiting');
  const after = await client.stats();
  assert.equal(after.currentConnections - before.currentConnections, 4);
  assert.equal(after.currentWorkers - before.currentWorkers, 4);
  assert.equal(tubeStats.currentWatching, 5, 'the four slots and this client watch the tube');
  assert.equal((await client.statsTube('default')).currentWatching, 0, 'the slots watch only the given tubes');
});

test("a slot's delete does not wait behind another slot's blocking reserve", async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const observer = await connectFor(t, server.url);
  // The handler returns only once the other slot is parked in reserve, so the delete comes after it.
  const job = jobOn(tube, () => untilWaiting(observer, tube, 1));
  const { id } = await job.enqueue(client, {});
  const { events } = await runWorker(t, { connection: server.url, jobs: [job], concurrency: 2 });
  const [done] = await events.until('job:done');
  assert.equal(done?.id, id);
  assert.equal(await client.peek(id), null, 'the job is deleted');
  events.assertNone('job:lost', 'error');
});

test('keep-alive: a handler that runs about 3 times its TTR finishes without a second delivery', async (t) => {
  const own = await ownServer(t); // its own server, so that the server-wide job-timeouts count is ours alone
  const { client, tube } = await onFreshTube(t, own.url);
  const observer = await connectFor(t, own.url);
  const runMs = 3200;
  let atTheEnd: JobStats | undefined;
  const job = jobOn(
    tube,
    async (_args, context) => {
      await delay(runMs); // time is the subject here: three TTRs
      atTheEnd = await observer.statsJob(context.id);
    },
    { ttr: 1 },
  );
  const before = await client.stats();
  const { id } = await job.enqueue(client, {});
  const { events } = await runWorker(t, { connection: own.url, jobs: [job] });
  const [done] = await events.until('job:done', 1, runMs + BOUND);

  assert.equal(done?.id, id);
  assert.deepEqual(
    { state: atTheEnd?.state, reserves: atTheEnd?.reserves, timeouts: atTheEnd?.timeouts },
    { state: 'reserved', reserves: 1, timeouts: 0 },
    'the job as the handler ended',
  );
  assert.equal((await client.stats()).jobTimeouts, before.jobTimeouts);
  assert.equal(events.count('job:start'), 1);
  assert.equal(await client.peek(id), null, 'the job is deleted');
  events.assertNone('job:lost', 'job:retry', 'error');
});

test('retry: a job failing on attempts 1 and 2 runs a 3rd time; each copy carries the failure and the same jid', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const observer = await connectFor(t, server.url);
  const runs: { context: JobContext; stored: JobEnvelope }[] = [];
  const startedAt = Date.now();
  const job = jobOn(
    tube,
    async (_args, context) => {
      runs.push({ context, stored: envelopeOf(await observer.peek(context.id)) }); // the copy as the server holds it
      if (context.attempt < 3) throw new FlakyError(`failure on attempt ${context.attempt}`);
    },
    { retry: 5 },
  );
  const enqueued = await job.enqueue(client, { payload: 'kept' });
  const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
  const [done] = await events.until('job:done');

  assert.deepEqual(runs.map(({ context }) => context.attempt), [1, 2, 3]);
  assert.equal(runs[0]?.context.id, enqueued.id);
  assert.equal(runs[0]?.stored.failure, undefined);
  for (const [index, { context, stored }] of runs.entries()) {
    assert.equal(context.jid, enqueued.jid, `attempt ${context.attempt}: jid`);
    assert.equal(stored.jid, enqueued.jid, `attempt ${context.attempt}: stored jid`);
    assert.deepEqual(stored.args, { payload: 'kept' });
    assert.deepEqual(context.envelope, stored, `attempt ${context.attempt}: the context's envelope is the stored copy`);
    if (index === 0) continue;
    const failure = stored.failure;
    assert.ok(failure !== undefined, `attempt ${context.attempt}: no failure recorded`);
    assert.equal(failure.retryCount, index);
    assert.equal(failure.message, `failure on attempt ${index}`);
    assert.equal(failure.errorType, 'FlakyError');
    const failedAt = Date.parse(failure.failedAt);
    assert.ok(failedAt >= startedAt - 1000 && failedAt <= Date.now(), `failedAt ${failure.failedAt}`);
    assert.ok(failure.backtrace !== undefined && failure.backtrace.length > 0, 'no backtrace');
    assert.match(failure.backtrace[0] ?? '', /worker\.test\.js/);
  }

  const retries = events.of('job:retry');
  assert.equal(retries.length, 2);
  for (const [index, retry] of retries.entries()) {
    assert.equal(retry.attempt, index + 1);
    assert.equal(retry.id, runs[index]?.context.id);
    assert.equal(retry.newId, runs[index + 1]?.context.id, 'newId is the copy that ran next');
    assert.notEqual(retry.newId, retry.id);
    assert.equal(retry.delay, 0);
    assert.ok(retry.error instanceof FlakyError);
    assert.equal(retry.error.message, `failure on attempt ${index + 1}`);
  }
  assert.deepEqual({ id: done?.id, jid: done?.jid, attempt: done?.attempt }, { id: runs[2]?.context.id, jid: enqueued.jid, attempt: 3 });
  const stats = await client.statsTube(tube);
  assert.deepEqual(jobCounts(stats), NO_JOBS);
  assert.equal(stats.totalJobs, 3, 'the original and two retried copies');
  events.assertNone('job:buried', 'job:lost', 'error');
});

test('retries exhausted: with retry 1 a failing job runs twice, then is buried with its failure recorded', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const job = jobOn(
    tube,
    (_args, context) => {
      throw new FlakyError(`always fails (attempt ${context.attempt})`);
    },
    { retry: 1 },
  );
  const enqueued = await job.enqueue(client, {});
  const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
  const [buried] = await events.until('job:buried');

  assert.equal(buried?.reason, 'retries-exhausted');
  assert.equal(buried?.jid, enqueued.jid);
  assert.equal(buried?.attempt, 2);
  assert.ok(buried?.error instanceof FlakyError);
  assert.equal(events.count('job:start'), 2);
  assert.equal(events.count('job:retry'), 1);
  const dead = envelopeOf(await client.peekBuried());
  assert.equal(dead.jid, enqueued.jid);
  assert.equal(dead.failure?.retryCount, 2);
  assert.equal(dead.failure?.message, 'always fails (attempt 2)');
  assert.equal(dead.failure?.errorType, 'FlakyError');
  assert.deepEqual(jobCounts(await client.statsTube(tube)), { ...NO_JOBS, buried: 1 }, 'only the dead copy is left');
  // The event names the dead copy, which is what the README tells people to inspect.
  assert.notEqual(buried?.buriedId, buried?.id);
  const deadStats = await client.statsJob(buried?.buriedId ?? 0);
  assert.equal(deadStats.state, 'buried');
  assert.equal(deadStats.tube, tube);
  assert.equal(envelopeOf(await client.peek(buried?.buriedId ?? 0)).jid, enqueued.jid);
  events.assertNone('job:done', 'job:lost', 'error');
});

const unhandled = [
  { name: 'a body that is not JSON', reason: 'malformed', put: (client: Client) => client.put(Buffer.from([0x7b, 0x00, 0xff, 0x0d, 0x0a]), { priority: 5 }) },
  { name: 'JSON that is not an envelope', reason: 'malformed', put: (client: Client) => client.put('{"hello":"world"}', { priority: 5 }) },
  {
    name: 'an envelope of a type the worker does not know',
    reason: 'unknown-type',
    put: async (client: Client) => (await enqueue(client, 'nobody-runs-this', { a: 1 }, { tube: client.using, priority: 5 })).id,
  },
] as const;

for (const { name, reason, put } of unhandled) {
  test(`${name} is buried as it is, with an error event (${reason})`, async (t) => {
    const { client, tube } = await onFreshTube(t, server.url);
    const id = await put(client);
    const original = await client.peek(id);
    const job = jobOn(tube, () => assert.fail('no handler should run'));
    const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
    const [buried] = await events.until('job:buried');
    const [error] = await events.until('error');

    assert.ok(error instanceof UnhandledJobError, `error event: ${String(error)}`);
    assert.equal(error.reason, reason);
    assert.equal(error.id, id);
    assert.equal(buried?.id, id);
    assert.equal(buried?.buriedId, id, 'buried as it is, under its own id');
    assert.equal(buried?.reason, reason);
    assert.equal(buried?.error, error);
    const found = await client.peekBuried();
    assert.equal(found?.id, id);
    assert.deepEqual(found?.body, original?.body, 'buried with its original bytes');
    assert.equal((await client.statsJob(id)).pri, 5, 'and its own priority');
    assert.deepEqual(jobCounts(await client.statsTube(tube)), { ...NO_JOBS, buried: 1 });
    events.assertNone('job:start', 'job:done', 'job:lost');
  });
}

test('a raw handler gets foreign bodies and envelopes of unknown types as { id, body }; success deletes them', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const plain = await client.put('plain text, not from beanline');
  const foreign = await enqueue(client, 'someone-elses-type', { a: 1 }, { tube });
  const foreignBody = (await client.peek(foreign.id))?.body;
  const seen: { id: number; body: Buffer; context: JobContext }[] = [];
  const { events } = await runWorker(t, {
    connection: server.url,
    tubes: [tube],
    handlers: { raw: (job, context) => seen.push({ ...job, context }) },
  });
  const done = await events.until('job:done', 2);

  assert.deepEqual(
    seen.map(({ id, body }) => ({ id, body })),
    [
      { id: plain, body: Buffer.from('plain text, not from beanline') },
      { id: foreign.id, body: foreignBody },
    ],
  );
  for (const { id, context } of seen) {
    assert.deepEqual({ id: context.id, jid: context.jid, attempt: context.attempt }, { id, jid: String(id), attempt: 1 });
    assert.equal(context.envelope, undefined);
  }
  assert.deepEqual(
    done.map(({ id, jid, type }) => ({ id, jid, type })),
    [plain, foreign.id].map((id) => ({ id, jid: String(id), type: undefined })),
  );
  assert.deepEqual(jobCounts(await client.statsTube(tube)), NO_JOBS);
  events.assertNone('job:buried', 'job:retry', 'job:lost', 'error');
});

test('the context: id, jid, attempt, envelope, a working touch(), a log function, a signal that aborts at stop', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const touched = gateFor(t);
  let seen: { context: JobContext; abortedAtFirst: boolean } | undefined;
  const job = jobOn<{ greeting: string }>(tube, async (_args, context) => {
    seen = { context, abortedAtFirst: context.signal.aborted };
    await context.touch(); // TOUCHED comes only for a job this connection holds
    context.log('touched job %d', context.id);
    touched.open();
    await once(context.signal, 'abort'); // a long job that ends when the worker stops
  });
  const enqueued = await job.enqueue(client, { greeting: 'hello' }, { custom: { trace: 'abc' } });
  const { worker, events } = await runWorker(t, { connection: server.url, jobs: [job] });
  await within(touched.promise, BOUND, 'the handler touching its job');
  // A grace period far beyond the bound: only the handler ending on the signal lets stop() resolve in time.
  await within(worker.stop({ timeoutMs: 60_000 }), BOUND, 'stop() with a handler that ends on abort');

  assert.ok(seen !== undefined);
  const { context, abortedAtFirst } = seen;
  assert.deepEqual({ id: context.id, jid: context.jid, attempt: context.attempt }, { id: enqueued.id, jid: enqueued.jid, attempt: 1 });
  assert.deepEqual(
    { type: context.envelope?.type, args: context.envelope?.args, tube: context.envelope?.tube, custom: context.envelope?.custom },
    { type: 'test-job', args: { greeting: 'hello' }, tube, custom: { trace: 'abc' } },
  );
  assert.equal(typeof context.log, 'function');
  assert.equal(abortedAtFirst, false);
  assert.equal(context.signal.aborted, true);
  assert.equal(events.count('job:done'), 1, 'a handler that returns on abort has succeeded');
  assert.equal(await client.peek(enqueued.id), null);
  events.assertNone('job:retry', 'job:lost', 'error');
});

test('a handler that throws once ctx.signal aborts at stop: its job goes back to ready as it was, with job:released', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const job = jobOn(tube, async (_args, context) => {
    await once(context.signal, 'abort');
    throw new Error('interrupted by shutdown');
  });
  const { id } = await job.enqueue(client, {});
  const original = await client.peek(id);
  const { worker, events } = await runWorker(t, { connection: server.url, jobs: [job] });
  await events.until('job:start');
  await within(worker.stop({ timeoutMs: 60_000 }), BOUND, 'stop() with a handler that throws on abort');

  const [released] = await events.until('job:released');
  assert.equal(released?.id, id);
  assert.equal((released?.error as Error | undefined)?.message, 'interrupted by shutdown');
  const stats = await client.statsJob(id);
  assert.deepEqual({ state: stats.state, releases: stats.releases, delay: stats.delay }, { state: 'ready', releases: 1, delay: 0 });
  assert.deepEqual((await client.peek(id))?.body, original?.body, 'no failure recorded');
  events.assertNone('job:done', 'job:retry', 'job:buried', 'job:lost', 'error');
});

test('stop() on an idle worker resolves at once, its reserves end, and it takes no more jobs', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const job = jobOn(tube, () => {});
  const { worker, events } = await runWorker(t, { connection: server.url, jobs: [job], concurrency: 3 });
  await untilTube(client, tube, (stats) => stats.currentWaiting === 3, 'three slots waiting');
  // The default grace period is 30 s: an idle worker must not wait for it.
  await within(worker.stop(), 1000, 'stop() of an idle worker');
  await untilTube(client, tube, (stats) => stats.currentWaiting === 0 && stats.currentWatching === 1, 'the slots gone');
  const { id } = await job.enqueue(client, {});
  assert.equal((await client.statsJob(id)).state, 'ready');
  events.assertNone('job:start', 'error');
});

test('stop() with a long enough grace period lets running handlers finish and deletes their jobs; the rest stay ready', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const finish = gateFor(t);
  const job = jobOn<{ n: number }>(tube, () => finish.promise);
  const put = 5;
  await enqueueMany(job, client, put);
  const { worker, events } = await runWorker(t, { connection: server.url, jobs: [job], concurrency: 3 });
  await events.until('job:start', 3);
  const stopping = track(worker.stop({ timeoutMs: 10_000 }));
  assert.equal((await client.statsTube(tube)).currentJobsReserved, 3);
  assert.equal(stopping.settled, false, 'stop() resolved with handlers running');
  finish.open();
  await within(stopping.promise, BOUND, 'stop() once the handlers finished');

  const stats = await untilTube(client, tube, (tubeStats) => tubeStats.currentJobsReserved === 0, 'no job reserved');
  assert.equal(events.count('job:done'), 3);
  assert.equal(stats.currentJobsReady, put - 3);
  assert.equal(events.count('job:done') + stats.currentJobsReady, put, 'every job is done or ready');
  assert.equal(events.count('job:start'), 3, 'no job started after stop()');
  events.assertNone('job:lost', 'job:retry', 'error');
});

test('stop() with a short grace period resolves after about timeoutMs and gives unfinished jobs back, ready', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const never = gateFor(t);
  const job = jobOn<{ n: number }>(tube, () => never.promise);
  const ids = await enqueueMany(job, client, 4);
  const { worker, events } = await runWorker(t, { connection: server.url, jobs: [job], concurrency: 2 });
  await events.until('job:start', 2);
  const timeoutMs = 300;
  const started = performance.now();
  await within(worker.stop({ timeoutMs }), timeoutMs + BOUND, 'stop() with a short grace period');
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= timeoutMs - 5 && elapsed < timeoutMs + 1000, `stop() took ${elapsed.toFixed(0)} ms`);

  const stats = await untilTube(client, tube, (tubeStats) => tubeStats.currentJobsReserved === 0, 'the running jobs given back');
  assert.equal(stats.currentJobsReady, ids.length, 'every job is ready: put = done (0) + ready');
  assert.deepEqual(sorted(await takeAllReady(client)), sorted(ids));
  const abandoned = events.of('job:abandoned');
  assert.deepEqual(
    sorted(abandoned.map(({ id }) => id)),
    sorted(events.of('job:start').map(({ id }) => id)),
    'one job:abandoned for each handler still running',
  );
  assert.ok(abandoned.every((event) => event.timeoutMs === timeoutMs));
  // The handlers end after their jobs were given back: the outcome is dropped without a word.
  never.open();
  await new Promise(setImmediate);
  events.assertNone('job:done', 'job:retry', 'job:lost', 'error');
});

test('jobs handed to slots as stop() begins go back to ready: every job is done or ready again', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const job = jobOn<{ n: number }>(tube, () => {});
  const { worker, events } = await runWorker(t, { connection: server.url, jobs: [job], concurrency: 4 });
  await untilTube(client, tube, (stats) => stats.currentWaiting === 4, 'four slots waiting');
  // The server hands each job to a waiting slot as the put arrives; stop() comes right behind.
  const ids = await enqueueMany(job, client, 4);
  await within(worker.stop({ timeoutMs: BOUND }), 2 * BOUND, 'stop()');

  await untilTube(client, tube, (stats) => stats.currentJobsReserved === 0 && stats.currentWatching === 1, 'the slots gone');
  const done = events.of('job:done').map(({ id }) => id);
  const back = ids.filter((id) => !done.includes(id));
  t.diagnostic(`done ${done.length}, ready again ${back.length}`);
  const states = await Promise.all(back.map((id) => client.statsJob(id)));
  // A slot that finished its job before stop() has its next reserve waiting: a job another slot's
  // closing connection gives back may reach it before its own connection closes, so a job can be
  // handed over twice. What matters is where it ends: ready, never lost.
  assert.deepEqual(
    states.map(({ state, reserves }) => ({ state, handedOver: reserves >= 1 })),
    back.map(() => ({ state: 'ready', handedOver: true })),
    'the jobs not done were handed to a slot, then came back to ready',
  );
  assert.deepEqual(sorted(await takeAllReady(client)), sorted(back), 'every job is done or ready again');
  events.assertNone('job:lost', 'job:retry', 'job:buried', 'error');
});

test('the server killed and restarted on its port: the worker reports the loss once, its return, and resumes by itself', async (t) => {
  const first = await ownServer(t);
  const tube = uniqueTube();
  const job = jobOn(tube, () => {});
  const { worker, events } = await runWorker(t, {
    connection: first.url,
    jobs: [job],
    concurrency: 2,
    reconnect: { minDelayMs: 20, maxDelayMs: 100 },
  });
  await job.enqueue(await connectFor(t, first.url), {});
  await events.until('job:done');

  await first.kill();
  const [lost] = await events.until('error');
  assert.ok(lost instanceof ConnectionError, `error: ${String(lost)}`);
  const second = await startServer({ port: first.port });
  t.after(() => second.kill());
  const producer = await connectFor(t, second.url);
  const { id } = await job.enqueue(producer, {});
  const [, resumed] = await events.until('job:done', 2);
  assert.equal(resumed?.id, id);
  await untilTube(producer, tube, (stats) => stats.currentWaiting === 2, 'both slots back, waiting in reserve');
  await events.until('connection:restored');
  assert.equal(events.count('error'), 1, 'one report for the outage, not one per slot');
  assert.equal(events.count('connection:restored'), 1);

  await within(worker.stop(), BOUND, 'stop() after the restart');
  await untilStats(() => producer.stats(), (stats) => stats.currentConnections === 1, 'the worker closed its connections');
  const other = events.of('error').filter((error) => !(error instanceof ConnectionError));
  assert.deepEqual(other.map(String), [], 'errors other than lost connections');
  events.assertNone('job:lost', 'job:retry');
});

/** Listens on `port` until one connection comes, drops it, and stops listening. */
async function dropOneConnection(port: number): Promise<void> {
  await dropConnections(port, 1);
}

/** Listens on `port` (a server that is down) until `count` connections have come and been dropped. */
async function dropConnections(port: number, count: number): Promise<void> {
  let accepted = 0;
  let enough!: () => void;
  const dropped = new Promise<void>((resolve) => {
    enough = resolve;
  });
  const dropper = net.createServer((socket) => {
    socket.destroy();
    accepted += 1;
    if (accepted === count) enough();
  });
  dropper.listen(port, '127.0.0.1');
  await once(dropper, 'listening');
  try {
    await within(dropped, BOUND, `${count} connection(s) to drop on port ${port}`);
  } finally {
    dropper.close();
    await once(dropper, 'close');
  }
}

test('an outage seen by 4 slots over many reconnect attempts is one error, then one connection:restored', async (t) => {
  const first = await ownServer(t);
  const tube = uniqueTube();
  const job = jobOn(tube, () => {});
  const { events } = await runWorker(t, {
    connection: first.url,
    jobs: [job],
    concurrency: 4,
    reconnect: { minDelayMs: 5, maxDelayMs: 20 },
  });
  const producer = await connectFor(t, first.url);
  await untilTube(producer, tube, (stats) => stats.currentWaiting === 4, 'four slots waiting');
  producer.destroy();
  await first.kill();
  // While the server is down, something on its port takes every connection and drops it at once:
  // each reconnect attempt of each slot fails, and the test can count them as they come.
  const attempts = 20;
  await dropConnections(first.port, attempts);
  assert.equal(events.count('error'), 1, `one error for the outage: ${events.of('error').map(String).join('; ')}`);
  assert.ok(events.of('error')[0] instanceof ConnectionError);
  events.assertNone('connection:restored');

  const second = await startServer({ port: first.port });
  t.after(() => second.kill());
  const [restored] = await events.until('connection:restored');
  assert.ok((restored?.failedAttempts ?? 0) >= attempts - 4, `failed attempts counted: ${restored?.failedAttempts}`);
  assert.ok((restored?.downMs ?? 0) > 0);
  const back = await connectFor(t, second.url);
  await untilTube(back, tube, (stats) => stats.currentWaiting === 4, 'all four slots back');
  const { id } = await job.enqueue(back, {});
  const [done] = await events.until('job:done');
  assert.equal(done?.id, id);
  assert.equal(events.count('error'), 1, 'still one error');
  assert.equal(events.count('connection:restored'), 1, 'one recovery');
});

/**
 * A job the worker runs while another client takes it: the server was told a TTR of `serverTtr`
 * seconds, the envelope (which the keep-alive goes by) `envelopeTtr`. Resolves once the other client
 * holds the job (for `serverTtr` seconds: it does not touch it), with the worker's handler still
 * running until `finish` opens.
 */
async function takenWhileRunning(t: TestContext, serverTtr: number, envelopeTtr: number) {
  const { client, tube } = await onFreshTube(t, server.url);
  const thief = await connectOnTube(server.url, tube);
  t.after(() => thief.destroy());
  const finish = gateFor(t);
  const job = jobOn(tube, () => finish.promise, { retry: 0 });
  const now = new Date().toISOString();
  const envelope = { jid: 'taken', type: job.type, args: {}, tube, createdAt: now, enqueuedAt: now, retry: 0, priority: 1024, ttr: envelopeTtr, custom: {} };
  const id = await client.put(JSON.stringify(envelope), { ttr: serverTtr });
  const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
  await events.until('job:start');
  const taken = await within(thief.reserve(), BOUND, 'the job, ready again after its TTR');
  assert.equal(taken.id, id);
  return { client, job, id, finish, events };
}

/** After the run of job `id` ended: one job:lost for it, no job:done, and the worker went on to the next job. */
async function assertLostOnce(taken: Awaited<ReturnType<typeof takenWhileRunning>>): Promise<void> {
  const { client, job, id, events } = taken;
  const next = await job.enqueue(client, {});
  const [done] = await events.until('job:done');
  assert.equal(done?.id, next.id, 'the worker goes on, and the lost job is not reported done');
  assert.deepEqual(events.of('job:lost').map((lost) => lost.id), [id], 'one job:lost for the job');
  const stats = await client.statsJob(id);
  assert.deepEqual({ state: stats.state, timeouts: stats.timeouts }, { state: 'reserved', timeouts: 1 }, 'held by the other client');
  events.assertNone('job:retry', 'job:buried', 'error');
}

test('a delete that gets NOT_FOUND (the TTR ran out and another client took the job) is job:lost, not a crash', async (t) => {
  // An envelope TTR of an hour: the keep-alive would touch after 30 min, so only the delete can notice.
  const taken = await takenWhileRunning(t, 1, 3600);
  taken.finish.open();
  const [lost] = await taken.events.until('job:lost');
  assert.equal(lost?.id, taken.id);
  assert.ok(lost?.error instanceof NotFoundError, `job:lost with ${String(lost?.error)}`);
  await assertLostOnce(taken);
});

test('a job the keep-alive finds lost (touch NOT_FOUND) is reported lost once, not again when its run ends', async (t) => {
  // The server takes the job back after 2 s and the other client holds it from then to 4 s; the
  // keep-alive (an envelope TTR of 6 s) touches at 3 s, and the run ends right after.
  const taken = await takenWhileRunning(t, 2, 6);
  const [lost] = await taken.events.until('job:lost', 1, 3000 + BOUND);
  assert.equal(lost?.id, taken.id);
  assert.ok(lost?.error instanceof NotFoundError, `job:lost with ${String(lost?.error)}`);
  assert.equal(taken.events.count('job:done'), 0);
  taken.finish.open();
  await assertLostOnce(taken);
});

test('the constructor refuses a concurrency other than a whole number of 1 or more, and two jobs of one type', () => {
  const isInvalid = (argument: string) => (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
    assert.equal(error.argument, argument);
    return true;
  };
  for (const concurrency of [0, 1.5, -1, Number.NaN]) {
    assert.throws(() => new Worker({ concurrency }), isInvalid('concurrency'), `concurrency ${concurrency}`);
  }
  const twins = [jobOn(uniqueTube(), () => {}), jobOn(uniqueTube(), () => {})];
  assert.throws(() => new Worker({ jobs: twins }), isInvalid('jobs'));
});

test("tubes default to the jobs' tubes, each once (else default), and the worker takes jobs from each", async (t) => {
  const [first, second] = [uniqueTube(), uniqueTube()];
  const ran: string[] = [];
  const jobs = [
    jobOn(first, () => ran.push('a'), { type: 'a' }),
    jobOn(second, () => ran.push('b'), { type: 'b' }),
    jobOn(first, () => ran.push('c'), { type: 'c' }),
  ];
  assert.deepEqual(new Worker({ jobs }).tubes, [first, second]);
  assert.deepEqual(new Worker({ jobs, tubes: [second] }).tubes, [second]);
  assert.deepEqual(new Worker().tubes, ['default']);
  const producer = await connectFor(t, server.url);
  const { events } = await runWorker(t, { connection: server.url, jobs });
  await Promise.all(jobs.map((job) => job.enqueue(producer, {})));
  await events.until('job:done', 3);
  assert.deepEqual(ran.sort(), ['a', 'b', 'c']);
});

test('start() against a closed port rejects with ConnectionError and leaves nothing running', async (t) => {
  const port = await freePort();
  const before = await openHandles();
  const { worker, events } = workerFor(t, { connection: { host: '127.0.0.1', port }, concurrency: 3 });
  const error = await rejection(worker.start(), BOUND, 'start() against a closed port');
  assert.ok(error instanceof ConnectionError, `start() rejected with ${String(error)}`);
  assert.deepEqual(await openHandles(), before, 'sockets or timers left behind');
  await within(worker.stop(), 100, 'stop() after a failed start');
  await assert.rejects(worker.start(), /already/, 'a second start()');
  events.assertNone('job:start', 'error');
});

test('handleSignals: SIGTERM stops the worker, and stopping removes the SIGTERM and SIGINT handlers', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const before = signalListeners();
  const { worker } = await runWorker(t, { connection: server.url, tubes: [tube], concurrency: 2, handleSignals: true });
  const added = signalListeners().filter((listener) => !before.includes(listener));
  assert.equal(added.length, 2, 'one handler for SIGTERM, one for SIGINT');
  await untilTube(client, tube, (stats) => stats.currentWaiting === 2, 'two slots waiting');
  // Call the worker's own handler: emitting SIGTERM on process would reach the test runner's too.
  (added[0] as (signal: NodeJS.Signals) => void)('SIGTERM');
  await untilTube(client, tube, (stats) => stats.currentWatching === 1, 'the slots gone after SIGTERM');
  await within(worker.stop(), BOUND, 'stop() after SIGTERM');
  assert.deepEqual(signalListeners(), before);
});

test('stop() while start() is connecting: the slots close at once and no signal handler is left installed', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const before = signalListeners();
  t.after(() => {
    for (const listener of signalListeners().filter((added) => !before.includes(added))) {
      process.removeListener('SIGTERM', listener as () => void);
      process.removeListener('SIGINT', listener as () => void);
    }
  });
  const { worker, events } = workerFor(t, { connection: server.url, tubes: [tube], concurrency: 2, handleSignals: true });
  const starting = worker.start();
  const stopping = worker.stop();
  await within(Promise.allSettled([starting, stopping]), BOUND, 'start() and stop()');
  await untilTube(client, tube, (stats) => stats.currentWatching === 1, 'the slots gone');
  assert.equal((await client.statsTube(tube)).currentWaiting, 0);
  assert.deepEqual(signalListeners(), before, 'signal handlers of a stopped worker left on the process');
  events.assertNone('job:start', 'error');
});

test('stop() while a slot is reconnecting: once connected the slot closes instead of reserving', async (t) => {
  const first = await ownServer(t);
  // Reconnects after a loss: one at once, then one every 0.5 to 1 s, time enough to set the trap below.
  const { worker, events } = await runWorker(t, {
    connection: first.url,
    tubes: [uniqueTube()],
    reconnect: { minDelayMs: 1000, maxDelayMs: 1000 },
  });
  await first.kill();
  // The immediate reconnect finds something on the port that drops it: then the next attempt is
  // 0.5 to 1 s away, time enough to set the trap below.
  await dropOneConnection(first.port);
  await events.until('error');
  const second = await startServer({ port: first.port });
  t.after(() => second.kill());
  // A stopped server still completes TCP handshakes (the kernel does) but answers nothing: the next
  // reconnect connects and then waits for the replies to its watch and ignore.
  process.kill(second.pid as number, 'SIGSTOP');
  await untilConnectedTo(second.port, 2000 + BOUND);
  const started = performance.now();
  const stopping = worker.stop({ timeoutMs: 2500 });
  process.kill(second.pid as number, 'SIGCONT');
  const observer = await connectFor(t, second.url);
  await within(stopping, 2500 + BOUND, 'stop()');
  const elapsed = performance.now() - started;

  const stats = await untilStats(() => observer.stats(), (server) => server.currentConnections === 1, "the slot's connection closed");
  assert.equal(stats.cmdReserve, 0, 'the slot reserved on the connection it made after stop() began');
  assert.ok(elapsed < 1500, `stop() took ${elapsed.toFixed(0)} ms: it waited for the grace period`);
});

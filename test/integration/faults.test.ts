/**
 * Faults on the path to a real beanstalkd, injected by a proxy while pipelined puts, blocking
 * reserves and worker loops are in flight: replies byte by byte, many replies in one chunk,
 * latency, a stall, cuts. Each test checks that every promise settles (within a bound) and that
 * the results are right.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import { Client, ConnectionError, TimeoutError } from '../../src/index.js';
import { assertIncreasing, BOUND, onTubeBehindProxy, outcome, type Proxied } from '../helpers/faults.js';
import { connectFor, rejection, untilWaiting, within } from '../helpers/harness.js';
import { serverForFile } from '../helpers/server.js';
import { jobCounts, jobOn, NO_JOBS, runWorker, untilTube } from '../helpers/worker.js';

const server = await serverForFile();

const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, b) => b));

/** A body of job `i` that must come back intact: CRLF, NUL, something like a reply line, every byte value. */
function binaryBody(i: number): Buffer {
  return Buffer.concat([Buffer.from(`job ${i}\r\nRESERVED 1 5\r\n`), Buffer.from([0, 13, 10, 255, i % 256]), EVERY_BYTE]);
}

/** Waits (bounded) for every promise to settle; resolves with how each did. */
function settleAll<T>(promises: readonly Promise<T>[], what: string, ms = BOUND): Promise<PromiseSettledResult<T>[]> {
  return within(Promise.allSettled(promises), ms, `every ${what} settling`);
}

/**
 * Issues `count` puts in one tick; resolves with their ids once all resolved, checking they resolved
 * in the order issued, with increasing ids.
 */
async function pipelinedPuts(client: Client, count: number, body: (i: number) => Buffer | string, ms = BOUND): Promise<number[]> {
  const order: number[] = [];
  const puts = Array.from({ length: count }, (_, i) =>
    client.put(body(i)).then((id) => {
      order.push(i);
      return id;
    }),
  );
  const settled = await settleAll(puts, 'put', ms);
  const failed = settled.filter((put) => put.status === 'rejected');
  assert.deepEqual(failed.map(outcome), [], 'puts that failed');
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'the puts resolved out of order');
  const ids = settled.map((put) => (put as PromiseFulfilledResult<number>).value);
  assertIncreasing(ids);
  return ids;
}

/** Reserves the ready jobs `ids` (the oldest) with pipelined reserves, checks each body against `body(id)`, deletes them. */
async function reserveAll(client: Client, ids: readonly number[], body: (id: number) => Buffer): Promise<void> {
  const jobs = await settleAll(ids.map(() => client.reserve()), 'reserve');
  assert.deepEqual(jobs.filter((job) => job.status === 'rejected').map(outcome), [], 'reserves that failed');
  const reserved = jobs.map((job) => (job as PromiseFulfilledResult<{ id: number; body: Buffer }>).value);
  assert.deepEqual(reserved.map((job) => job.id), ids, 'jobs reserved in the order they were put');
  reserved.forEach((job) => assert.ok(job.body.equals(body(job.id)), `the body of job ${job.id} came back changed`));
  await within(Promise.all(ids.map((id) => client.delete(id))), BOUND, 'the deletes');
}

test('byte by byte: 1,000 pipelined puts resolve in order; reserved and peeked bodies (binary, 16 KiB) are intact', async (t) => {
  const { proxy, client } = await onTubeBehindProxy(t, server);
  await client.put('warm-up'); // max-job-size read before the fault
  await client.delete((await client.reserve()).id);
  proxy.byteByByte(true);
  const writesBefore = proxy.writesToClients;

  // About 15,000 bytes of replies, one event-loop turn each: slow on a busy machine.
  const ids = await pipelinedPuts(client, 1000, binaryBody, 3 * BOUND);
  const replyBytes = ids.reduce((sum, id) => sum + `INSERTED ${id}\r\n`.length, 0);
  assert.ok(proxy.writesToClients - writesBefore >= replyBytes, 'the replies did not come one byte per write');

  const bodyOf = (id: number): Buffer => binaryBody(ids.indexOf(id));
  const peeked = await within(Promise.all(ids.slice(0, 20).map((id) => client.peek(id))), BOUND, 'the peeks');
  peeked.forEach((job, i) => assert.ok(job?.body.equals(bodyOf(ids[i] as number)), `peek ${ids[i]}: the body came back changed`));
  await reserveAll(client, ids.slice(0, 20), bodyOf);

  const large = randomBytes(16 * 1024);
  const id = await client.put(large);
  assert.ok((await within(client.peek(id), BOUND, 'peek of a 16 KiB body'))?.body.equals(large), 'the 16 KiB body came back changed');
});

test('coalesced: many replies of different kinds in one chunk are each matched to their command', async (t) => {
  const { proxy, client, tube } = await onTubeBehindProxy(t, server);
  await client.put('warm-up');
  await client.delete((await client.reserve()).id);
  proxy.coalesce(true, 20);
  const writesBefore = proxy.writesToClients;

  const ids = await pipelinedPuts(client, 1000, (i) => `coalesced ${i}`);
  const chunks = proxy.writesToClients - writesBefore;
  assert.ok(chunks <= 100, `1,000 replies came in ${chunks} chunks: not coalesced`);

  // Replies with and without data blocks, of every shape, interleaved in one burst.
  const mixed = ids.slice(0, 200).map((id, i) =>
    Promise.all([client.peek(id), client.statsJob(id), client.listTubeUsed()]).then(([job, stats, used]) => {
      assert.equal(job?.body.toString(), `coalesced ${i}`, `peek ${id}`);
      assert.deepEqual({ id: stats.id, tube: stats.tube, used }, { id, tube, used: tube }, `stats-job ${id}`);
    }),
  );
  const failed = (await settleAll(mixed, 'command of the mixed burst')).filter((result) => result.status === 'rejected');
  assert.deepEqual(failed.map(outcome), [], 'mismatched or failed replies');
  await reserveAll(client, ids.slice(0, 100), (id) => Buffer.from(`coalesced ${ids.indexOf(id)}`));
});

test('latency (20 ms each way): pipelined puts, pipelined reserves and a blocking reserve all come out right', async (t) => {
  const { proxy, client: producer, tube } = await onTubeBehindProxy(t, server);
  const consumer = await connectFor(t, proxy.url);
  await consumer.watch(tube);
  await consumer.ignore('default');
  await producer.put('warm-up');
  await consumer.delete((await consumer.reserve()).id);
  proxy.latency(20);
  const started = Date.now();
  await producer.listTubeUsed();
  assert.ok(Date.now() - started >= 38, `a round trip took ${Date.now() - started} ms: the latency is not in force`);

  const ids = await pipelinedPuts(producer, 300, binaryBody);
  await reserveAll(consumer, ids, (id) => binaryBody(ids.indexOf(id)));

  const waiting = consumer.reserve();
  await within(untilWaiting(producer, tube), BOUND, 'the reserve waiting');
  const id = await producer.put('late');
  const job = await within(waiting, BOUND, 'the blocking reserve');
  assert.deepEqual({ id: job.id, body: job.body.toString() }, { id, body: 'late' });
});

/**
 * With the proxy stalled, `stats` gets no reply: it fails with TimeoutError after commandTimeoutMs,
 * the command behind it with ConnectionError (maybe applied), and the connection closes.
 */
async function stalledStats(proxied: Proxied, commandTimeoutMs: number): Promise<void> {
  const { proxy, client } = proxied;
  await client.put('warm-up');
  proxy.stall();
  const stats = rejection(client.stats(), BOUND, 'stats while stalled');
  const behind = rejection(client.put('behind it'), BOUND, 'the put behind it');
  const timedOut = await stats;
  assert.ok(timedOut instanceof TimeoutError, `stats got ${String(timedOut)}`);
  assert.equal(timedOut.timeoutMs, commandTimeoutMs);
  const lost = await behind;
  assert.ok(lost instanceof ConnectionError && lost.maybeApplied, `the put behind got ${String(lost)}`);
}

test('stall, reconnect off: commandTimeoutMs fails the command with TimeoutError and closes the client', async (t) => {
  const proxied = await onTubeBehindProxy(t, server, { commandTimeoutMs: 200 });
  await stalledStats(proxied, 200);
  const [reason] = await proxied.log.until('close');
  assert.ok(reason instanceof ConnectionError, `close came with ${String(reason)}`);
  assert.equal(proxied.client.usable, false);
});

test('stall, reconnect on: after the timeout, attempts time out while stalled; after resume() the client is back on its tube', async (t) => {
  const proxied = await onTubeBehindProxy(t, server, { commandTimeoutMs: 200, reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  const { proxy, client, log, tube } = proxied;
  await stalledStats(proxied, 200);
  // Attempt 1 connected, but restoring the tube got no reply: attempt 2 says so.
  const [, second] = await log.until('reconnecting', 2);
  assert.ok(second?.error instanceof TimeoutError, `attempt 2 after ${String(second?.error)}`);
  assert.equal(log.of('reconnect').length, 0, log.describe());

  proxy.resume();
  await log.until('reconnect');
  assert.equal(await within(client.listTubeUsed(), BOUND, 'list-tube-used after resume()'), tube);
  assert.ok((await within(client.stats(), BOUND, 'stats after resume()')).totalJobs >= 1);
});

test('cuts under a worker running jobs: it resumes by itself, and every job put is run at least once, none lost', async (t) => {
  const { proxy, tube, observer } = await onTubeBehindProxy(t, server);
  const runs = new Map<string, number>();
  const job = jobOn<{ n: number }>(tube, async (_args, context) => {
    await new Promise((resolve) => setImmediate(resolve)); // keeps jobs in flight across a cut
    runs.set(context.jid, (runs.get(context.jid) ?? 0) + 1);
  });
  const { events } = await runWorker(t, {
    connection: proxy.url,
    jobs: [job],
    concurrency: 4,
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
  });
  await observer.use(tube);
  const jids = await Promise.all(Array.from({ length: 300 }, async (_, n) => (await job.enqueue(observer, { n })).jid));

  for (const done of [50, 150]) {
    await events.until('job:done', done);
    proxy.cut();
  }
  await untilTube(observer, tube, (stats) => isDeepStrictEqual(jobCounts(stats), NO_JOBS), 'every job deleted');

  const duplicates = [...runs].filter(([, count]) => count > 1).map(([jid, count]) => `${jid} x${count}`);
  const missing = jids.filter((jid) => !runs.has(jid));
  assert.deepEqual(missing, [], `jobs never run (${duplicates.length} ran more than once: ${duplicates.join(', ')})`);
  assert.equal(runs.size, jids.length, `runs of jobs not put (duplicates: ${duplicates.join(', ')})`);
  assert.ok(proxy.accepted >= 3 * 4, `${proxy.accepted} connections: not every slot reconnected after each cut`);
  const errors = events.of('error');
  assert.ok(errors.length > 0, 'the lost connections were not reported');
  assert.deepEqual(errors.filter((error) => !(error instanceof ConnectionError)).map(String), [], 'errors other than lost connections');
  t.diagnostic(`${proxy.accepted} connections; ${duplicates.length} job(s) run twice; job:done ${events.count('job:done')}; job:lost ${events.count('job:lost')}`);
});

test('a cut with 500 pipelined puts in flight: each resolves or rejects with ConnectionError, in order; the resolved ones exist', async (t) => {
  const { proxy, client, log, tube, observer } = await onTubeBehindProxy(t, server, { reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  await client.put('warm-up');
  proxy.byteByByte(true); // a slow stream of replies, so that the cut comes in the middle of it
  const puts = Array.from({ length: 500 }, (_, i) => client.put(`p ${i}`));
  await within(puts[0] as Promise<number>, BOUND, 'the first put');
  proxy.cut();
  proxy.byteByByte(false);

  const settled = await settleAll(puts, 'put');
  // 0: resolved, 1: rejected maybe applied, 2: rejected unsent. Commands are written and answered in order.
  const kinds = settled.map((put) => {
    if (put.status === 'fulfilled') return 0;
    assert.ok(put.reason instanceof ConnectionError, `a put failed with ${String(put.reason)}`);
    return put.reason.maybeApplied ? 1 : 2;
  });
  kinds.forEach((kind, i) => {
    if (i > 0) assert.ok(kind >= (kinds[i - 1] as number), `put #${i} settled out of order (${kinds[i - 1]} then ${kind})`);
  });
  const resolved = settled.flatMap((put) => (put.status === 'fulfilled' ? [put.value] : []));
  const maybe = kinds.filter((kind) => kind === 1).length;
  assert.ok(resolved.length > 0 && resolved.length < 500, `${resolved.length} of 500 resolved: the cut was not in the middle`);

  const bodies = await Promise.all(resolved.map(async (id) => (await observer.peek(id))?.body.toString()));
  assert.deepEqual(bodies, resolved.map((_, i) => `p ${i}`), 'a resolved put is missing or changed on the server');
  const total = (await observer.statsTube(tube)).totalJobs - 1;
  assert.ok(total >= resolved.length && total <= resolved.length + maybe, `${total} jobs on the server for ${resolved.length} resolved and ${maybe} maybe applied`);

  await log.until('reconnect');
  const after = await within(client.put('after the cut'), BOUND, 'a put after the reconnect');
  assert.equal((await observer.statsJob(after)).tube, tube);
});

/**
 * A Worker given several servers, against real servers of the test's own: it reserves from every
 * one, never more jobs at once than its concurrency, acks on the connection that reserved, does not
 * stall on an empty, dead or silent server while another has jobs, and reports each server's
 * outage once and its return.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ConnectionError, type Client } from '../../src/index.js';
import { connectFor, ownServer } from '../helpers/harness.js';
import { startServer, uniqueTube, type TestServer } from '../helpers/server.js';
import { jobOn, runWorker, untilTube } from '../helpers/worker.js';

interface Server {
  readonly server: TestServer;
  readonly client: Client;
}

async function servers(t: TestContext, count: number): Promise<Server[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const server = await ownServer(t);
      return { server, client: await connectFor(t, server.url) };
    }),
  );
}

test('jobs on three servers: each done once, acked where reserved, ctx.server naming its server', async (t) => {
  const all = await servers(t, 3);
  const tube = uniqueTube();
  const seen: { id: number; server: string }[] = [];
  const job = jobOn<{ n: number }>(tube, (_args, ctx) => {
    seen.push({ id: ctx.id, server: ctx.server });
  });
  const { events } = await runWorker(t, { connection: all.map(({ server }) => server.url), jobs: [job], concurrency: 2 });
  const put: { id: number; server: string }[] = [];
  for (const { server, client } of all) {
    for (let n = 0; n < 20; n += 1) put.push({ id: (await job.enqueue(client, { n })).id, server: server.url });
  }
  await events.until('job:done', put.length);
  const key = ({ id, server }: { id: number; server: string }): string => `${server}#${id}`;
  assert.deepEqual(seen.map(key).sort(), put.map(key).sort(), 'every job ran once, and ctx.server says where it came from');
  for (const { client } of all) {
    const stats = await client.statsTube(tube);
    assert.deepEqual({ ready: stats.currentJobsReady, reserved: stats.currentJobsReserved, deleted: stats.cmdDelete }, { ready: 0, reserved: 0, deleted: 20 });
  }
  events.assertNone('job:lost', 'job:retry', 'job:buried', 'error');
});

test('never more handlers at once than concurrency, however many servers have jobs', async (t) => {
  const all = await servers(t, 3);
  const tube = uniqueTube();
  let running = 0;
  let peak = 0;
  const job = jobOn<{ n: number }>(tube, async () => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setImmediate(resolve));
    running -= 1;
  });
  const count = 30;
  for (const { client } of all) {
    await Promise.all(Array.from({ length: count }, (_, n) => job.enqueue(client, { n }, { priority: 7 })));
  }
  const { events } = await runWorker(t, { connection: all.map(({ server }) => server.url), jobs: [job], concurrency: 2 });
  await events.until('job:done', 3 * count);
  assert.ok(peak <= 2, `${peak} handlers ran at once`);
  for (const { client } of all) {
    const stats = await client.statsTube(tube);
    assert.equal(stats.cmdDelete, count);
    assert.equal(stats.currentJobsReady + stats.currentJobsReserved, 0);
  }
  events.assertNone('job:lost', 'job:retry', 'error');
});

test('an empty server and a busy one: a job put on any server starts at once, not after a slice of waiting', async (t) => {
  const all = await servers(t, 3);
  const tube = uniqueTube();
  const started = new Map<string, number>();
  const job = jobOn<{ at: number }>(tube, (_args, ctx) => {
    started.set(`${ctx.server}#${ctx.id}`, performance.now());
  });
  const { events } = await runWorker(t, { connection: all.map(({ server }) => server.url), jobs: [job], concurrency: 2 });
  for (const { client } of all) await untilTube(client, tube, (stats) => stats.currentWaiting >= 1, 'a reserve waiting on each server');
  const latencies: number[] = [];
  for (let round = 0; round < 5; round += 1) {
    for (const { server, client } of all) {
      const before = performance.now();
      const { id } = await job.enqueue(client, { at: before });
      const [done] = (await events.until('job:done', events.count('job:done') + 1)).slice(-1);
      assert.equal(done?.id, id);
      latencies.push((started.get(`${server.url}#${id}`) as number) - before);
    }
  }
  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)] as number;
  t.diagnostic(`start latency: median ${median.toFixed(1)} ms, max ${(latencies.at(-1) as number).toFixed(1)} ms`);
  assert.ok(median < 100, `median start latency ${median.toFixed(1)} ms`);
  // A stall would wait for another server's reserve slice to end: a whole second.
  assert.ok((latencies.at(-1) as number) < 900, `slowest start ${(latencies.at(-1) as number).toFixed(1)} ms`);
});

test('one server killed: the others keep being worked, its loss is one error, and after a restart it is worked again', async (t) => {
  const [first, ...others] = await servers(t, 3);
  if (first === undefined) return;
  const tube = uniqueTube();
  const job = jobOn<{ n: number }>(tube, () => {});
  const { events } = await runWorker(t, {
    connection: [first.server.url, ...others.map(({ server }) => server.url)],
    jobs: [job],
    concurrency: 2,
    reconnect: { minDelayMs: 20, maxDelayMs: 100 },
  });
  await first.server.kill();
  const [lost] = await events.until('error');
  assert.ok(lost instanceof ConnectionError, String(lost));
  for (const { client } of others) for (let n = 0; n < 10; n += 1) await job.enqueue(client, { n });
  await events.until('job:done', 20);
  const restarted = await startServer({ port: first.server.port });
  t.after(() => restarted.kill());
  const [back] = await events.until('connection:restored');
  assert.equal(back?.server, first.server.url);
  const producer = await connectFor(t, restarted.url);
  const { id } = await job.enqueue(producer, { n: 99 });
  const done = await events.until('job:done', 21);
  assert.ok(done.some((event) => event.id === id), 'a job on the restarted server is done');
  assert.equal(events.count('error'), 1, 'one error for the one outage');
});

test('one server silent (SIGSTOP): the others keep being worked; the silence is noticed within a slice plus the command timeout', async (t) => {
  const all = await servers(t, 2);
  const [silent, busy] = all as [Server, Server];
  if (silent.server.pid === undefined) return;
  const tube = uniqueTube();
  const job = jobOn<{ n: number }>(tube, () => {});
  const { events } = await runWorker(t, {
    connection: all.map(({ server }) => server.url),
    jobs: [job],
    concurrency: 1,
    reconnect: { minDelayMs: 20, maxDelayMs: 100 },
  });
  process.kill(silent.server.pid, 'SIGSTOP');
  t.after(() => {
    // Whatever happened, the server must not stay stopped (it may be gone already).
    try {
      process.kill(silent.server.pid as number, 'SIGCONT');
    } catch {}
  });
  const stoppedAt = performance.now();
  for (let n = 0; n < 10; n += 1) await job.enqueue(busy.client, { n });
  await events.until('job:done', 10);
  const [noticed] = await events.until('error', 1, 5000);
  const noticedMs = performance.now() - stoppedAt;
  t.diagnostic(`the silent server was reported after ${noticedMs.toFixed(0)} ms`);
  assert.ok(noticed instanceof Error);
  assert.ok(noticedMs < 4000, `noticed after ${noticedMs.toFixed(0)} ms`);
  process.kill(silent.server.pid, 'SIGCONT');
  const [back] = await events.until('connection:restored', 1, 5000);
  assert.equal(back?.server, silent.server.url);
});

/**
 * Reconnect against a real beanstalkd, with a fault-injection proxy in between: what a client with
 * `reconnect` on does when its connection is cut, while it cannot get a new one, and when it gives
 * up; and what one without it does. Every wait is bounded, so a hang fails instead of stalling.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Client, ConnectionError, type ConnectOptions } from '../../src/index.js';
import { assertIncreasing, behindProxy, BOUND, ClientLog, onTubeBehindProxy, outcome } from '../helpers/faults.js';
import { connectFor, rejection, track, untilWaiting, within } from '../helpers/harness.js';
import type { FaultProxy } from '../helpers/proxy.js';
import { serverForFile, startServer, uniqueTube } from '../helpers/server.js';
import { untilStats } from '../helpers/worker.js';

const server = await serverForFile();

/** Short waits, so that a test sees several attempts quickly. */
const FAST = { minDelayMs: 10, maxDelayMs: 50 };

/** The two ways a server can be out of reach: see FaultProxy.refuse. */
const OUTAGES = [
  { how: 'unlisten', name: 'nothing listens (connection refused)' },
  { how: 'close', name: 'each new connection is accepted and closed at once' },
] as const;

function assertNotSent(error: Error, what: string): void {
  assert.ok(error instanceof ConnectionError, `${what}: got ${String(error)}`);
  assert.equal(error.maybeApplied, false, `${what}: ${error.message}`);
}

/** The client is closed for good: a new command fails at once (no I/O: see failures.test.ts), unsent. */
async function assertClosed(client: Client): Promise<void> {
  assert.equal(client.usable, false);
  assert.equal(client.reconnecting, false);
  assertNotSent(await rejection(client.stats(), 1, 'a command after the close'), 'a command after the close');
}

interface Setup {
  /** A tube for the client to use (restored by each reconnect). */
  readonly tube?: string;
  /** Put a job first, so that later puts do not wait for max-job-size. Default true. */
  readonly warmUp?: boolean;
}

/**
 * Through a proxy, a client set up as `setup` says; then the server is made unreachable and the
 * connection cut. Resolves once the client reports its first reconnect attempt: from then on,
 * commands queue.
 */
async function outOfReach(
  t: TestContext,
  how: 'unlisten' | 'close',
  options: ConnectOptions,
  { tube, warmUp = true }: Setup = {},
): Promise<{ proxy: FaultProxy; client: Client; log: ClientLog }> {
  const proxied = await behindProxy(t, server, options);
  if (tube !== undefined) await proxied.client.use(tube);
  if (warmUp) await proxied.client.put('warm-up');
  await proxied.proxy.refuse(true, how);
  proxied.proxy.cut();
  await proxied.log.until('reconnecting');
  assert.equal(proxied.client.reconnecting, true);
  return proxied;
}

test('a cut: reconnecting, then reconnect, with the tube in use and the watch list back before the commands queued meanwhile', async (t) => {
  const { proxy, client, log } = await behindProxy(t, server, { reconnect: FAST });
  const used = uniqueTube('used');
  const watched = uniqueTube('watched');
  await client.use(used);
  await client.watch(watched);
  await client.ignore('default');
  // Read max-job-size now: a first put would otherwise hold every later command behind a `stats`.
  await client.put('warm-up');

  proxy.cut();
  const [lost] = await log.until('reconnecting');
  assert.equal(lost?.attempt, 1);
  assert.ok(lost.delayMs >= 0 && lost.delayMs <= FAST.minDelayMs, `first delay ${lost.delayMs} ms`);
  assert.ok(lost.error instanceof ConnectionError, `reconnecting came with ${String(lost.error)}`);
  assert.equal(client.reconnecting, true);
  // Issued while disconnected: queued, to be sent after the tubes are restored.
  const put = client.put('issued while disconnected');
  const usedNow = client.listTubeUsed();
  const watchedNow = client.listTubesWatched();

  assert.deepEqual(await log.until('reconnect'), [{ attempt: 1 }]);
  assert.deepEqual(log.names, ['error', 'reconnecting', 'reconnect']);
  assert.equal(client.reconnecting, false);
  assert.equal(proxy.accepted, 2);
  const id = await within(put, BOUND, 'the queued put');
  assert.equal(await within(usedNow, BOUND, 'list-tube-used'), used);
  assert.deepEqual(await within(watchedNow, BOUND, 'list-tubes-watched'), [watched]);
  const observer = await connectFor(t, server.url);
  assert.equal((await observer.statsJob(id)).tube, used, 'the queued put went to the tube in use');
  assert.deepEqual([client.using, client.watched], [used, [watched]]);
});

for (const { how, name } of OUTAGES) {
  test(`${name}: commands issued meanwhile wait through failed attempts, then succeed in order`, async (t) => {
    // On `default`, nothing to restore: the client's own commands are the first on a new connection.
    const { proxy, client, log } = await outOfReach(t, how, { reconnect: FAST });
    const puts = Array.from({ length: 50 }, (_, i) => track(client.put(`queued ${i}`)));
    await log.until('reconnecting', 3);
    const early = await Promise.allSettled(puts.filter((put) => put.settled).map((put) => put.promise));
    assert.deepEqual(early.map(outcome), [], `queued puts settled while no connection could be made (events: ${log.describe()})`);
    assert.equal(log.of('reconnect').length, 0, `reconnect reported while the server was out of reach (${log.describe()})`);

    await proxy.refuse(false);
    await log.until('reconnect');
    const ids = await within(Promise.all(puts.map((put) => put.promise)), BOUND, 'the queued puts');
    assertIncreasing(ids);
    const observer = await connectFor(t, server.url);
    const bodies = await Promise.all(ids.map(async (id) => (await observer.peek(id))?.body.toString()));
    assert.deepEqual(bodies, ids.map((_, i) => `queued ${i}`));
  });

  test(`${name}: retries: 3 gives up after 3 failed attempts, closes with the error, and rejects the queue`, async (t) => {
    const { proxy, client, log } = await outOfReach(t, how, { reconnect: { ...FAST, retries: 3 } });
    const queued = rejection(client.listTubeUsed(), 2 * BOUND, 'a command queued while reconnecting');

    const [reason] = await log.until('close');
    assert.ok(reason instanceof ConnectionError, `close came with ${String(reason)}`);
    assert.deepEqual(log.of('reconnecting').map(({ attempt }) => attempt), [1, 2, 3], log.describe());
    assert.equal(log.of('reconnect').length, 0, log.describe());
    if (how === 'close') assert.equal(proxy.refused, 3, 'connections the proxy refused');
    assertNotSent(await queued, 'the queued command');
    await assertClosed(client);
  });
}

test('queueLimit: past it a command is refused at once, unsent; the ones queued are sent after the reconnect', async (t) => {
  const tube = uniqueTube('limit');
  const { proxy, client, log } = await outOfReach(t, 'unlisten', { reconnect: { ...FAST, queueLimit: 3 } }, { tube });
  const queued = [0, 1, 2].map((i) => track(client.put(`queued ${i}`)));
  assertNotSent(await rejection(client.put('one too many'), 1, 'the put past queueLimit'), 'the put past queueLimit');
  assert.ok(queued.every((put) => !put.settled), 'the queued puts wait');

  await proxy.refuse(false);
  await log.until('reconnect');
  assertIncreasing(await within(Promise.all(queued.map((put) => put.promise)), BOUND, 'the queued puts'));
  const observer = await connectFor(t, server.url);
  assert.equal((await observer.statsTube(tube)).totalJobs, 4, 'the warm-up and the three queued puts, not the refused one');
});

test('queueTimeoutMs: a command queued longer is refused, unsent, while the client goes on trying', async (t) => {
  const tube = uniqueTube('timeout');
  const queueTimeoutMs = 200;
  const { proxy, client, log } = await outOfReach(t, 'unlisten', { reconnect: { ...FAST, queueTimeoutMs } }, { tube });
  const started = Date.now();
  const error = await rejection(client.put('too late'), BOUND, 'the put queued past queueTimeoutMs');
  const waited = Date.now() - started;
  assertNotSent(error, 'the put queued past queueTimeoutMs');
  assert.ok(waited >= queueTimeoutMs - 5, `refused after ${waited} ms`);
  assert.equal(client.reconnecting, true, 'only the command gave up');

  await proxy.refuse(false);
  await log.until('reconnect');
  assert.equal(await within(client.listTubeUsed(), BOUND, 'list-tube-used after the reconnect'), tube);
  const observer = await connectFor(t, server.url);
  assert.equal((await observer.statsTube(tube)).totalJobs, 1, 'only the warm-up: the expired put was never sent');
});

const QUEUED = [
  { what: 'a command', warmUp: true, issue: (client: Client) => client.listTubeUsed() },
  { what: "a new client's first put (waiting for max-job-size)", warmUp: false, issue: (client: Client) => client.put('first') },
];

for (const { what, warmUp, issue } of QUEUED) {
  test(`close() while reconnecting, with ${what} queued, resolves at once, cleanly, and rejects it`, async (t) => {
    // The first wait is 5 to 10 s, and queued commands would wait 60 s: close() must cut both short.
    const reconnect = { minDelayMs: 10_000, maxDelayMs: 10_000, queueTimeoutMs: 60_000 };
    const { proxy, client, log } = await outOfReach(t, 'close', { reconnect }, { warmUp });
    const queued = rejection(issue(client), 2 * BOUND, `${what} queued while reconnecting`);
    await within(client.close(), BOUND, 'close() while reconnecting');
    assertNotSent(await queued, `${what} queued`);
    assert.deepEqual(await log.until('close'), [undefined], 'a close the client asked for is clean');
    await assertClosed(client);
    assert.equal(proxy.accepted, 1, 'no attempt was made');
  });
}

test('backoff: the wait before each attempt grows from minDelayMs, capped at maxDelayMs, and is really waited', async (t) => {
  const policy = { minDelayMs: 10, maxDelayMs: 80, retries: 7 };
  const { log } = await outOfReach(t, 'unlisten', { reconnect: policy });
  await log.until('close');
  const announced = log.entries.filter((entry) => entry.name === 'reconnecting').map((entry) => entry.at);
  const delays = log.of('reconnecting').map(({ delayMs }) => Math.round(delayMs));
  assert.equal(delays.length, 7, `delays ${delays.join(', ')}`);
  assert.ok((delays[0] as number) <= policy.minDelayMs, `first delay ${delays[0]} ms`);
  assert.ok(delays.every((ms) => ms <= policy.maxDelayMs), `a delay above the cap: ${delays.join(', ')}`);
  // Until the cap (10, 20, 40, 80) each wait lies above the previous one, whatever the jitter.
  for (let i = 1; i < 4; i += 1) {
    assert.ok((delays[i] as number) >= (delays[i - 1] as number), `delays do not grow: ${delays.join(', ')}`);
  }
  assert.ok((delays[3] as number) >= policy.maxDelayMs / 2, `the fourth delay is ${delays[3]} ms`);
  // Attempt k+1 is announced after attempt k's wait (timers may round down by a millisecond).
  for (let i = 1; i < announced.length; i += 1) {
    const gap = (announced[i] as number) - (announced[i - 1] as number);
    assert.ok(gap >= (delays[i - 1] as number) - 2, `attempt ${i + 1} came ${gap} ms after attempt ${i}, which was to wait ${delays[i - 1]} ms`);
  }
});

test('a cut with a put in flight that reached the server: it rejects as maybe applied and is not sent again', async (t) => {
  const { proxy, client, log, tube, observer } = await onTubeBehindProxy(t, server, { reconnect: FAST });
  await client.put('warm-up');

  // The put reaches the server; its answer is held in the proxy.
  proxy.stall('replies');
  const put = rejection(client.put('applied, unanswered'), BOUND, 'the put in flight');
  const behind = rejection(client.listTubeUsed(), BOUND, 'the command behind it');
  await untilStats(() => observer.statsTube(tube), (stats) => stats.totalJobs === 2, 'the put applied');
  proxy.cut();
  proxy.resume();

  for (const [what, error] of [['the put', await put], ['the command behind it', await behind]] as const) {
    assert.ok(error instanceof ConnectionError, `${what}: ${String(error)}`);
    assert.equal(error.maybeApplied, true, `${what}: ${error.message}`);
  }
  await log.until('reconnect');
  // Answered on the new connection after anything the client might have re-sent.
  assert.equal(await within(client.listTubeUsed(), BOUND, 'list-tube-used'), tube);
  const stats = await observer.statsTube(tube);
  assert.deepEqual(
    { total: stats.totalJobs, ready: stats.currentJobsReady },
    { total: 2, ready: 2 },
    'the warm-up and the put once: it was applied, and not sent again',
  );
});

test('a reserve waiting at the cut rejects (no hang); after the reconnect, a reserve gets the next job of the watched tube', async (t) => {
  const { proxy, client, log, tube, observer } = await onTubeBehindProxy(t, server, { reconnect: FAST });
  const waiting = rejection(client.reserve(), BOUND, 'the reserve waiting at the cut');
  await within(untilWaiting(observer, tube), BOUND, 'the reserve waiting');

  proxy.cut();
  const error = await waiting;
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(error.maybeApplied, true);
  await log.until('reconnect');

  const next = client.reserve();
  await within(untilWaiting(observer, tube), BOUND, 'the new reserve waiting');
  await observer.use(tube);
  const id = await observer.put('after the cut');
  const job = await within(next, BOUND, 'the reserve after the reconnect');
  assert.deepEqual({ id: job.id, body: job.body.toString() }, { id, body: 'after the cut' });
  await client.delete(job.id);
});

test('reconnect off (the default): after a cut the client closes with the error and commands fail at once, unsent', async (t) => {
  const { proxy, client, log } = await behindProxy(t, server);
  await client.put('warm-up');
  const reserve = rejection(client.reserve(), BOUND, 'a reserve waiting at the cut');
  proxy.cut();
  const [reason] = await log.until('close');
  assert.ok(reason instanceof ConnectionError, `close came with ${String(reason)}`);
  const error = await reserve;
  assert.ok(error instanceof ConnectionError && error.maybeApplied, String(error));
  await assertClosed(client);
  assert.deepEqual(log.names, ['close', 'error'], 'no reconnect attempt');
  assert.equal(proxy.accepted, 1);
});

test('a real restart (SIGKILL, then a new beanstalkd on the same port): puts issued during the downtime resolve after it', async (t) => {
  const first = await startServer();
  t.after(() => first.kill());
  const tube = uniqueTube('restart');
  const producer = await connectFor(t, { host: first.host, port: first.port, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  const log = new ClientLog(producer);
  await producer.use(tube);
  await producer.put('before the restart');

  await first.kill();
  await log.until('reconnecting');
  const puts = Array.from({ length: 20 }, (_, i) => track(producer.put(`during the downtime ${i}`)));
  await log.until('reconnecting', 3);
  assert.ok(puts.every((put) => !put.settled), 'the puts wait while nothing listens');

  const second = await startServer({ port: first.port });
  t.after(() => second.kill());
  await log.until('reconnect');
  const ids = await within(Promise.all(puts.map((put) => put.promise)), BOUND, 'the puts issued during the downtime');
  assertIncreasing(ids);
  const observer = await connectFor(t, second.url);
  const stats = await observer.statsTube(tube);
  assert.equal(stats.totalJobs, 20, 'the new server has every put made during the downtime');
  assert.equal((await observer.statsJob(ids[0] as number)).tube, tube, 'in the tube in use, restored');
});

/**
 * Pipelining against a real beanstalkd: many commands in flight on one connection, replies matched
 * in order, one socket write per tick's commands, back-pressure, and what a blocking reserve does to
 * the commands behind it.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { ConnectionError, type Client, type ConnectOptions } from '../../src/index.js';
import { connectFor, onFreshTube, ownServer, track, untilWaiting, within } from '../helpers/harness.js';
import { sharedServer, uniqueTube } from '../helpers/server.js';

const server = await sharedServer();

/** The connection's largest write (src/connection.ts BATCH_BYTES). */
const BATCH_BYTES = 64 * 1024;

interface Write {
  readonly bytes: number;
  /** The socket's writableLength right after the write: what it holds back in user space. */
  readonly buffered: number;
}

/**
 * Runs `run` while calls to `method` on sockets connected to `port` are reported to `seen`
 * (net.Socket.prototype[method] is wrapped for the duration and restored afterwards, even on failure).
 * A socket counts as connected to `port` once seen so, even after it is destroyed.
 */
async function observeSockets<T>(
  method: 'write' | 'resume',
  port: number,
  seen: (socket: net.Socket, args: unknown[]) => void,
  run: () => Promise<T>,
): Promise<T> {
  const original = net.Socket.prototype[method] as (...args: unknown[]) => unknown;
  const known = new WeakSet<net.Socket>();
  net.Socket.prototype[method] = function (this: net.Socket, ...args: unknown[]): unknown {
    if (this.remotePort === port) known.add(this);
    const result = original.apply(this, args);
    if (known.has(this)) seen(this, args);
    return result;
  } as never;
  try {
    return await run();
  } finally {
    net.Socket.prototype[method] = original as never;
  }
}

/** Runs `run` while recording every write on sockets connected to `port`. */
async function recordWrites<T>(port: number, run: () => Promise<T>): Promise<{ result: T; writes: Write[] }> {
  const writes: Write[] = [];
  const result = await observeSockets(
    'write',
    port,
    (socket, [chunk]) => {
      const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
      writes.push({ bytes, buffered: socket.writableLength });
    },
    run,
  );
  return { result, writes };
}

/** Runs `run` while counting the ends of read holds (the connection resumes its socket) on `port`. */
async function countResumes<T>(port: number, run: () => Promise<T>): Promise<{ result: T; resumes: number }> {
  let resumes = 0;
  const result = await observeSockets('resume', port, () => (resumes += 1), run);
  return { result, resumes };
}

function assertIncreasing(ids: readonly number[]): void {
  ids.forEach((id, index) => {
    if (index > 0) assert.ok(id > (ids[index - 1] as number), `id #${index} (${id}) does not follow ${ids[index - 1]}`);
  });
}

function putAll(client: Client, count: number, body: (index: number) => string | Buffer): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => client.put(body(index))));
}

test('10,000 puts issued at once resolve in order with increasing ids and come back with their bodies', async (t) => {
  const count = 10_000;
  const { client, tube } = await onFreshTube(t, server.url);
  const resolved: number[] = [];
  const puts = Array.from({ length: count }, (_, index) =>
    client.put(String(index)).then((id) => {
      resolved.push(index);
      return id;
    }),
  );
  const ids = await within(Promise.all(puts), 20_000, '10,000 puts');
  assert.deepEqual(
    resolved,
    Array.from({ length: count }, (_, index) => index),
  );
  assertIncreasing(ids);

  // Back in rounds: a connection holding thousands of reserved jobs slows the server down. Same
  // priority, so the server hands them out by id, i.e. in the order they were put.
  const round = 500;
  for (let next = 0; next < count; next += round) {
    const jobs = await within(
      Promise.all(
        Array.from({ length: round }, async () => {
          const job = await client.reserveWithTimeout(0);
          assert.ok(job !== null, 'a job went missing');
          await client.delete(job.id);
          return job;
        }),
      ),
      10_000,
      `reserving jobs ${next}..`,
    );
    jobs.forEach((job, offset) => {
      assert.equal(job.id, ids[next + offset]);
      assert.equal(job.body.toString(), String(next + offset));
    });
  }
  const stats = await client.statsTube(tube);
  assert.equal(stats.totalJobs, count);
  assert.equal(stats.currentJobsReady, 0);
  assert.equal(stats.cmdDelete, count);
});

test('mixed commands issued in one tick resolve to the right values in order', async (t) => {
  const tube = uniqueTube('mixed');
  const setup = await connectFor(t, server.url);
  await setup.use(tube);
  const earlier = await setup.put('earlier');

  // A fresh client: its first put waits for max-job-size, and everything after must keep its place.
  const client = await connectFor(t, server.url);
  const [used, idA, idB, watching, stillWatching, found, deleted, gone, ready, stats, watched, first, second, none, usedNow] =
    await within(
      Promise.all([
        client.use(tube),
        client.put('a'),
        client.put('b', { priority: 5 }),
        client.watch(tube),
        client.ignore('default'),
        client.peek(earlier),
        client.delete(earlier),
        client.peek(earlier),
        client.peekReady(),
        client.statsTube(tube),
        client.listTubesWatched(),
        client.reserveWithTimeout(0),
        client.reserveWithTimeout(0),
        client.reserveWithTimeout(0),
        client.listTubeUsed(),
      ]),
      5000,
      'mixed commands',
    );
  assert.equal(used, tube);
  assert.ok(idA > earlier && idB > idA);
  assert.equal(watching, 2);
  assert.equal(stillWatching, 1);
  assert.equal(found?.id, earlier);
  assert.equal(found?.body.toString(), 'earlier');
  assert.equal(deleted, undefined);
  assert.equal(gone, null);
  // b has the more urgent priority.
  assert.equal(ready?.id, idB);
  assert.equal(stats.totalJobs, 3);
  assert.equal(stats.currentJobsReady, 2);
  assert.equal(stats.cmdDelete, 1);
  assert.deepEqual(watched, [tube]);
  assert.deepEqual([first?.id, first?.body.toString()], [idB, 'b']);
  assert.deepEqual([second?.id, second?.body.toString()], [idA, 'a']);
  assert.equal(none, null);
  assert.equal(usedNow, tube);
  assert.equal(client.using, tube);
  assert.deepEqual(client.watched, [tube]);
  await Promise.all([client.delete(idA), client.delete(idB)]);
});

test('a put issued while the first put waits for max-job-size does not overtake it', async (t) => {
  // The first put of a client waits for `stats` (max-job-size). A put issued meanwhile from the
  // callback of an earlier command must still go out after it. Replies that arrive in one chunk
  // expose the window: the process is kept busy for a moment right after the commands are written,
  // so that the server's replies to `use` and `stats` are read together.
  for (let round = 0; round < 10; round += 1) {
    const client = await connectFor(t, server.url);
    const used = client.use(uniqueTube('order'));
    const first = client.put('first');
    const second = used.then(() => client.put('second'));
    process.nextTick(() => {
      const until = Date.now() + 5;
      while (Date.now() < until);
    });
    const [firstId, secondId] = await within(Promise.all([first, second]), 5000, 'two puts');
    assert.ok(secondId > firstId, `round ${round}: the put issued second got id ${secondId}, the first got ${firstId}`);
    await client.close();
  }
});

test('commands issued in one tick go out in one socket write, in batches of at most 64 KiB', async (t) => {
  const own = await ownServer(t);
  const client = await connectFor(t, own.url);
  await client.put('warm-up'); // reads max-job-size, so the puts below are not held behind it

  const small = await recordWrites(own.port, () => within(putAll(client, 100, (i) => `small ${i}`), 5000, 'small puts'));
  assertIncreasing(small.result);
  assert.equal(small.writes.length, 1, `100 small puts took ${small.writes.length} writes`);

  const body = Buffer.alloc(1000, 'b');
  const big = await recordWrites(own.port, () => within(putAll(client, 300, () => body), 5000, 'bigger puts'));
  assertIncreasing(big.result);
  const total = big.writes.reduce((sum, write) => sum + write.bytes, 0);
  assert.ok(total > 300 * body.length);
  assert.ok(big.writes.length >= Math.ceil(total / BATCH_BYTES), `${total} bytes in ${big.writes.length} writes`);
  for (const write of big.writes) assert.ok(write.bytes <= BATCH_BYTES, `a write of ${write.bytes} bytes`);
});

test('a huge burst is written as the socket drains instead of being buffered whole', async (t) => {
  // About 2.8 MB of commands, some forty times what one batch holds.
  const count = 100_000;
  const own = await ownServer(t);
  const client = await connectFor(t, own.url);
  await client.put('warm-up');

  const { result: ids, writes } = await recordWrites(own.port, () =>
    within(putAll(client, count, (i) => `job ${i}`), 20_000, `${count} puts`),
  );
  assert.equal(ids.length, count);
  assertIncreasing(ids);
  const total = writes.reduce((sum, write) => sum + write.bytes, 0);
  assert.ok(total > count * 20, `only ${total} bytes were written`);
  const peak = Math.max(...writes.map((write) => write.buffered));
  // One batch (plus, at most, what the socket took before it asked for a drain) may wait in user
  // space; the backlog of several MiB must stay in the client's queue.
  assert.ok(peak <= 4 * BATCH_BYTES, `the socket held ${peak} bytes of a ${total}-byte burst`);
});

/** `count` puts pipelined at once on a client of a server of its own, and the read holds they caused. */
async function heldPuts(t: TestContext, count: number, options: Omit<ConnectOptions, 'host' | 'port'>) {
  const own = await ownServer(t);
  const client = await connectFor(t, { host: own.host, port: own.port, ...options });
  await client.put('warm-up');
  const { result: ids, resumes } = await countResumes(own.port, () =>
    within(putAll(client, count, (i) => `held ${i}`), 20_000, `${count} puts`),
  );
  assert.equal(ids.length, count);
  assertIncreasing(ids);
  return resumes;
}

test('with thousands of replies due, reads are held back and taken in batches; every put still resolves in order', async (t) => {
  const count = 5000;
  const resumes = await heldPuts(t, count, {});
  // A read that left 256 or more due paused the socket, and the end of the hold resumed it.
  assert.ok(resumes > 0, 'no read was held');
  assert.ok(resumes < count / 10, `${resumes} holds for ${count} replies: reads did not take replies in batches`);
});

test('coalesceReads: false reads every reply as it comes, and a hold never starts', async (t) => {
  assert.equal(await heldPuts(t, 5000, { coalesceReads: false }), 0);
});

test('destroyed while a read is held: what is pending rejects, and the hold does not outlive the socket', async (t) => {
  const own = await ownServer(t);
  const client = await connectFor(t, own.url);
  await client.put('warm-up');

  let socket: net.Socket | null = null;
  let resumesAfterDestroy = 0;
  const outcomes = await observeSockets(
    'write',
    own.port,
    (written) => (socket ??= written),
    () =>
      observeSockets(
        'resume',
        own.port,
        (resumed) => {
          if (resumed === socket && resumed.destroyed) resumesAfterDestroy += 1;
        },
        async () => {
          const puts = Array.from({ length: 5000 }, (_, i) => client.put(`doomed ${i}`));
          // The first reply comes in a read that leaves thousands due, so a hold is running now.
          await puts[0];
          client.destroy();
          const settled = await within(Promise.allSettled(puts), 5000, 'puts after destroy');
          // Past the longest a hold lasts: its timer would have fired by now.
          await new Promise((resolve) => setTimeout(resolve, 20));
          return settled;
        },
      ),
  );
  assert.ok(socket !== null, 'the client wrote nothing');
  const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
  assert.ok(rejected.length > 0, 'every put had been answered before the destroy');
  for (const outcome of rejected) assert.ok(outcome.reason instanceof ConnectionError, String(outcome.reason));
  assert.equal(resumesAfterDestroy, 0, 'a hold ended after the socket was destroyed');
});

test('a reserve waiting on one client does not hold up puts on another', async (t) => {
  const { client: worker, tube } = await onFreshTube(t, server.url);
  const producer = await connectFor(t, server.url);
  const reserved = track(worker.reserve());
  await within(untilWaiting(producer, tube), 5000, 'reserve waiting');

  await producer.use(uniqueTube('elsewhere'));
  const ids = await within(putAll(producer, 100, (i) => `other ${i}`), 5000, 'puts on another client');
  assertIncreasing(ids);
  assert.equal(reserved.settled, false, 'the reserve got a job from a tube it does not watch');

  await producer.use(tube);
  const fed = await producer.put('for the worker');
  const job = await within(reserved.promise, 5000, 'reserve');
  assert.equal(job.id, fed);
  await worker.delete(job.id);
});

test('a reserve holds every later command on its connection until it gets a job', async (t) => {
  const { client: worker, tube } = await onFreshTube(t, server.url);
  const putTube = uniqueTube('behind');
  await worker.use(putTube);
  const warmUp = await worker.put('warm-up'); // so the put below goes out at once, not behind `stats`
  const producer = await connectFor(t, server.url);

  const order: string[] = [];
  const reserved = worker.reserve().then((job) => {
    order.push('reserve');
    return job;
  });
  const behind = track(
    worker.put('behind the reserve').then((id) => {
      order.push('put');
      return id;
    }),
  );
  await within(untilWaiting(producer, tube), 5000, 'reserve waiting');
  // The server has parked the reserve: the put behind it is neither answered nor even applied.
  assert.equal(behind.settled, false);
  assert.equal((await producer.statsTube(putTube)).totalJobs, 1);

  await producer.use(tube);
  const fed = await producer.put('for the worker');
  const job = await within(reserved, 5000, 'reserve');
  const id = await within(behind.promise, 5000, 'put behind the reserve');
  assert.equal(job.id, fed);
  assert.deepEqual(order, ['reserve', 'put']);
  // The server applied the put only after the reserve had its job: its id is the later one.
  assert.ok(id > fed, `put ${id} was applied before job ${fed} was fed`);
  await Promise.all([worker.delete(job.id), worker.delete(id), worker.delete(warmUp)]);
});

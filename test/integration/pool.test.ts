/**
 * Pool against real beanstalkd servers: its bounds, lending and taking back (a client comes back on
 * `default`, a spoiled one is destroyed), acquire failures, put, close, many callers at once, and a
 * server that is down or dies and comes back. Connection and job counts are read from the server's
 * own stats, on a server of the test's own so no other test's connections count.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import {
  Client,
  ConnectionError,
  InvalidArgumentError,
  Pool,
  TimeoutError,
  type PoolOptions,
} from '../../src/index.js';
import { rejectsAsInvalid } from '../helpers/assertions.js';
import { connectFor, ownServer, rejection, track, within } from '../helpers/harness.js';
import { BOUND, poolFor, untilConnections } from '../helpers/pool.js';
import { freePort, sharedServer, startServer, uniqueTube } from '../helpers/server.js';

const server = await sharedServer();

/** A server of the test's own, a pool on it, and an observer whose stats count the pool's connections. */
async function countedPool(t: TestContext, options: PoolOptions): Promise<{ pool: Pool; observer: Client; baseline: number }> {
  const own = await ownServer(t);
  const observer = await connectFor(t, own.url);
  const baseline = (await observer.stats()).currentConnections;
  const pool = poolFor(t, { connection: own.url, ...options });
  return { pool, observer, baseline };
}

test('min connections are opened at start, before any acquire', async (t) => {
  const { pool, observer, baseline } = await countedPool(t, { min: 3, max: 5 });
  await untilConnections(observer, baseline + 3);
  assert.equal(pool.size, 3);
  assert.equal(pool.borrowed, 0);
});

test('50 concurrent use calls never open more than max connections', async (t) => {
  const max = 4;
  const { pool, baseline } = await countedPool(t, { max });
  let peakSize = 0;
  let peakBorrowed = 0;
  let peakServer = 0;
  const results = await within(
    Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        pool.use(async (client) => {
          peakSize = Math.max(peakSize, pool.size);
          peakBorrowed = Math.max(peakBorrowed, pool.borrowed);
          peakServer = Math.max(peakServer, (await client.stats()).currentConnections);
          return index;
        }),
      ),
    ),
    BOUND,
    '50 use calls',
  );
  assert.deepEqual(results, Array.from({ length: 50 }, (_, index) => index));
  assert.ok(peakSize <= max, `pool.size reached ${peakSize}`);
  assert.equal(peakBorrowed, max, 'with 50 callers waiting, every connection is lent at some point');
  assert.ok(peakServer <= baseline + max, `the server counted ${peakServer} connections (baseline ${baseline})`);
  assert.ok(pool.size <= max);
  assert.equal(pool.borrowed, 0);
});

test('acquire fails with TimeoutError when every connection stays lent', async (t) => {
  const pool = poolFor(t, { connection: server.url, max: 1, acquireTimeoutMs: 200 });
  const held = await pool.acquire();
  const error = await rejection(pool.acquire(), BOUND, 'acquire with nothing free');
  assert.ok(error instanceof TimeoutError, `got ${String(error)}`);
  assert.equal(error.timeoutMs, 200);
  assert.equal(error.command, 'acquire');
  await pool.release(held);
  assert.equal(await within(pool.acquire(), BOUND, 'acquire after the release'), held, 'the freed client is lent again');
});

/** Ways a borrower leaves the tubes of its connection. */
const tubeChanges: [label: string, change: (client: Client, tubes: [string, string]) => Promise<unknown>][] = [
  ['use x, watch y, ignore default', async (client, [x, y]) => {
    await client.use(x);
    await client.watch(y);
    await client.ignore('default');
  }],
  ['use x only', (client, [x]) => client.use(x)],
  ['watch x and y, default kept', (client, [x, y]) => Promise.all([client.watch(x), client.watch(y)])],
];
for (const [label, change] of tubeChanges) {
  test(`a client given back is reset to use and watch only default (${label})`, async (t) => {
    const pool = poolFor(t, { connection: server.url, max: 1 });
    const first = await pool.acquire();
    await change(first, [uniqueTube('x'), uniqueTube('y')]);
    await pool.release(first);
    const second = await pool.acquire();
    assert.equal(second, first, 'with max 1 the same connection comes back');
    assert.equal(await second.listTubeUsed(), 'default');
    assert.deepEqual(await second.listTubesWatched(), ['default']);
    assert.equal(second.using, 'default');
    assert.deepEqual(second.watched, ['default']);
  });
}

/**
 * Ways to hand a client back that must not be lent again. Each resolves once the client is in that
 * state, with the command it leaves unanswered (wrapped, so that resolving does not wait for it).
 */
const spoilers: [label: string, spoil: (client: Client) => Promise<{ leftOver: Promise<unknown> }>][] = [
  ['closed', async (client) => {
    await client.close();
    return { leftOver: Promise.resolve() };
  }],
  ['destroyed', async (client) => {
    client.destroy();
    return { leftOver: Promise.resolve() };
  }],
  ['with a reply pending', async (client) => ({ leftOver: client.stats() })],
  ['blocked in reserve', async (client) => {
    await client.watch(uniqueTube('empty'));
    await client.ignore('default');
    return { leftOver: client.reserve() };
  }],
];
for (const [label, spoil] of spoilers) {
  test(`a client given back ${label} is destroyed, and the next acquire gets a working one`, async (t) => {
    const pool = poolFor(t, { connection: server.url, max: 2 });
    const spoiled = await pool.acquire();
    assert.equal(pool.size, 1);
    const { leftOver } = await spoil(spoiled);
    const settled = leftOver.then(
      () => 'resolved',
      () => 'rejected',
    );
    await pool.release(spoiled);
    assert.equal(pool.size, 0, 'the spoiled client is gone from the pool');
    assert.equal(pool.borrowed, 0);
    assert.equal(spoiled.usable, false, 'the pool closed it');
    await within(settled, BOUND, 'the command left on the spoiled client');
    const next = await pool.acquire();
    assert.notEqual(next, spoiled);
    assert.equal(await next.listTubeUsed(), 'default', 'the new client works');
    await pool.release(next);
  });
}

test('a client released twice, or to a pool that did not lend it, is refused with InvalidArgumentError', async (t) => {
  const pool = poolFor(t, { connection: server.url, max: 2 });
  const other = poolFor(t, { connection: server.url, max: 2 });
  const client = await pool.acquire();
  await rejectsAsInvalid(() => other.release(client), 'client', 'release to another pool');
  assert.equal(pool.borrowed, 1, 'the lending pool still counts it as lent');
  await pool.release(client);
  await rejectsAsInvalid(() => pool.release(client), 'client', 'second release');
  assert.equal(pool.size, 1);
  assert.equal(pool.borrowed, 0);
  assert.equal(await within(pool.acquire(), BOUND, 'acquire after the refused release'), client, 'lent once, not twice');
});

test('use returns what work returns and gives the client back', async (t) => {
  const pool = poolFor(t, { connection: server.url, max: 1 });
  let lent: Client | undefined;
  const value = await pool.use(async (client) => {
    lent = client;
    assert.equal(pool.borrowed, 1);
    return { tube: await client.listTubeUsed() };
  });
  assert.deepEqual(value, { tube: 'default' });
  assert.equal(pool.borrowed, 0);
  assert.equal(await pool.use((client) => client), lent, 'the client went back to the pool');
});

test('use gives the client back, reset, when work throws, and rethrows the error', async (t) => {
  const pool = poolFor(t, { connection: server.url, max: 1 });
  const failure = new Error('work failed');
  await assert.rejects(
    pool.use(async (client) => {
      await client.use(uniqueTube());
      throw failure;
    }),
    (error) => error === failure,
  );
  assert.equal(pool.borrowed, 0);
  assert.equal(pool.size, 1, 'a usable client is kept');
  assert.equal(await within(pool.use((client) => client.listTubeUsed()), BOUND, 'use after a failure'), 'default');
});

test('put lands in its tube with its priority, delay and ttr, and leaves the connection on default', async (t) => {
  const pool = poolFor(t, { connection: server.url, max: 1 });
  const tube = uniqueTube();
  const id = await pool.put('pooled', { tube, priority: 5, delay: 30, ttr: 7 });
  const { stats, job, used } = await pool.use(async (client) => ({
    stats: await client.statsJob(id),
    job: await client.peek(id),
    used: await client.listTubeUsed(),
  }));
  assert.deepEqual(
    { tube: stats.tube, state: stats.state, pri: stats.pri, delay: stats.delay, ttr: stats.ttr },
    { tube, state: 'delayed', pri: 5, delay: 30, ttr: 7 },
  );
  assert.equal(job?.body.toString(), 'pooled');
  assert.equal(used, 'default');
  await pool.use((client) => client.delete(id));
});

test('put with a bad tube is refused before a connection is opened', async (t) => {
  const pool = poolFor(t, { connection: server.url, max: 1 });
  await rejectsAsInvalid(() => pool.put('x', { tube: '-bad' }), 'tube');
  assert.equal(pool.size, 0);
});

test('acquire against a port where nothing listens rejects with ConnectionError, not a hang', async (t) => {
  const port = await freePort();
  const pool = poolFor(t, { connection: { host: '127.0.0.1', port }, acquireTimeoutMs: 500 });
  const error = await rejection(pool.acquire(), BOUND, 'acquire on a closed port');
  assert.ok(error instanceof ConnectionError, `got ${String(error)}`);
  assert.ok(error.cause instanceof Error, 'the connect failure is the cause');
  assert.equal(pool.borrowed, 0);
});

test('while connections are refused, a waiting acquire does not retry in a busy loop', async (t) => {
  const port = await freePort();
  const pool = poolFor(t, { connection: { host: '127.0.0.1', port }, acquireTimeoutMs: 500 });
  // A spy, not a mock: every attempt still goes to the real Client.connect.
  const connect = Client.connect;
  let attempts = 0;
  Client.connect = (target) => {
    attempts += 1;
    return connect.call(Client, target);
  };
  try {
    await rejection(pool.acquire(), BOUND, 'acquire on a closed port');
  } finally {
    Client.connect = connect;
  }
  // Some retrying is fine; a new connection every few hundred microseconds is not.
  assert.ok(attempts <= 25, `${attempts} connection attempts in 500 ms`);
});

test('close waits for every lent client to come back, then closes all connections', async (t) => {
  const { pool, observer, baseline } = await countedPool(t, { min: 2, max: 3 });
  const lent = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  await untilConnections(observer, baseline + 3);
  const closing = track(pool.close());
  for (const client of lent) {
    // A round trip on a lent client: it still works, and the close has had time to go ahead.
    assert.equal(await client.listTubeUsed(), 'default');
    assert.equal(closing.settled, false, 'close must wait for the clients still lent');
    await pool.release(client);
  }
  await within(closing.promise, BOUND, 'close after every client came back');
  for (const client of lent) assert.equal(client.usable, false);
  assert.equal(pool.size, 0);
  await untilConnections(observer, baseline);
});

/** Warnings the process emits until the test ends. */
function warningsDuring(t: TestContext): Error[] {
  const warnings: Error[] = [];
  const collect = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', collect);
  t.after(() => process.off('warning', collect));
  return warnings;
}

/** Puts `count` jobs at once; each outcome is the job id or the error. */
function putAtOnce(pool: Pool, count: number, label: string): Promise<PromiseSettledResult<number>[]> {
  return within(
    Promise.allSettled(Array.from({ length: count }, (_, index) => pool.put(`${label} ${index}`))),
    BOUND,
    `${count} puts (${label})`,
  );
}

function rejectionsOf(outcomes: PromiseSettledResult<unknown>[]): unknown[] {
  return outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
}

test('200 concurrent puts on a default pool all land, without a MaxListenersExceededWarning', async (t) => {
  const own = await ownServer(t);
  const observer = await connectFor(t, own.url);
  const pool = poolFor(t, { connection: own.url });
  const warnings = warningsDuring(t);
  const outcomes = await putAtOnce(pool, 200, 'web request');
  assert.deepEqual(rejectionsOf(outcomes), []);
  const ids = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<number>).value);
  assert.equal(new Set(ids).size, 200, 'every put made a job of its own');
  const stats = await observer.stats();
  assert.equal(stats.currentJobsReady, 200);
  assert.equal(stats.totalJobs, 200);
  assert.equal(pool.borrowed, 0);
  assert.ok(pool.size <= 10, `pool.size is ${pool.size}`);
  // Node emits a warning on the next tick: the 200 round trips above came long after.
  assert.deepEqual(
    warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map((warning) => warning.message),
    [],
  );
});

test('against a port where nothing listens, put fails at once with ConnectionError and close takes under 1 s', async (t) => {
  const port = await freePort();
  // The default acquireTimeoutMs (10 s): a close that waited for queued acquire requests would show.
  const pool = poolFor(t, { connection: { host: '127.0.0.1', port } });
  const error = await rejection(pool.put('x'), 1000, 'put on a closed port');
  assert.ok(error instanceof ConnectionError, `got ${String(error)}`);
  await within(pool.close(), 1000, 'close after a refused connect');
  assert.equal(pool.size, 0);
  assert.equal(pool.borrowed, 0);
});

test('200 puts against a down server all fail with ConnectionError, and close takes under 1 s, backoff or not', async (t) => {
  const port = await freePort();
  const pool = poolFor(t, { connection: { host: '127.0.0.1', port } });
  // A spy, not a mock: it only lets the test wait until every dial has failed.
  const connect = Client.connect;
  const dials: Promise<Client>[] = [];
  Client.connect = (target) => {
    const dial = connect.call(Client, target);
    dials.push(dial);
    return dial;
  };
  let outcomes: PromiseSettledResult<number>[];
  try {
    outcomes = await putAtOnce(pool, 200, 'to a down server');
    await within(Promise.allSettled(dials), BOUND, 'the dials');
  } finally {
    Client.connect = connect;
  }
  assert.ok(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof ConnectionError));
  assert.ok(dials.length <= 10, `${dials.length} dials for 200 callers (max 10)`);
  // After those failures the next dial waits 500-1000 ms first: close must not sit that out.
  const late = rejection(pool.put('late'), BOUND, 'a put in the backoff');
  await within(pool.close(), 400, 'close with a dial waiting out its backoff');
  assert.ok((await late) instanceof ConnectionError);
  assert.equal(pool.size, 0);
});

test('a process whose pool met a down server exits as soon as close returns: no timer or socket is left', async (t) => {
  const port = await freePort();
  const script = `
    const { Pool, ConnectionError } = await import(process.argv[1]);
    const pool = new Pool({ connection: { host: '127.0.0.1', port: Number(process.argv[2]) } });
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => pool.put('x')));
    const failed = outcomes.filter((outcome) => outcome.reason instanceof ConnectionError).length;
    await pool.close();
    console.log(JSON.stringify({ failed }));
  `;
  const index = new URL('../../src/index.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, index, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const exited = once(child, 'exit');
  const [line] = (await within(once(child.stdout, 'data'), BOUND, 'the child closing its pool')) as [Buffer];
  assert.deepEqual(JSON.parse(line.toString()), { failed: 200 });
  const [code] = await within(exited, 1000, 'the child exiting after close');
  assert.equal(code, 0);
});

test('a pool whose server dies mid-load fails its callers with ConnectionError, then recovers when it returns', async (t) => {
  const first = await ownServer(t);
  const pool = poolFor(t, { connection: first.url });
  let stopped = false;
  t.after(() => {
    stopped = true;
  });
  // 200 callers put in a loop until a put fails; the server is killed once 1,000 puts have landed.
  let landed = 0;
  let killed: Promise<void> | undefined;
  const callers = Array.from({ length: 200 }, async (_, caller) => {
    while (!stopped) {
      try {
        await pool.put(`caller ${caller}`);
      } catch (error) {
        return error;
      }
      landed += 1;
      if (landed === 1000) killed = first.kill();
    }
    return new Error('stopped by the end of the test');
  });
  const errors = await within(Promise.all(callers), BOUND, 'the callers, through the kill');
  await killed;
  assert.ok(landed >= 1000, `${landed} puts landed`);
  const notConnectionErrors = errors.filter((error) => !(error instanceof ConnectionError));
  assert.deepEqual(notConnectionErrors.map(String), [], 'every caller stops on a ConnectionError');
  assert.equal(pool.borrowed, 0, 'no connection is left lent');

  const down = await putAtOnce(pool, 200, 'while down');
  assert.equal(rejectionsOf(down).filter((error) => error instanceof ConnectionError).length, 200);

  const second = await startServer({ port: first.port });
  t.after(() => second.kill());
  const observer = await connectFor(t, second.url);
  const back = await putAtOnce(pool, 200, 'after the restart');
  assert.deepEqual(rejectionsOf(back).map(String), []);
  assert.equal((await observer.stats()).currentJobsReady, 200, 'the restarted server holds every job of the last wave');
  assert.equal(pool.borrowed, 0);
  assert.ok(pool.size <= 10, `pool.size is ${pool.size}`);
  await within(pool.close(), 1000, 'close after the recovery');
  assert.equal(pool.size, 0);
});

const badBounds: [options: PoolOptions, argument: 'min' | 'max'][] = [
  [{ max: 0 }, 'max'],
  [{ max: -1 }, 'max'],
  [{ max: 2.5 }, 'max'],
  [{ max: Number.NaN }, 'max'],
  [{ min: -1 }, 'min'],
  [{ min: 1.5 }, 'min'],
  [{ min: 3, max: 2 }, 'min'],
];
for (const [options, argument] of badBounds) {
  const label = Object.entries(options)
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');
  test(`new Pool with ${label} throws InvalidArgumentError for ${argument}`, () => {
    assert.throws(
      () => new Pool({ connection: server.url, ...options }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument,
    );
  });
}

test('new Pool with several servers throws InvalidArgumentError pointing at Cluster and Worker', () => {
  for (const connection of [[server.url, 'beanstalk://127.0.0.1:1'], `${server.url},beanstalk://127.0.0.1:1`]) {
    assert.throws(
      () => new Pool({ connection: connection as string }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'connection' && /Cluster/.test(error.message),
    );
  }
});

/**
 * What the client does when things go wrong: the server dies, the client closes or destroys the
 * connection with commands pending, replies do not come, and peers that do not speak the protocol.
 * Every wait is bounded, so a hang fails the test instead of stalling the run.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, ConnectionError, ProtocolError, TimeoutError, type ConnectOptions } from '../../src/index.js';
import {
  endlessLine,
  fakeServer,
  greet,
  onFirstCommand,
  replyOnce,
  silent,
  type Behaviour,
  type FakeServer,
} from '../helpers/fake-server.js';
import {
  closeEvent,
  connectFor,
  onFreshTube,
  ownServer,
  rejection,
  track,
  untilWaiting,
  within,
} from '../helpers/harness.js';
import { sharedServer, startServer, uniqueTube } from '../helpers/server.js';

const server = await sharedServer();

/** How long anything that should happen promptly may take before the test calls it a hang. */
const BOUND = 5000;

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The client has lost its connection: it is unusable, and a new command fails at once, unsent. "At
 * once" is a 1 ms bound: no timer fires before the microtasks of an already rejected promise, so
 * this only passes if the rejection needs no I/O.
 */
async function assertUnusable(client: Client): Promise<void> {
  assert.equal(client.usable, false);
  const later = await rejection(client.stats(), 1, 'a command after the connection was lost');
  assert.ok(later instanceof ConnectionError, `a later command got ${String(later)}`);
  assert.equal(later.maybeApplied, false);
}

/** As assertUnusable, after a 'close' event carrying an error of class `kind`. */
async function assertLost(client: Client, closed: Promise<Error | undefined>, kind: ErrorClass): Promise<void> {
  const reason = await within(closed, BOUND, "the 'close' event");
  assert.ok(reason instanceof kind, `'close' came with ${String(reason)}`);
  await assertUnusable(client);
}

interface Parked {
  readonly client: Client;
  readonly closed: Promise<Error | undefined>;
  /** How the reserve, then each command `behind` issued, rejected. */
  readonly lost: Promise<Error>[];
}

/**
 * An idle worker whose reserve the server has parked, with whatever `behind` issues on the same
 * connection in the same tick: all written, none answerable until a job comes.
 */
async function parkedReserve(
  t: TestContext,
  target: string | ConnectOptions = server.url,
  behind: (client: Client) => Promise<unknown>[] = () => [],
): Promise<Parked> {
  const { client, tube } = await onFreshTube(t, target);
  const observer = await connectFor(t, target);
  const closed = closeEvent(client);
  const commands = [client.reserve(), ...behind(client)];
  const lost = commands.map((command, i) => rejection(command, BOUND, `command ${i} behind the reserve`));
  await within(untilWaiting(observer, tube), BOUND, 'reserve waiting');
  return { client, closed, lost };
}

async function assertPeerSawClose(fake: FakeServer): Promise<void> {
  await within((await fake.peer).closed, BOUND, 'the peer seeing the connection closed');
}

function assertConnectionErrors(errors: readonly Error[], maybeApplied: boolean): void {
  for (const error of errors) {
    assert.ok(error instanceof ConnectionError, `got ${String(error)}`);
    assert.equal(error.maybeApplied, maybeApplied, error.message);
  }
}

test('the server killed: a waiting reserve and the puts in flight behind it reject with ConnectionError', async (t) => {
  const own = await ownServer(t);
  // maxJobSize given, so the puts go out at once rather than behind a `stats` for it. Behind a
  // blocking reserve they are written but cannot be answered: certainly in flight.
  const target = { host: own.host, port: own.port, maxJobSize: 65535 };
  const { client, closed, lost } = await parkedReserve(t, target, (worker) =>
    Array.from({ length: 5 }, (_, i) => worker.put(`in flight ${i}`)),
  );
  await own.kill();

  assertConnectionErrors(await Promise.all(lost), true);
  await assertLost(client, closed, ConnectionError);
});

test('the server killed during a stream of puts: answered ones resolve, the rest reject in order', async (t) => {
  const own = await ownServer(t);
  const client = await connectFor(t, own.url);
  await client.put('warm-up'); // reads max-job-size, so the puts below go straight to the connection
  const closed = closeEvent(client);

  const count = 20_000;
  const outcomes = Array.from({ length: count }, (_, i) =>
    client.put(`job ${i}`).then(
      (id) => ({ id }),
      (error: unknown) => ({ error }),
    ),
  );
  await within(outcomes[0] as Promise<unknown>, BOUND, 'the first put');
  await own.kill();

  // 0: resolved, 1: lost after it was written, 2: lost before it was written. Replies come in order and
  // commands are written in order, so the kinds can only go up along the stream.
  const kinds = (await within(Promise.all(outcomes), BOUND, 'every put settling')).map((outcome) => {
    if ('id' in outcome) return 0;
    assert.ok(outcome.error instanceof ConnectionError, `a put failed with ${String(outcome.error)}`);
    return outcome.error.maybeApplied ? 1 : 2;
  });
  kinds.forEach((kind, i) => {
    if (i > 0) assert.ok(kind >= (kinds[i - 1] as number), `put #${i} settled out of order (${kinds[i - 1]} then ${kind})`);
  });
  assert.ok((kinds.at(-1) as number) > 0, 'the server answered every put before it died');
  await assertLost(client, closed, ConnectionError);
});

for (const { label, warmUp } of [
  { label: 'puts issued right before it', warmUp: true },
  { label: "a new client's first puts, issued right before it while they wait for max-job-size", warmUp: false },
]) {
  test(`close() waits for the replies to ${label}, then closes cleanly`, async (t) => {
    const client = await connectFor(t, server.url);
    const tube = uniqueTube('closing');
    await client.use(tube);
    if (warmUp) await client.put('warm-up');
    const closed = closeEvent(client);

    const puts = Array.from({ length: 20 }, (_, i) => client.put(`before close ${i}`));
    const closing = client.close();
    assert.equal(client.usable, false);
    const ids = await within(Promise.all(puts), BOUND, 'puts issued before close()');
    assert.equal(ids.length, 20);
    await within(closing, BOUND, 'close()');
    assert.equal(await within(closed, BOUND, "the 'close' event"), undefined);
    await assertUnusable(client);

    const observer = await connectFor(t, server.url);
    assert.equal((await observer.statsTube(tube)).totalJobs, warmUp ? 21 : 20);
  });
}

test('close() rejects a reserve still waiting for a job, resolves, and is a clean close', async (t) => {
  const { client, closed, lost } = await parkedReserve(t);
  await within(client.close(), BOUND, 'close()');
  assertConnectionErrors(await Promise.all(lost), true);
  await assertUnusable(client);
  // The client asked for the close; a reserve it gave up on is not a failure of the connection.
  const reason = await within(closed, BOUND, "the 'close' event");
  assert.equal(reason, undefined, `close() with a reserve waiting emitted 'close' with: ${reason?.message}`);
});

test('destroy() rejects commands in flight (maybe applied) and not yet written (not sent)', async (t) => {
  const { client, closed, lost } = await parkedReserve(t);
  // Issued in the same tick as destroy(): never written.
  const unsent = rejection(client.listTubeUsed(), BOUND, 'list-tube-used');
  client.destroy();
  assertConnectionErrors(await Promise.all(lost), true);
  assertConnectionErrors([await unsent], false);
  await assertLost(client, closed, ConnectionError);
});

test('commandTimeoutMs: a peer that never answers fails the oldest command with TimeoutError and closes', async (t) => {
  const fake = await fakeServer(t, silent);
  const client = await connectFor(t, { host: '127.0.0.1', port: fake.port, commandTimeoutMs: 200 });
  const closed = closeEvent(client);
  const started = Date.now();
  const stats = rejection(client.stats(), BOUND, 'stats');
  const use = rejection(client.use('some-tube'), BOUND, 'use');
  const put = rejection(client.put('job'), BOUND, 'put');

  const timedOut = await stats;
  const elapsed = Date.now() - started;
  assert.ok(timedOut instanceof TimeoutError, `stats got ${String(timedOut)}`);
  assert.equal(timedOut.command, 'stats');
  assert.equal(timedOut.timeoutMs, 200);
  assert.ok(elapsed >= 190 && elapsed < 2000, `timed out after ${elapsed} ms`);
  assertConnectionErrors([await use], true);
  // The put was still waiting for max-job-size (its `stats` was in flight too): it never went out.
  assertConnectionErrors([await put], false);
  await assertLost(client, closed, ConnectionError);
  await assertPeerSawClose(fake);
});

test('commandTimeoutMs: a first put to a silent peer rejects with TimeoutError, not a ConnectionError wrapping it', async (t) => {
  const fake = await fakeServer(t, silent);
  const client = await connectFor(t, { host: '127.0.0.1', port: fake.port, commandTimeoutMs: 200 });
  // The put waits for the server's max-job-size, read by a `stats` that never gets its reply.
  const put = await rejection(client.put('job'), BOUND, 'put');
  assert.ok(put instanceof TimeoutError, `put got ${String(put)}`);
  assert.equal(put.command, 'put');
  assert.equal(put.timeoutMs, 200);
  assert.match(put.message, /max-job-size.*not sent/);
  assert.ok(put.cause instanceof TimeoutError, 'the stats timeout is the cause');
});

test('commandTimeoutMs never applies to reserve, nor to a command waiting behind it', async (t) => {
  const { client, tube } = await onFreshTube(t, { host: server.host, port: server.port, commandTimeoutMs: 100 });
  const reserved = track(client.reserve());
  const behind = track(client.listTubeUsed());
  // Time is the subject here: well past the command timeout, nothing has failed.
  await delay(400);
  assert.equal(reserved.settled, false);
  assert.equal(behind.settled, false);
  assert.equal(client.usable, true);

  const producer = await connectFor(t, server.url);
  await producer.use(tube);
  const fed = await producer.put('worth the wait');
  const job = await within(reserved.promise, BOUND, 'reserve');
  assert.equal(job.id, fed);
  assert.equal(await within(behind.promise, BOUND, 'list-tube-used behind the reserve'), tube);
  await client.delete(job.id);
  assert.equal(client.usable, true);
});

test('commandTimeoutMs: reserveWithTimeout(1) gets its second on top and returns null, not a TimeoutError', async (t) => {
  const { client, tube } = await onFreshTube(t, { host: server.host, port: server.port, commandTimeoutMs: 100 });
  const started = Date.now();
  const job = await within(client.reserveWithTimeout(1), BOUND, 'reserve-with-timeout 1');
  const elapsed = Date.now() - started;
  assert.equal(job, null);
  assert.ok(elapsed >= 900 && elapsed < 3000, `TIMED_OUT after ${elapsed} ms`);
  assert.equal(client.usable, true);
  assert.equal(await client.listTubeUsed(), tube);
});

test('connectTimeoutMs: a TLS handshake that never completes fails with TimeoutError', async (t) => {
  // A TCP connect on loopback cannot be made to hang reliably; a TLS handshake with a silent peer can.
  const fake = await fakeServer(t, silent);
  const started = Date.now();
  const error = await rejection(
    Client.connect({ host: '127.0.0.1', port: fake.port, tls: true, connectTimeoutMs: 200 }),
    BOUND,
    'connect',
  );
  const elapsed = Date.now() - started;
  assert.ok(error instanceof TimeoutError, `connect got ${String(error)}`);
  assert.equal(error.command, 'connect');
  assert.equal(error.timeoutMs, 200);
  assert.ok(elapsed >= 190 && elapsed < 2000, `gave up after ${elapsed} ms`);
  await assertPeerSawClose(fake);
});

const HOSTILE: { name: string; behave: Behaviour; first: ErrorClass }[] = [
  { name: 'garbage instead of a reply', behave: replyOnce('hello\r\n'), first: ProtocolError },
  { name: 'an absurd data block size', behave: replyOnce('OK 99999999999\r\n'), first: ProtocolError },
  { name: 'a line that never ends', behave: endlessLine(64 * 1024 * 1024), first: ProtocolError },
  {
    name: 'a close in the middle of a data block',
    behave: onFirstCommand((socket) => socket.end('OK 100\r\n0123456789')),
    first: ConnectionError,
  },
  { name: 'a reply the command cannot get (WATCHING to a put)', behave: replyOnce('WATCHING 1\r\n'), first: ProtocolError },
];

for (const { name, behave, first } of HOSTILE) {
  test(`a peer that sends ${name}: every pending command fails and the connection closes`, async (t) => {
    const fake = await fakeServer(t, behave);
    // maxJobSize given: the put goes out at once instead of asking the peer for stats first.
    const client = await connectFor(t, { host: '127.0.0.1', port: fake.port, maxJobSize: 65535 });
    const closed = closeEvent(client);
    const [put, ...others] = [client.put('job'), client.use('some-tube'), client.stats()].map((command, i) =>
      rejection(command, BOUND, `command ${i}`),
    );
    const error = await (put as Promise<Error>);
    assert.ok(error instanceof first, `the put got ${String(error)}`);
    for (const other of await Promise.all(others)) {
      assert.ok(other instanceof ProtocolError || other instanceof ConnectionError, `got ${String(other)}`);
    }
    await assertLost(client, closed, first);
    await assertPeerSawClose(fake);
  });
}

test('a peer that replies when no command was sent: the connection closes with ProtocolError', async (t) => {
  const fake = await fakeServer(t, greet('INSERTED 1\r\n'));
  const client = await connectFor(t, { host: '127.0.0.1', port: fake.port });
  await assertLost(client, closeEvent(client), ProtocolError);
  await assertPeerSawClose(fake);
});

test('maxJobSize only raises the limit on reply data blocks: a longer tube list is still read', async (t) => {
  const own = await startServer({ maxJobSize: 1024 });
  t.after(() => own.kill());
  const client = await connectFor(t, { host: own.host, port: own.port, maxJobSize: 1024 });
  const names = Array.from({ length: 10 }, (_, i) => uniqueTube(`long${i}`).padEnd(200, '_'));
  await Promise.all(names.map((name) => client.watch(name)));
  // About 2 KB of YAML: above max-job-size, far below the 64 MiB default limit.
  const tubes = await within(client.listTubes(), BOUND, 'list-tubes');
  assert.deepEqual([...tubes].sort(), ['default', ...names].sort());
});

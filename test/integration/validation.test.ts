/**
 * Arguments beanstalkd would refuse are rejected with InvalidArgumentError before anything is sent:
 * the server's command counters prove it, and the same client keeps working.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Client,
  ConnectionError,
  InvalidArgumentError,
  MAX_UINT32,
  type ConnectOptions,
  type ServerStats,
} from '../../src/index.js';
import { connectOnTube, rejectsAsInvalid } from '../helpers/assertions.js';
import { freePort, serverForFile, uniqueTube } from '../helpers/server.js';

const MAX_JOB_SIZE = 1024;
/** A server of this file's own, so that no other test moves its counters. */
const server = await serverForFile({ maxJobSize: MAX_JOB_SIZE });

/** Every `cmd-*` counter and total-jobs: what any command the client sent would move. */
function counters(stats: ServerStats): Record<string, number> {
  const entries = Object.entries(stats).filter(([key]) => key.startsWith('cmd') || key === 'totalJobs');
  return Object.fromEntries(entries) as Record<string, number>;
}

/**
 * `call` is refused with InvalidArgumentError for `argument`, and between two `stats` of the same
 * client the server counted nothing but the second `stats`: the bad command was never sent, and the
 * client still works.
 */
async function refusedUnsent(client: Client, call: () => Promise<unknown>, argument: string, label: string): Promise<void> {
  const before = counters(await client.stats());
  await rejectsAsInvalid(call, argument, label);
  const after = counters(await client.stats());
  assert.deepEqual(after, { ...before, cmdStats: before['cmdStats']! + 1 }, `${label}: the server saw a command`);
  assert.equal(client.usable, true);
}

interface Case {
  command: string;
  argument: string;
  bad: unknown[];
  call: (client: Client, value: never) => Promise<unknown>;
}

const badTubes = ['', 'a'.repeat(201), 'with space', 'star*', 'é', '-leading-dash', 'tab\t', 42, null, undefined];
const badNumbers = [-1, 2 ** 32, 1.5, NaN, Infinity, '1', null];
const badIds = [0, -1, 1.5, NaN, 2 ** 53, Infinity, '1', null];
/** Any id will do where the argument under test comes after it: nothing reaches the server. */
const ID = 1;

const cases: Case[] = [
  ...(['use', 'watch', 'ignore', 'statsTube'] as const).map((command) => ({
    command,
    argument: 'tube',
    bad: badTubes,
    call: (client: Client, tube: never) => client[command](tube),
  })),
  { command: 'pauseTube', argument: 'tube', bad: badTubes, call: (client, tube) => client.pauseTube(tube, 1) },
  { command: 'put', argument: 'priority', bad: badNumbers, call: (client, priority) => client.put('x', { priority }) },
  { command: 'put', argument: 'delay', bad: badNumbers, call: (client, delay) => client.put('x', { delay }) },
  { command: 'put', argument: 'ttr', bad: badNumbers, call: (client, ttr) => client.put('x', { ttr }) },
  { command: 'release', argument: 'priority', bad: badNumbers, call: (client, priority) => client.release(ID, { priority }) },
  { command: 'release', argument: 'delay', bad: badNumbers, call: (client, delay) => client.release(ID, { delay }) },
  { command: 'bury', argument: 'priority', bad: badNumbers, call: (client, priority) => client.bury(ID, priority) },
  { command: 'reserveWithTimeout', argument: 'seconds', bad: badNumbers, call: (client, seconds) => client.reserveWithTimeout(seconds) },
  { command: 'pauseTube', argument: 'seconds', bad: badNumbers, call: (client, seconds) => client.pauseTube('default', seconds) },
  { command: 'kick', argument: 'bound', bad: badNumbers, call: (client, bound) => client.kick(bound) },
  ...(['reserveJob', 'delete', 'release', 'bury', 'touch', 'peek', 'kickJob', 'statsJob'] as const).map((command) => ({
    command,
    argument: 'id',
    bad: badIds,
    call: (client: Client, id: never) => client[command](id),
  })),
  { command: 'put', argument: 'body', bad: [42, null, undefined, {}, [1, 2, 3], true], call: (client, body) => client.put(body) },
];

for (const { command, argument, bad, call } of cases) {
  // Bounded: were a bad value sent, a reserve could block and the test would otherwise hang.
  test(`${command}: a bad ${argument} is refused before sending`, { timeout: 10_000 }, async () => {
    await using client = await Client.connect(server.url);
    for (const value of bad) {
      const label = `${command}(${argument} = ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`;
      await refusedUnsent(client, () => call(client, value as never), argument, label);
    }
  });
}

test('the edges of every range are sent and accepted', async () => {
  const tube = uniqueTube();
  await using client = await connectOnTube(server.url, tube);
  const id = await client.put('edges', { priority: MAX_UINT32, delay: MAX_UINT32, ttr: 0 });
  const stats = await client.statsJob(id);
  assert.deepEqual([stats.pri, stats.delay, stats.ttr], [MAX_UINT32, MAX_UINT32, 1], 'a ttr of 0 is raised to 1');
  assert.equal(await client.kick(MAX_UINT32), 1);
  assert.equal(await client.peek(Number.MAX_SAFE_INTEGER), null, 'the largest id is sent; there is no such job');
  await client.delete(id);
});

test('the longest and oddest tube names are accepted, and the longest command line fits', async () => {
  const longest = 'a'.repeat(199) + '9';
  const punctuated = `${uniqueTube()}+/;.$_()-`;
  await using client = await Client.connect(server.url);
  for (const tube of [longest, punctuated]) {
    assert.equal(await client.use(tube), tube);
    assert.equal(await client.watch(tube), 2);
    assert.equal(await client.ignore(tube), 1);
  }
  await client.watch(longest);
  // `pause-tube <200 bytes> 4294967295\r\n` is 224 bytes: the server's line limit exactly.
  await client.pauseTube(longest, MAX_UINT32);
  assert.equal((await client.statsTube(longest)).pause, MAX_UINT32);
  await client.pauseTube(longest, 0);
});

test(`a body larger than max-job-size (${MAX_JOB_SIZE}) is refused before sending; exactly max-job-size is accepted`, async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const id = await client.put(Buffer.alloc(MAX_JOB_SIZE, 'm'));
  assert.equal((await client.peek(id))?.body.length, MAX_JOB_SIZE);
  await refusedUnsent(client, () => client.put(Buffer.alloc(MAX_JOB_SIZE + 1, 'm')), 'body', 'one byte too many');
  await refusedUnsent(client, () => client.put('é'.repeat(MAX_JOB_SIZE / 2) + 'x'), 'body', 'UTF-8 bytes, not characters, count');
  await client.delete(id);
});

test('an oversized first put reads max-job-size, then is refused without sending the put', async () => {
  await using client = await Client.connect(server.url);
  const before = counters(await client.stats());
  await rejectsAsInvalid(() => client.put(Buffer.alloc(MAX_JOB_SIZE + 1)), 'body');
  const after = counters(await client.stats());
  assert.deepEqual(after, { ...before, cmdStats: before['cmdStats']! + 2 }, 'only the read of max-job-size and this stats');
});

test('max-job-size is read from stats once, before the first put only', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const before = counters(await client.stats());
  const ids = await Promise.all([client.put('a'), client.put('b'), client.put('c')]);
  ids.push(await client.put('d'));
  const after = counters(await client.stats());
  assert.equal(after['cmdStats']! - before['cmdStats']!, 2, 'one read of max-job-size, plus this stats');
  assert.equal(after['cmdPut']! - before['cmdPut']!, 4);
  for (const id of ids) await client.delete(id);
});

test('commands issued while max-job-size is read keep their order', async () => {
  const tube = uniqueTube();
  await using client = await Client.connect(server.url);
  // Issued in one go: the first put waits for the read of max-job-size, and so must what follows it.
  const first = client.put('to the tube in use');
  const used = client.use(tube);
  const usedNow = client.listTubeUsed();
  const second = client.put('to the new tube');
  assert.deepEqual(await Promise.all([used, usedNow]), [tube, tube]);
  const [firstStats, secondStats] = await Promise.all([client.statsJob(await first), client.statsJob(await second)]);
  assert.equal(firstStats.tube, 'default');
  assert.equal(secondStats.tube, tube);
  await Promise.all([client.delete(firstStats.id), client.delete(secondStats.id)]);
});

const badTargets: [target: string | ConnectOptions, argument: string][] = [
  ['http://127.0.0.1:11300', 'url'],
  ['not a url', 'url'],
  ['beanstalk://127.0.0.1:99999', 'url'],
  ['beanstalk://127.0.0.1:0', 'port'],
  [{ port: 70000 }, 'port'],
  [{ port: 1.5 }, 'port'],
  [{ port: 0 }, 'port'],
  [{ port: 11300, coalesceReads: 'yes' as unknown as boolean }, 'coalesceReads'],
  [{ port: 11300, coalesceReads: 1 as unknown as boolean }, 'coalesceReads'],
];

test('Client.connect: a bad URL, scheme, port or option is an InvalidArgumentError', async () => {
  for (const [target, argument] of badTargets) {
    await rejectsAsInvalid(() => Client.connect(target), argument, JSON.stringify(target));
  }
});

test('Client.connect: ConnectionError when nothing listens on the port', async () => {
  const port = await freePort();
  await assert.rejects(Client.connect(`beanstalk://127.0.0.1:${port}`), (error: unknown) => {
    assert.ok(error instanceof ConnectionError, `expected ConnectionError, got ${String(error)}`);
    assert.ok(!(error instanceof InvalidArgumentError));
    return true;
  });
});

/**
 * Every Client command against a real beanstalkd: its success reply, and each error reply the server
 * can really give it. After every error reply the connection must still answer.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BadFormatError,
  BeanstalkError,
  Client,
  Connection,
  ConnectionError,
  DeadlineSoonError,
  DrainingError,
  ExpectedCrlfError,
  JobTooBigError,
  NotFoundError,
  NotIgnoredError,
  UnknownCommandError,
  type Job,
  type JobStats,
  type ServerErrorCode,
} from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { COMMANDS, type Command, type Request } from '../../src/protocol/commands.js';
import type { Reply } from '../../src/protocol/reply.js';
import { connectOnTube, isReplyError, rejectsWithReply } from '../helpers/assertions.js';
import { serverForFile, sharedServer, uniqueTube } from '../helpers/server.js';

const server = await sharedServer();
/** Its -z is small, for JOB_TOO_BIG. */
const small = await serverForFile({ maxJobSize: 1024 });
/** Put into drain mode by one test, so no other test may use it. */
const draining = await serverForFile();

/** The id of a job that existed and was deleted: certainly not on the server any more. */
async function deletedJobId(client: Client): Promise<number> {
  const id = await client.put('short-lived');
  await client.delete(id);
  return id;
}

function summary(stats: JobStats): Pick<JobStats, 'tube' | 'state' | 'pri' | 'delay' | 'ttr'> {
  const { tube, state, pri, delay, ttr } = stats;
  return { tube, state, pri, delay, ttr };
}

/**
 * A request sent as given, past the client's checks: `head` is the raw bytes to write, `command`
 * the table entry whose replies decode its answer, under the name `name`.
 */
function rawRequest<T>(command: Command<T>, head: string, name = command.name): Request<T> {
  return { command: { ...command, name }, args: [], head, body: null, holdMs: 0, tube: null };
}

/** A low-level connection to the shared server, closed after `use`. */
async function withConnection<T>(use: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.open(resolveOptions(server.url));
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

test('put returns a new id and stores priority, delay and ttr', async () => {
  const tube = uniqueTube();
  await using client = await connectOnTube(server.url, tube);
  const plain = await client.put('plain');
  const custom = await client.put('custom', { priority: 7, delay: 30, ttr: 5 });
  const urgent = await client.put('urgent', { priority: 0 });
  assert.ok(Number.isSafeInteger(plain) && plain > 0);
  assert.ok(custom > plain && urgent > custom, 'ids grow');
  assert.deepEqual(summary(await client.statsJob(plain)), { tube, state: 'ready', pri: 1024, delay: 0, ttr: 60 });
  assert.deepEqual(summary(await client.statsJob(custom)), { tube, state: 'delayed', pri: 7, delay: 30, ttr: 5 });
  // The most urgent ready job is reserved first, whatever the order of puts.
  assert.equal((await client.reserve()).id, urgent);
});

test('use selects the tube put goes to', async () => {
  const tube = uniqueTube();
  await using client = await Client.connect(server.url);
  assert.equal(await client.listTubeUsed(), 'default');
  assert.equal(await client.use(tube), tube);
  assert.equal(client.using, tube);
  assert.equal(await client.listTubeUsed(), tube);
  const id = await client.put('x');
  assert.equal((await client.statsJob(id)).tube, tube);
  await client.delete(id);
});

test('reserve hands over a ready job of a watched tube, with its body', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const id = await client.put('work');
  const job = await client.reserve();
  assert.equal(job.id, id);
  assert.equal(job.body.toString(), 'work');
  const stats = await client.statsJob(id);
  assert.equal(stats.state, 'reserved');
  assert.equal(stats.reserves, 1);
});

test('reserveWithTimeout: a job when one is ready, null (TIMED_OUT) after 0 seconds when none is', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  assert.equal(await client.reserveWithTimeout(0), null);
  const id = await client.put('ready');
  const job = await client.reserveWithTimeout(0);
  assert.equal(job?.id, id);
  assert.equal(job?.body.toString(), 'ready');
  assert.equal(await client.reserveWithTimeout(0), null, 'the only job is reserved now');
});

const reserveCalls: [command: string, call: (client: Client) => Promise<unknown>][] = [
  ['reserve-with-timeout', (client) => client.reserveWithTimeout(2)],
  ['reserve', (client) => client.reserve()],
];
for (const [command, call] of reserveCalls) {
  test(`${command}: DeadlineSoonError while this connection holds a job at the end of its TTR`, async () => {
    await using client = await connectOnTube(server.url, uniqueTube());
    const id = await client.put('slow', { ttr: 1 });
    assert.equal((await client.reserve()).id, id);
    await rejectsWithReply(client, call(client), DeadlineSoonError, 'DEADLINE_SOON', command);
    await client.delete(id);
  });
}

test('reserveJob reserves a job by id in any state; NotFoundError for a missing id', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const delayed = await client.put('later', { delay: 60 });
  const job = await client.reserveJob(delayed);
  assert.equal(job.id, delayed);
  assert.equal(job.body.toString(), 'later');
  assert.equal((await client.statsJob(delayed)).state, 'reserved');
  await rejectsWithReply(client, client.reserveJob(await deletedJobId(client)), NotFoundError, 'NOT_FOUND', 'reserve-job');
});

test('delete removes a job', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const ready = await client.put('ready');
  await client.delete(ready);
  assert.equal(await client.peek(ready), null);
  const reserved = await client.put('reserved');
  assert.equal((await client.reserve()).id, reserved);
  await client.delete(reserved);
  assert.equal(await client.peek(reserved), null);
});

test('release puts a reserved job back with a new priority, or delayed', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const id = await client.put('again');
  await client.reserve();
  await client.release(id, { priority: 5 });
  const released = await client.statsJob(id);
  assert.equal(released.state, 'ready');
  assert.equal(released.pri, 5);
  assert.equal(released.releases, 1);
  await client.reserve();
  await client.release(id, { delay: 60 });
  assert.deepEqual(summary(await client.statsJob(id)), { tube: released.tube, state: 'delayed', pri: 1024, delay: 60, ttr: 60 });
});

test('bury keeps a reserved job aside with a new priority', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const id = await client.put('broken');
  await client.reserve();
  await client.bury(id, 9);
  const stats = await client.statsJob(id);
  assert.equal(stats.state, 'buried');
  assert.equal(stats.pri, 9);
  assert.equal(stats.buries, 1);
  assert.equal((await client.peekBuried())?.id, id);
});

test('touch restarts the TTR of a reserved job', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const id = await client.put('long', { ttr: 2 });
  await client.reserve();
  // Let the job come within a second of its TTR (the server shows whole seconds): then it is due.
  const deadline = Date.now() + 3000;
  while ((await client.statsJob(id)).timeLeft > 0) {
    assert.ok(Date.now() < deadline, 'time-left did not reach 0 within 3 s');
    await sleep(50);
  }
  await rejectsWithReply(client, client.reserveWithTimeout(0), DeadlineSoonError, 'DEADLINE_SOON', 'reserve-with-timeout');
  await client.touch(id);
  const stats = await client.statsJob(id);
  assert.deepEqual([stats.state, stats.timeLeft, stats.timeouts], ['reserved', 1, 0]);
  assert.equal(await client.reserveWithTimeout(0), null, 'the touched job is no longer due');
  await client.delete(id);
});

/** Commands on one job id and whether only the connection that reserved the job may use them. */
const jobCommands: [command: string, call: (client: Client, id: number) => Promise<unknown>, reserverOnly: boolean][] = [
  ['delete', (client, id) => client.delete(id), true],
  ['release', (client, id) => client.release(id), true],
  ['bury', (client, id) => client.bury(id), true],
  ['touch', (client, id) => client.touch(id), true],
  ['reserve-job', (client, id) => client.reserveJob(id), true],
  ['kick-job', (client, id) => client.kickJob(id), false],
  ['stats-job', (client, id) => client.statsJob(id), false],
];
for (const [command, call, reserverOnly] of jobCommands) {
  const also = reserverOnly ? ' and for a job reserved by another connection' : '';
  test(`${command}: NotFoundError for an id that does not exist${also}`, async () => {
    const tube = uniqueTube();
    await using owner = await connectOnTube(server.url, tube);
    await using other = await connectOnTube(server.url, tube);
    await rejectsWithReply(other, call(other, await deletedJobId(owner)), NotFoundError, 'NOT_FOUND', command);
    if (!reserverOnly) return;
    const id = await owner.put('mine');
    assert.equal((await owner.reserve()).id, id);
    await rejectsWithReply(other, call(other, id), NotFoundError, 'NOT_FOUND', command);
    assert.equal((await owner.statsJob(id)).state, 'reserved', 'the job is untouched');
    await owner.delete(id);
  });
}

test('watch and ignore return the number of watched tubes; NotIgnoredError for the last one', async () => {
  const [first, second] = [uniqueTube(), uniqueTube()];
  await using client = await Client.connect(server.url);
  assert.equal(await client.watch(first), 2);
  assert.equal(await client.watch(first), 2, 'watching twice counts once');
  assert.equal(await client.watch(second), 3);
  assert.equal(await client.ignore('default'), 2);
  assert.deepEqual((await client.listTubesWatched()).sort(), [first, second].sort());
  assert.deepEqual(client.watched.sort(), [first, second].sort());
  assert.equal(await client.ignore(first), 1);
  await rejectsWithReply(client, client.ignore(second), NotIgnoredError, 'NOT_IGNORED', 'ignore');
  assert.deepEqual(await client.listTubesWatched(), [second]);
  assert.deepEqual(client.watched, [second]);
});

test('peek, peekReady, peekDelayed and peekBuried: the job, or null', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const peeks = (): Promise<(Job | null)[]> => Promise.all([client.peekReady(), client.peekDelayed(), client.peekBuried()]);
  assert.deepEqual(await peeks(), [null, null, null]);
  assert.equal(await client.peek(await deletedJobId(client)), null);
  const buried = await client.put('buried');
  await client.reserve();
  await client.bury(buried);
  const ready = await client.put('ready');
  const delayed = await client.put('delayed', { delay: 60 });
  const found = await peeks();
  assert.deepEqual(found.map((job) => job?.id), [ready, delayed, buried]);
  assert.deepEqual(found.map((job) => job?.body.toString()), ['ready', 'delayed', 'buried']);
  assert.equal((await client.reserve()).id, ready);
  assert.equal((await client.peek(ready))?.body.toString(), 'ready', 'peek finds a reserved job too');
});

test('kick moves buried jobs first, delayed ones only when none is buried', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const delayed = await client.put('delayed', { delay: 60 });
  const buried = [await client.put('b1'), await client.put('b2')];
  for (const id of buried) {
    await client.reserveJob(id);
    await client.bury(id);
  }
  assert.equal(await client.kick(1), 1);
  assert.equal(await client.kick(10), 1, 'the second buried job, not the delayed one');
  assert.equal((await client.statsJob(delayed)).state, 'delayed');
  for (const id of buried) assert.equal((await client.statsJob(id)).state, 'ready');
  assert.equal(await client.kick(10), 1);
  assert.equal((await client.statsJob(delayed)).state, 'ready');
  assert.equal(await client.kick(10), 0);
});

test('kickJob moves one buried or delayed job to ready; NotFoundError for a ready job', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const delayed = await client.put('delayed', { delay: 60 });
  const buried = await client.put('buried');
  await client.reserveJob(buried);
  await client.bury(buried);
  for (const id of [delayed, buried]) {
    await client.kickJob(id);
    assert.equal((await client.statsJob(id)).state, 'ready');
  }
  await rejectsWithReply(client, client.kickJob(delayed), NotFoundError, 'NOT_FOUND', 'kick-job');
});

function camelCase(key: string): string {
  return key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The raw `key: value` lines of a stats reply, read without the client's parser. */
const rawFields = (reply: Reply): Map<string, string> => {
  assert.equal(reply.word, 'OK');
  const lines = (reply.body as Buffer).toString('utf8').split('\n').filter((line) => line !== '' && line !== '---');
  return new Map(lines.map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
};

interface StatsReply {
  command: string;
  read: (client: Client, id: number, tube: string) => Promise<object>;
  line: (id: number, tube: string) => string;
  /** Fields that are text (every other one is a number, or a boolean when listed in `flags`). */
  text: string[];
  flags: string[];
  /** Numbers that do not change between two reads a moment apart. */
  stable: string[];
}

const statsReplies: StatsReply[] = [
  {
    command: 'stats',
    read: (client) => client.stats(),
    line: () => 'stats\r\n',
    text: ['version', 'id', 'hostname', 'os', 'platform'],
    flags: ['draining'],
    stable: ['max-job-size', 'pid', 'binlog-max-size'],
  },
  {
    command: 'stats-job',
    read: (client, id) => client.statsJob(id),
    line: (id) => `stats-job ${id}\r\n`,
    text: ['tube', 'state'],
    flags: [],
    stable: ['id', 'pri', 'delay', 'ttr', 'reserves'],
  },
  {
    command: 'stats-tube',
    read: (client, _id, tube) => client.statsTube(tube),
    line: (_id, tube) => `stats-tube ${tube}\r\n`,
    text: ['name'],
    flags: [],
    stable: ['current-jobs-ready', 'total-jobs', 'pause'],
  },
];

for (const { command, read, line, text, flags, stable } of statsReplies) {
  test(`${command}: every field of the server's reply, camelCased, with its JavaScript type`, async () => {
    const tube = uniqueTube();
    await using client = await connectOnTube(server.url, tube);
    const id = await client.put('x', { priority: 3, ttr: 9 });
    const stats: Command<Map<string, string>> = { ...COMMANDS.stats, value: rawFields };
    const raw = await withConnection((connection) => connection.send(rawRequest(stats, line(id, tube), command)));
    const parsed = (await read(client, id, tube)) as Record<string, unknown>;
    assert.ok(raw.size >= 10, `${raw.size} fields`);
    assert.deepEqual(Object.keys(parsed).sort(), [...raw.keys()].map(camelCase).sort());
    for (const [key, value] of raw) {
      const got = parsed[camelCase(key)];
      if (text.includes(key)) assert.equal(got, value.replace(/^"(.*)"$/, '$1'), key);
      else if (flags.includes(key)) assert.equal(got, value === 'true', key);
      else assert.ok(typeof got === 'number' && Number.isFinite(got), `${key}: ${String(got)} is not a number`);
      if (stable.includes(key)) assert.equal(got, Number(value), key);
    }
    await client.delete(id);
  });
}

test('stats: version, max-job-size and draining of a default server', async () => {
  await using client = await Client.connect(server.url);
  const stats = await client.stats();
  assert.equal(stats.version, '1.12');
  assert.ok(stats.maxJobSize > 0);
  assert.equal(stats.draining, false);
  assert.ok(stats.currentConnections >= 1);
  assert.ok(stats.cmdStats >= 1);
});

test('statsJob: state is ready, delayed, reserved or buried', async () => {
  await using client = await connectOnTube(server.url, uniqueTube());
  const reserved = await client.put('reserved', { priority: 1 });
  const buried = await client.put('buried', { priority: 2 });
  const ready = await client.put('ready', { priority: 3 });
  const delayed = await client.put('delayed', { delay: 60 });
  await client.reserveJob(buried);
  await client.bury(buried);
  await client.reserve();
  const states = await Promise.all([ready, delayed, reserved, buried].map(async (id) => (await client.statsJob(id)).state));
  assert.deepEqual(states, ['ready', 'delayed', 'reserved', 'buried']);
  const stats = await client.statsJob(buried);
  assert.equal(stats.id, buried);
  assert.deepEqual([stats.reserves, stats.buries, stats.kicks, stats.releases, stats.timeouts], [1, 1, 0, 0, 0]);
});

test('statsTube counts the jobs of a tube; NotFoundError for a tube that does not exist', async () => {
  const tube = uniqueTube();
  await using client = await connectOnTube(server.url, tube);
  await client.put('a');
  await client.put('b', { delay: 60 });
  const stats = await client.statsTube(tube);
  assert.equal(stats.name, tube);
  assert.deepEqual(
    [stats.currentJobsReady, stats.currentJobsDelayed, stats.totalJobs, stats.currentUsing, stats.currentWatching],
    [1, 1, 2, 1, 1],
  );
  await rejectsWithReply(client, client.statsTube(uniqueTube('missing')), NotFoundError, 'NOT_FOUND', 'stats-tube');
});

test('listTubes, listTubeUsed and listTubesWatched', async () => {
  const [used, watched] = [uniqueTube(), uniqueTube()];
  await using client = await Client.connect(server.url);
  await client.use(used);
  await client.watch(watched);
  const tubes = await client.listTubes();
  for (const tube of ['default', used, watched]) assert.ok(tubes.includes(tube), `${tube} in ${tubes.join(', ')}`);
  assert.equal(await client.listTubeUsed(), used);
  assert.deepEqual((await client.listTubesWatched()).sort(), ['default', watched].sort());
});

test('pauseTube holds back reserves from a tube; NotFoundError for a tube that does not exist', async () => {
  const tube = uniqueTube();
  await using client = await connectOnTube(server.url, tube);
  const id = await client.put('held');
  await client.pauseTube(tube, 60);
  const paused = await client.statsTube(tube);
  assert.equal(paused.pause, 60);
  assert.ok(paused.pauseTimeLeft > 0 && paused.pauseTimeLeft <= 60, `pause-time-left ${paused.pauseTimeLeft}`);
  assert.equal(paused.cmdPauseTube, 1);
  assert.equal(await client.reserveWithTimeout(0), null, 'a paused tube gives no job');
  await client.pauseTube(tube, 0);
  assert.equal((await client.reserveWithTimeout(0))?.id, id);
  await rejectsWithReply(client, client.pauseTube(uniqueTube('missing'), 1), NotFoundError, 'NOT_FOUND', 'pause-tube');
});

test('close() resolves, emits close, and later commands reject without being sent', async () => {
  const client = await Client.connect(server.url);
  const closed = once(client, 'close');
  assert.equal(await client.listTubeUsed(), 'default');
  await client.close();
  assert.deepEqual(await closed, [undefined]);
  assert.equal(client.usable, false);
  await assert.rejects(client.stats(), (error: unknown) => {
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.maybeApplied, false);
    return true;
  });
});

test('close() rejects a reserve still waiting for a job', async () => {
  const client = await connectOnTube(server.url, uniqueTube());
  const waiting = client.reserve();
  const rejected = assert.rejects(waiting, ConnectionError);
  await client.close();
  await rejected;
});

test('close() lets the commands issued before it finish, the first put included', async () => {
  const tube = uniqueTube();
  const client = await connectOnTube(server.url, tube);
  // The first put waits for max-job-size to be read; close() must not overtake it.
  const settled = Promise.allSettled([client.put('sent before close'), client.listTubeUsed()]);
  await client.close();
  const [put, used] = await settled;
  await using observer = await Client.connect(server.url);
  if (put.status === 'fulfilled') await observer.delete(put.value);
  assert.equal(put.status, 'fulfilled', `put rejected: ${put.status === 'rejected' ? String(put.reason) : ''}`);
  assert.deepEqual(used, { status: 'fulfilled', value: tube });
});

test('put: JobTooBigError when the server refuses the size (client told a larger maxJobSize)', async () => {
  await using client = await Client.connect({ host: small.host, port: small.port, maxJobSize: 2048 });
  assert.equal((await client.stats()).maxJobSize, 1024);
  await rejectsWithReply(client, client.put(Buffer.alloc(1025, 'z')), JobTooBigError, 'JOB_TOO_BIG', 'put');
  const id = await client.put(Buffer.alloc(1024, 'y'));
  assert.equal((await client.peek(id))?.body.length, 1024);
});

test('the maxJobSize option does not cap replies that are not jobs (a long list-tubes)', async () => {
  await using client = await Client.connect({ host: small.host, port: small.port, maxJobSize: 1024 });
  const tubes = Array.from({ length: 40 }, (_, i) => `a-rather-long-tube-name-for-listing-${i}`);
  for (const tube of tubes) await client.watch(tube);
  // About 1,500 bytes of YAML: more than max-job-size, far below the 64 MiB reply default.
  const listed = await client.listTubes();
  assert.deepEqual(listed.sort(), [...tubes, 'default'].sort());
});

test('put: DrainingError once the server is in drain mode (SIGUSR1)', async () => {
  await using client = await Client.connect(draining.url);
  assert.equal((await client.stats()).draining, false);
  draining.drain();
  // The server announces drain mode only through stats: poll it, bounded.
  const deadline = Date.now() + 5000;
  while (!(await client.stats()).draining) {
    assert.ok(Date.now() < deadline, 'the server did not enter drain mode within 5 s');
    await sleep(10);
  }
  await rejectsWithReply(client, client.put('refused'), DrainingError, 'DRAINING', 'put');
  assert.equal((await client.stats()).currentJobsReady, 0);
});

interface RawError {
  what: string;
  name: string;
  /** Sent as is, so it can hold what the Client never builds. */
  head: string;
  /** The entry whose replies decode the answer. */
  decode: Command;
  type: new (...args: never[]) => BeanstalkError;
  code: ServerErrorCode;
}

const rawErrors: RawError[] = [
  {
    // Two body bytes declared; the two bytes after them are not CRLF.
    what: 'a body not followed by CRLF',
    name: 'put',
    head: 'put 0 0 60 2\r\nabXY',
    decode: COMMANDS.put,
    type: ExpectedCrlfError,
    code: 'EXPECTED_CRLF',
  },
  {
    what: 'a tube name starting with -',
    name: 'use',
    head: 'use -bad\r\n',
    decode: COMMANDS.use,
    type: BadFormatError,
    code: 'BAD_FORMAT',
  },
  {
    what: 'a command the server does not know',
    name: 'frobnicate',
    head: 'frobnicate\r\n',
    decode: COMMANDS.use,
    type: UnknownCommandError,
    code: 'UNKNOWN_COMMAND',
  },
];

for (const { what, name, head, decode, type, code } of rawErrors) {
  test(`Connection: ${type.name} (${code}) for ${what}, and the connection stays usable`, async () => {
    await withConnection(async (connection) => {
      await assert.rejects(connection.send(rawRequest(decode, head, name)), isReplyError(type, code, name));
      assert.equal(connection.usable, true);
      assert.equal(await connection.send(rawRequest(COMMANDS.listTubeUsed, 'list-tube-used\r\n')), 'default');
    });
  });
}

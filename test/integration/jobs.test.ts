/**
 * Producing jobs: enqueue and defineJob against a real beanstalkd (what lands where, with which
 * settings, and the envelope a worker will read), then the envelope functions on their own:
 * parseEnvelope, withFailure and the retry schedule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Client,
  DEFAULT_PRIORITY,
  DEFAULT_RETRY,
  DEFAULT_TTR,
  defaultBackoff,
  defineJob,
  enqueue,
  InvalidArgumentError,
  parseEnvelope,
  type EnqueueOptions,
  type JobDefinitionOptions,
  type JobEnvelope,
  type JobStats,
} from '../../src/index.js';
// Not exported from the package: the worker's own step, tested here with the envelope format.
import { withFailure } from '../../src/jobs/envelope.js';
import { connectOnTube, rejectsAsInvalid } from '../helpers/assertions.js';
import { poolFor } from '../helpers/pool.js';
import { sharedServer, uniqueTube } from '../helpers/server.js';

const server = await sharedServer();

/** The stored body of job `id`, parsed as JSON. */
async function storedEnvelope(client: Client, id: number): Promise<Record<string, unknown>> {
  const job = await client.peek(id);
  assert.ok(job !== null, `job ${id} is not on the server`);
  return JSON.parse(job.body.toString('utf8')) as Record<string, unknown>;
}

/** Where and how the server holds a job. */
function placement(stats: JobStats): Pick<JobStats, 'tube' | 'state' | 'pri' | 'delay' | 'ttr'> {
  return { tube: stats.tube, state: stats.state, pri: stats.pri, delay: stats.delay, ttr: stats.ttr };
}

/** An ISO 8601 timestamp, as toISOString writes it, within [from, to]. */
function assertIsoBetween(value: unknown, from: Date, to: Date, what: string): void {
  assert.equal(typeof value, 'string', `${what} is a string`);
  const time = new Date(value as string);
  assert.equal(time.toISOString(), value, `${what} is ISO 8601`);
  assert.ok(time >= from && time <= to, `${what} ${String(value)} is not between ${from.toISOString()} and ${to.toISOString()}`);
}

test('enqueue returns { jid, id } and stores a JSON envelope with the defaults', async () => {
  const tube = uniqueTube();
  await using client = await connectOnTube(server.url, tube);
  const before = new Date();
  const result = await enqueue(client, 'email.send', { to: 'a@example.com', n: [1, 2] }, { tube });
  const after = new Date();
  assert.deepEqual(Object.keys(result).sort(), ['id', 'jid']);
  assert.match(result.jid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.ok(Number.isSafeInteger(result.id) && result.id > 0);

  const stored = await storedEnvelope(client, result.id);
  assert.deepEqual(Object.keys(stored).sort(), [
    'args', 'createdAt', 'custom', 'enqueuedAt', 'jid', 'priority', 'retry', 'ttr', 'tube', 'type',
  ]);
  const { createdAt, enqueuedAt, ...rest } = stored;
  assert.deepEqual(rest, {
    jid: result.jid,
    type: 'email.send',
    args: { to: 'a@example.com', n: [1, 2] },
    tube,
    retry: DEFAULT_RETRY,
    priority: DEFAULT_PRIORITY,
    ttr: DEFAULT_TTR,
    custom: {},
  });
  assert.equal(DEFAULT_RETRY, 25);
  assertIsoBetween(createdAt, before, after, 'createdAt');
  assert.equal(enqueuedAt, createdAt, 'a first enqueue is also the creation');
  assert.deepEqual(placement(await client.statsJob(result.id)), { tube, state: 'ready', pri: 1024, delay: 0, ttr: 60 });
});

test('enqueue honours tube, priority, ttr, delay, retry and custom', async () => {
  const [used, target] = [uniqueTube('used'), uniqueTube('target')];
  await using client = await connectOnTube(server.url, used);
  const custom = { traceId: 'abc', locale: 'fr', nested: { deep: [true, null] } };
  const { id } = await enqueue(client, 'report', [42], { tube: target, priority: 3, ttr: 9, delay: 40, retry: 2, custom });
  assert.deepEqual(placement(await client.statsJob(id)), { tube: target, state: 'delayed', pri: 3, delay: 40, ttr: 9 });
  const stored = await storedEnvelope(client, id);
  assert.deepEqual(
    { tube: stored['tube'], priority: stored['priority'], ttr: stored['ttr'], retry: stored['retry'], custom: stored['custom'] },
    { tube: target, priority: 3, ttr: 9, retry: 2, custom },
  );
  assert.equal('at' in stored, false, 'a delay is not an at');
});

const schedules: [label: string, offsetMs: number, delay: number, state: 'delayed' | 'ready'][] = [
  ['90 s ahead', 90_000, 90, 'delayed'],
  ['1.5 s ahead (rounded up)', 1_500, 2, 'delayed'],
  ['in the past', -60_000, 0, 'ready'],
];
for (const [label, offsetMs, delay, state] of schedules) {
  test(`at ${label} becomes a delay of ${delay} s and is kept in the envelope`, async () => {
    const tube = uniqueTube();
    await using client = await connectOnTube(server.url, tube);
    const at = new Date(Date.now() + offsetMs);
    const { id } = await enqueue(client, 'scheduled', null, { tube, at });
    const stats = await client.statsJob(id);
    assert.equal(stats.state, state);
    assert.ok(Math.abs(stats.delay - delay) <= 1, `delay ${stats.delay}, expected ${delay} within a second`);
    assert.equal((await storedEnvelope(client, id))['at'], at.toISOString());
  });
}

const badEnqueues: [label: string, argument: string, type: string, options: EnqueueOptions][] = [
  ['delay and at together', 'at', 'job', { delay: 5, at: new Date(Date.now() + 5000) }],
  ['an invalid Date', 'at', 'job', { at: new Date(Number.NaN) }],
  ['an empty type', 'type', '', {}],
  ['a bad tube', 'tube', 'job', { tube: 'no spaces' }],
  ['a negative priority', 'priority', 'job', { priority: -1 }],
  ['a fractional ttr', 'ttr', 'job', { ttr: 1.5 }],
  ['a retry above 2^32-1', 'retry', 'job', { retry: 2 ** 32 }],
  ['a negative delay', 'delay', 'job', { delay: -5 }],
];
for (const [label, argument, type, options] of badEnqueues) {
  test(`enqueue with ${label} rejects with InvalidArgumentError and puts nothing`, async () => {
    const tube = uniqueTube();
    await using client = await connectOnTube(server.url, tube);
    await rejectsAsInvalid(() => enqueue(client, type, {}, { tube, ...options }), argument, label);
    assert.equal((await client.statsTube(tube)).totalJobs, 0);
  });
}

test('enqueue through a Client leaves the tube it uses as it was, whatever tubes the jobs go to', async () => {
  const used = uniqueTube('used');
  await using client = await connectOnTube(server.url, used);
  const targets = [uniqueTube('a'), used, uniqueTube('b'), 'default', uniqueTube('c')];
  // Issued together, so the use / put / use-back sequences are pipelined on one connection.
  const results = await Promise.all(targets.map((tube) => enqueue(client, 'spread', tube, { tube })));
  for (const [index, { id }] of results.entries()) assert.equal((await client.statsJob(id)).tube, targets[index]);
  assert.equal(await client.listTubeUsed(), used);
  assert.equal(client.using, used);
  const plain = await client.put('after the enqueues');
  assert.equal((await client.statsJob(plain)).tube, used, 'a plain put still goes to the used tube');
  await Promise.all([...results.map((result) => result.id), plain].map((id) => client.delete(id)));
});

test('enqueue through a Pool puts into the tube and leaves the pooled connection on default', async (t) => {
  const pool = poolFor(t, { connection: server.url, max: 1 });
  const tube = uniqueTube();
  const { jid, id } = await enqueue(pool, 'pooled', { x: 1 }, { tube, priority: 11 });
  await using observer = await Client.connect(server.url);
  assert.deepEqual(placement(await observer.statsJob(id)), { tube, state: 'ready', pri: 11, delay: 0, ttr: 60 });
  assert.equal((await storedEnvelope(observer, id))['jid'], jid);
  assert.equal(await pool.use((client) => client.listTubeUsed()), 'default');
});

test('defineJob fills in defaults and freezes the definition', () => {
  const run = (): void => undefined;
  const definition = defineJob({ type: 'plain', run });
  assert.deepEqual(
    { ...definition, enqueue: undefined },
    { type: 'plain', tube: 'default', priority: 1024, ttr: 60, retry: 25, backoff: defaultBackoff, run, enqueue: undefined },
  );
  assert.ok(Object.isFrozen(definition));
});

interface Expected {
  tube: 'defined' | 'other';
  pri: number;
  ttr: number;
  delay: number;
  retry: number;
}
const definedJobs: [label: string, options: (other: string) => EnqueueOptions, expected: Expected][] = [
  ['the definition gives the defaults', () => ({}), { tube: 'defined', pri: 10, ttr: 30, delay: 0, retry: 3 }],
  [
    'per-call options override them',
    (other) => ({ tube: other, priority: 1, ttr: 5, retry: 0, delay: 20, custom: { k: 'v' } }),
    { tube: 'other', pri: 1, ttr: 5, delay: 20, retry: 0 },
  ],
  ['an override of one field keeps the rest', () => ({ priority: 2 }), { tube: 'defined', pri: 2, ttr: 30, delay: 0, retry: 3 }],
  [
    'options given as undefined keep the definition',
    () => ({ tube: undefined, priority: undefined, ttr: undefined, retry: undefined }),
    { tube: 'defined', pri: 10, ttr: 30, delay: 0, retry: 3 },
  ],
];
for (const [label, options, expected] of definedJobs) {
  test(`defineJob(...).enqueue: ${label}`, async () => {
    const tubes = { defined: uniqueTube('defined'), other: uniqueTube('other') };
    const sendMail = defineJob<{ to: string }>({
      type: 'mail.send',
      tube: tubes.defined,
      retry: 3,
      ttr: 30,
      priority: 10,
      run: async ({ to }) => to.length,
    });
    await using client = await Client.connect(server.url);
    const { jid, id } = await sendMail.enqueue(client, { to: 'b@example.com' }, options(tubes.other));
    const { pri, ttr, delay, retry } = expected;
    const tube = tubes[expected.tube];
    assert.deepEqual(placement(await client.statsJob(id)), { tube, state: delay > 0 ? 'delayed' : 'ready', pri, delay, ttr });
    const stored = await storedEnvelope(client, id);
    assert.deepEqual(
      { jid: stored['jid'], type: stored['type'], args: stored['args'], tube: stored['tube'], retry: stored['retry'] },
      { jid, type: 'mail.send', args: { to: 'b@example.com' }, tube, retry },
    );
    assert.equal(await client.listTubeUsed(), 'default');
  });
}

const badDefinitions: [label: string, options: Partial<JobDefinitionOptions<unknown>>, argument: string][] = [
  ['an empty type', { type: '' }, 'type'],
  ['a type that is not a string', { type: 7 as never }, 'type'],
  ['a tube starting with -', { tube: '-queue' }, 'tube'],
  ['a tube with a space', { tube: 'my queue' }, 'tube'],
  ['run that is not a function', { run: 'handler' as never }, 'run'],
  ['no run', { run: undefined as never }, 'run'],
  ['a negative priority', { priority: -1 }, 'priority'],
  ['a fractional ttr', { ttr: 0.5 }, 'ttr'],
  ['a retry above 2^32-1', { retry: 2 ** 32 }, 'retry'],
];
for (const [label, options, argument] of badDefinitions) {
  test(`defineJob with ${label} throws InvalidArgumentError for ${argument}`, () => {
    assert.throws(
      () => defineJob({ type: 'job', run: () => undefined, ...options }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument,
    );
  });
}

test('jids are unique across 1,000 enqueues', async () => {
  const tube = uniqueTube();
  await using client = await connectOnTube(server.url, tube);
  const results = await Promise.all(Array.from({ length: 1000 }, (_, n) => enqueue(client, 'many', n, { tube })));
  assert.equal(new Set(results.map((result) => result.jid)).size, 1000);
  assert.equal(new Set(results.map((result) => result.id)).size, 1000);
  assert.equal((await client.statsTube(tube)).currentJobsReady, 1000);
  const last = results.at(-1);
  assert.ok(last !== undefined);
  assert.equal((await storedEnvelope(client, last.id))['jid'], last.jid);
});

/** A complete, valid envelope as JSON-ready data. */
function validEnvelope(): Record<string, unknown> {
  return {
    jid: '5b0d9e2e-1c7a-4f8e-9d2a-6f1e0c3b7a90',
    type: 'mail.send',
    args: { to: 'c@example.com' },
    tube: 'mail',
    createdAt: '2024-05-01T10:00:00.000Z',
    enqueuedAt: '2024-05-01T10:00:00.000Z',
    retry: 25,
    priority: 1024,
    ttr: 60,
    custom: { traceId: 't-1' },
  };
}

function parse(value: unknown): ReturnType<typeof parseEnvelope> {
  return parseEnvelope(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
}

/** `field` replaced by `value`, or removed when `value` is undefined. */
function changed(field: string, value?: unknown): Record<string, unknown> {
  const envelope = validEnvelope();
  if (value === undefined) delete envelope[field];
  else envelope[field] = value;
  return envelope;
}

const refused: [label: string, body: unknown, reason: RegExp][] = [
  ['not JSON', '{"jid": ', /not JSON/],
  ['empty', '', /not JSON/],
  ['a JSON array', '[1, 2]', /not an object/],
  ['JSON null', 'null', /not an object/],
  ['a JSON string', '"job"', /not an object/],
  ['a JSON number', '42', /not an object/],
  ...['jid', 'type', 'tube', 'createdAt', 'enqueuedAt', 'retry', 'priority', 'ttr', 'args'].map(
    (field): [string, unknown, RegExp] => [`no ${field}`, changed(field), new RegExp(`field ${field} is missing`)],
  ),
  ['a numeric jid', changed('jid', 5), /field jid/],
  ['an empty type', changed('type', ''), /field type/],
  ['a tube that is an object', changed('tube', { name: 'x' }), /field tube/],
  ['createdAt null', changed('createdAt', null), /field createdAt/],
  ['retry as a string', changed('retry', '25'), /field retry/],
  ['a fractional priority', changed('priority', 1.5), /field priority/],
  ['ttr null', changed('ttr', null), /field ttr/],
  ['custom as a string', changed('custom', 'x'), /field custom/],
  ['custom null', changed('custom', null), /field custom/],
  ['custom as an array', changed('custom', ['x']), /field custom/],
  ['failure as a string', changed('failure', 'boom'), /field failure/],
  ['failure without retryCount', changed('failure', { message: 'boom' }), /field failure/],
  ['failure with a string retryCount', changed('failure', { retryCount: '1' }), /field failure/],
];
for (const [label, body, reason] of refused) {
  test(`parseEnvelope refuses ${label}, with a reason`, () => {
    const result = parse(body);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.match(result.reason, reason);
  });
}

test('parseEnvelope accepts a valid envelope as it is, and defaults custom to {}', () => {
  const full = { ...validEnvelope(), at: '2024-05-01T11:00:00.000Z' };
  const withCustom = parse(full);
  assert.ok(withCustom.ok, withCustom.ok ? '' : withCustom.reason);
  assert.deepEqual(withCustom.envelope, full);
  const withoutCustom = parse(changed('custom'));
  assert.ok(withoutCustom.ok);
  assert.deepEqual(withoutCustom.envelope, { ...changed('custom'), custom: {} });
});

test('parseEnvelope of a body with __proto__ and constructor keys does not pollute Object.prototype', () => {
  const poison = '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}';
  const body = JSON.stringify(validEnvelope())
    .replace('"args":{"to":"c@example.com"}', `"args":${poison}`)
    .replace('"custom":{"traceId":"t-1"}', `"custom":${poison}`)
    .replace(/^\{/, `{"__proto__": {"polluted": "yes"}, `);
  assert.ok(body.includes('"args":{"__proto__"') && body.includes('"custom":{"__proto__"'));
  try {
    const result = parse(body);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'after parsing');
    const { envelope } = result;
    assert.equal(Object.getPrototypeOf(envelope), Object.prototype);
    const spread = [{ ...(envelope.args as object) }, { ...envelope.custom }, { ...envelope }];
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'after spreading');
    for (const copy of spread) assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  } finally {
    delete (Object.prototype as Record<string, unknown>)['polluted'];
  }
});

/** A user's error class that does not set `name` itself. */
class PaymentDeclined extends Error {}
const noStack = new RangeError('no stack here');
noStack.stack = undefined;

const failures: [label: string, error: unknown, errorType: string, message: string, backtrace: boolean][] = [
  ['a TypeError', new TypeError('bad input'), 'TypeError', 'bad input', true],
  ['an error class of the user', new PaymentDeclined('card declined'), 'PaymentDeclined', 'card declined', true],
  ['an InvalidArgumentError', new InvalidArgumentError('x', 'bad x'), 'InvalidArgumentError', 'bad x', true],
  ['an error without a stack', noStack, 'RangeError', 'no stack here', false],
  ['a thrown string', 'plain string', 'Error', 'plain string', true],
  ['a message of two lines', new Error('first line\nsecond line'), 'Error', 'first line\nsecond line', true],
];
for (const [label, error, errorType, message, backtrace] of failures) {
  test(`withFailure records ${label}: errorType ${errorType}, message and backtrace`, () => {
    const original = parse(validEnvelope());
    assert.ok(original.ok);
    const failedAt = new Date('2024-05-01T10:05:00.000Z');
    const failed = withFailure(original.envelope, error, failedAt);
    const { failure } = failed;
    assert.ok(failure !== undefined);
    assert.deepEqual(
      { retryCount: failure.retryCount, failedAt: failure.failedAt, message: failure.message, errorType: failure.errorType },
      { retryCount: 1, failedAt: failedAt.toISOString(), message, errorType },
    );
    assert.equal(failure.backtrace !== undefined, backtrace, 'a backtrace exactly when the error had a stack');
    for (const line of failure.backtrace ?? []) assert.match(line, /^at /, 'one trimmed stack frame a line');
    assert.ok((failure.backtrace?.length ?? 0) <= 30);
  });
}

test('withFailure counts retries, stamps a new enqueuedAt, and keeps jid, createdAt and args', () => {
  const original = parse(validEnvelope());
  assert.ok(original.ok);
  const times = [new Date('2024-05-01T10:05:00.000Z'), new Date('2024-05-01T10:06:00.000Z')];
  let envelope: JobEnvelope = original.envelope;
  for (const [index, now] of times.entries()) {
    envelope = withFailure(envelope, new Error(`failure ${index + 1}`), now);
    assert.equal(envelope.failure?.retryCount, index + 1);
    assert.equal(envelope.failure?.failedAt, now.toISOString());
    assert.equal(envelope.failure?.message, `failure ${index + 1}`);
    assert.equal(envelope.enqueuedAt, now.toISOString());
    const { failure, enqueuedAt, ...kept } = envelope;
    const { enqueuedAt: _first, ...unchanged } = original.envelope;
    assert.deepEqual(kept, unchanged, 'everything but failure and enqueuedAt stays');
  }
  assert.equal(original.envelope.failure, undefined, 'the input is not changed');
  const reread = parse(JSON.stringify(envelope));
  assert.ok(reread.ok, 'a failed envelope still parses');
  assert.deepEqual(reread.envelope, envelope);
});

test("defaultBackoff stays within Faktory's bounds for retries 1 to 25", () => {
  for (let n = 1; n <= 25; n += 1) {
    const k = n - 1;
    const [low, high] = [k ** 4 + 15, k ** 4 + 15 + 29 * (k + 1)];
    const seen = new Set<number>();
    for (let sample = 0; sample < 500; sample += 1) {
      const seconds = defaultBackoff(n);
      assert.ok(Number.isInteger(seconds), `retry ${n}: ${seconds} is not whole seconds`);
      assert.ok(seconds >= low && seconds <= high, `retry ${n}: ${seconds} is outside [${low}, ${high}]`);
      seen.add(seconds);
    }
    assert.ok(seen.size > 10, `retry ${n}: only ${seen.size} distinct waits in 500 samples: not random`);
  }
});

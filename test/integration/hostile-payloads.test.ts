/**
 * Job payloads meant to hurt, end to end against a real beanstalkd: keys that pollute prototypes
 * (from beanline's own enqueue and from a foreign producer), types named after Object.prototype's
 * members, payloads larger than the server takes, args JSON cannot carry (nested 100,000 deep,
 * circular, BigInt), and bodies nested deeper than a recursive serializer can follow. Nothing may
 * pollute Object.prototype, reach the server when it cannot be sent, or stop the Worker.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { enqueue, JobOutcomeError, UnhandledJobError, type JobContext, type JobEnvelope } from '../../src/index.js';
import { rejectsAsInvalid } from '../helpers/assertions.js';
import { onFreshTube, within } from '../helpers/harness.js';
import { serverForFile } from '../helpers/server.js';
import { BOUND, jobCounts, jobOn, NO_JOBS, runWorker, workerFor } from '../helpers/worker.js';

// A server of this file's own: cmd-put counts only this file's puts.
const server = await serverForFile();

const PROTOTYPE_KEYS = Reflect.ownKeys(Object.prototype);

/** Keys that pollute a prototype when a careless merge or parse assigns them. */
const POISON = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"prototype":{"polluted":3},"list":[{"__proto__":{"polluted":4}}]}';

/** Fails if Object.prototype gained anything; whatever happens, it is cleaned up when the test ends. */
function guardPrototype(t: TestContext): () => void {
  t.after(() => {
    for (const key of Reflect.ownKeys(Object.prototype)) {
      if (!PROTOTYPE_KEYS.includes(key)) delete (Object.prototype as Record<PropertyKey, unknown>)[key];
    }
  });
  return () => {
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'a fresh object sees no "polluted"');
    assert.deepEqual(Reflect.ownKeys(Object.prototype), PROTOTYPE_KEYS, "Object.prototype's own keys are unchanged");
  };
}

/** `depth` arrays, one inside the other, built without recursion. */
function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let level = 1; level < depth; level += 1) value = [value];
  return value;
}

/** The JSON text of `depth` nested arrays, without building them. */
function nestedJson(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** The envelope a foreign producer would write by hand, as JSON, with `args` already JSON text. */
function foreignEnvelope(fields: { type: string; tube: string; retry?: number; args?: string; before?: string }): string {
  const now = new Date().toISOString();
  const { type, tube, retry = 25, args = '{}', before = '' } = fields;
  const rest = { jid: `foreign-${type}`, type, tube, createdAt: now, enqueuedAt: now, retry, priority: 1024, ttr: 60, custom: {} };
  return `{${before}"args":${args},${JSON.stringify(rest).slice(1)}`;
}

interface Seen {
  readonly args: unknown;
  readonly envelope: JobEnvelope | undefined;
}

test('args and custom with __proto__, constructor and prototype keys run as plain data; Object.prototype is untouched', async (t) => {
  const assertClean = guardPrototype(t);
  const { client, tube } = await onFreshTube(t, server.url);
  const seen: Seen[] = [];
  const job = jobOn<unknown>(tube, (args, context) => {
    seen.push({ args, envelope: context.envelope });
  });
  // JSON.parse makes "__proto__" an own key, as a request body parsed by an app would.
  await job.enqueue(client, JSON.parse(POISON), { custom: JSON.parse(POISON) });
  const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
  await events.until('job:done');

  const [run] = seen;
  const args = run?.args as Record<string, unknown>;
  assert.equal(JSON.stringify(args), POISON, 'the handler gets the args as sent, key for key');
  assert.equal(JSON.stringify(run?.envelope?.custom), POISON, 'and custom');
  for (const value of [args, run?.envelope?.custom, run?.envelope]) {
    assert.equal(Object.getPrototypeOf(value), Object.prototype, 'a plain object, its prototype not replaced');
  }
  assert.ok(Object.hasOwn(args, '__proto__'), '"__proto__" is an ordinary own key');
  assert.deepEqual(args['constructor'], { prototype: { polluted: 2 } }, '"constructor" is data, not Object');
  assertClean();
  events.assertNone('job:retry', 'job:buried', 'job:lost', 'error');
});

test('a foreign body {"__proto__":{"polluted":1}, ...envelope} runs as an envelope, through a retry too, and pollutes nothing', async (t) => {
  const assertClean = guardPrototype(t);
  const { client, tube } = await onFreshTube(t, server.url);
  const seen: Seen[] = [];
  const job = jobOn<unknown>(tube, (args, context: JobContext) => {
    seen.push({ args, envelope: context.envelope });
    if (context.attempt === 1) throw new Error('fails once, so the worker copies the envelope for the retry');
  });
  await client.put(foreignEnvelope({ type: job.type, tube, args: POISON, before: POISON.slice(1, -1) + ',' }));
  const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
  await events.until('job:retry');
  await events.until('job:done');

  assert.deepEqual(
    seen.map(({ envelope }) => [envelope?.jid, envelope?.failure?.retryCount]),
    [
      ['foreign-test-job', undefined],
      ['foreign-test-job', 1],
    ],
    'the same job, run again with its failure recorded',
  );
  for (const { args, envelope } of seen) {
    assert.equal(JSON.stringify(args), POISON);
    assert.equal(Object.getPrototypeOf(envelope), Object.prototype);
    assert.equal((envelope as unknown as Record<string, unknown>)['polluted'], undefined, 'the envelope did not inherit the payload');
  }
  assertClean();
  events.assertNone('job:buried', 'job:lost', 'error');
});

test("jobs whose type is one of Object.prototype's members are unknown types, buried, never run", async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const types = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
  for (const type of types) await enqueue(client, type, {}, { tube });
  const job = jobOn(tube, () => assert.fail('no handler should run'));
  const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
  const buried = await events.until('job:buried', types.length);
  const errors = await events.until('error', types.length);

  assert.deepEqual(
    buried.map(({ type, reason }) => [type, reason]),
    types.map((type) => [type, 'unknown-type']),
  );
  assert.ok(errors.every((error) => error instanceof UnhandledJobError && error.reason === 'unknown-type'), errors.map(String).join('; '));
  assert.deepEqual(jobCounts(await client.statsTube(tube)), { ...NO_JOBS, buried: types.length });
  events.assertNone('job:start', 'job:done');
});

const unsendable = [
  { label: 'a payload larger than max-job-size (70,000 bytes of args)', args: () => ({ blob: 'x'.repeat(70_000) }), argument: 'body' },
  { label: 'args nested 100,000 deep', args: () => nested(100_000), argument: 'args' },
  {
    label: 'circular args',
    args: () => {
      const node: Record<string, unknown> = { name: 'loop' };
      node['self'] = node;
      return node;
    },
    argument: 'args',
  },
  { label: 'a BigInt in args', args: () => ({ amount: 10n ** 30n }), argument: 'args' },
  // JSON.stringify drops these without an error: the job would be put with no args, and every Worker bury it as malformed.
  { label: 'a function as args', args: () => () => 'not data', argument: 'args' },
  { label: 'a Symbol as args', args: () => Symbol('not data'), argument: 'args' },
];

for (const { label, args, argument } of unsendable) {
  test(`${label}: enqueue rejects with InvalidArgumentError (${argument}) before sending, and the client goes on`, async (t) => {
    const { client, tube } = await onFreshTube(t, server.url);
    const before = (await client.stats()).cmdPut;
    await rejectsAsInvalid(() => enqueue(client, 'hostile', args(), { tube }), argument, label);

    assert.equal((await client.stats()).cmdPut, before, 'no put reached the server');
    const { id } = await enqueue(client, 'hostile', { fine: true }, { tube });
    assert.equal((await client.peekReady())?.id, id, 'the next enqueue works');
  });
}

test('a body nested 30,000 deep, put raw by a plain client, is buried as malformed, and the worker keeps running', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const id = await client.put(nestedJson(30_000));
  const job = jobOn(tube, () => {});
  const { events } = await runWorker(t, { connection: server.url, jobs: [job] });
  const [buried] = await events.until('job:buried');
  const [error] = await events.until('error');

  assert.ok(error instanceof UnhandledJobError, `error event: ${String(error)}`);
  assert.deepEqual([error.id, error.reason], [id, 'malformed']);
  assert.deepEqual([buried?.id, buried?.reason], [id, 'malformed']);
  const next = await job.enqueue(client, {});
  const [done] = await events.until('job:done');
  assert.equal(done?.id, next.id, 'the next job runs');
  assert.deepEqual(jobCounts(await client.statsTube(tube)), { ...NO_JOBS, buried: 1 });
});

/** Counts runs; `reached` resolves at run number `count`. */
function runsPast(count: number): { record: () => void; reached: Promise<string> } {
  let runs = 0;
  let reach!: (what: string) => void;
  const reached = new Promise<string>((resolve) => {
    reach = resolve;
  });
  return {
    record: () => {
      runs += 1;
      if (runs === count) reach(`run ${count}`);
    },
    reached,
  };
}

const FAILURE = `always fails: ${'detail '.repeat(100)}`;

/** Bodies a Worker can run, but whose copy with the failure recorded it cannot put; `why` checks that premise. */
const unrecordable = [
  {
    label: 'a job near max-job-size (its copy with the failure recorded is too big)',
    args: JSON.stringify({ blob: 'x'.repeat(65_000) }),
    why: (body: string, maxJobSize: number) => Buffer.byteLength(body) + FAILURE.length > maxJobSize,
  },
  {
    label: 'a foreign job with args nested 30,000 deep (JSON.parse takes them, JSON.stringify cannot)',
    args: nestedJson(30_000),
    why: (body: string) => {
      try {
        JSON.stringify(JSON.parse(body));
        return false;
      } catch (error) {
        return error instanceof RangeError;
      }
    },
  },
];

for (const { label, args, why } of unrecordable) {
  test(`${label}: failing every time with retry 2, it runs 3 times at most, then is buried`, async (t) => {
    const { client, tube } = await onFreshTube(t, server.url);
    const runs = runsPast(4);
    const job = jobOn<unknown>(tube, () => {
      runs.record();
      throw new Error(FAILURE);
    });
    const body = foreignEnvelope({ type: job.type, tube, retry: 2, args });
    assert.ok(why(body, (await client.stats()).maxJobSize), 'the premise: the copy with the failure cannot be put');
    await client.put(body);
    const { events, worker } = workerFor(t, { connection: server.url, jobs: [job] });
    const buried = new Promise<string>((resolve) => worker.once('job:buried', () => resolve('buried')));
    await within(worker.start(), BOUND, 'worker.start()');
    const outcome = await within(Promise.race([buried, runs.reached]), BOUND, 'the job buried, or run a 4th time');
    await worker.stop({ timeoutMs: BOUND });

    const refusals = events.of('error').filter((error) => error instanceof JobOutcomeError);
    const report = `after ${events.count('job:start')} runs: ${outcome}; ${events.count('job:retry')} job:retry, errors: ${refusals.slice(0, 1).map(String)}`;
    assert.equal(outcome, 'buried', `retries must stay bounded when the failure cannot be recorded in a copy: ${report}`);
    assert.ok(events.count('job:start') <= 3, report);
    assert.deepEqual(jobCounts(await client.statsTube(tube)), { ...NO_JOBS, buried: 1 }, 'one copy of the job, in the dead set');
  });
}

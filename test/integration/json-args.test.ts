/**
 * Arguments JSON cannot carry (issue 10). JSON.stringify does not complain about most of them, it
 * rewrites them: `{ f: fn }` -> `{}`, `[fn]` -> `[null]`, a Map -> `{}`, NaN -> null, a Date -> a
 * string. checkJson refuses each, naming where it is (pure tests, no server); enqueue refuses each
 * before anything reaches the server (its cmd-put count does not move), and what it accepts arrives
 * on the server as the JSON a worker will read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineJob, enqueue, InvalidArgumentError, type Client, type EnqueueOptions } from '../../src/index.js';
// Not exported from the package: enqueue's check, tested on its own.
import { checkJson } from '../../src/jobs/json.js';
import { rejectsAsInvalid } from '../helpers/assertions.js';
import { onFreshTube } from '../helpers/harness.js';
import { serverForFile } from '../helpers/server.js';

// A server of this file's own: cmd-put counts only this file's puts.
const server = await serverForFile();

class Money {
  constructor(readonly cents: number) {}
}
class Stamp {
  toJSON(): string {
    return 'stamp';
  }
}

function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
}

function cycle(): unknown {
  const user: Record<string, unknown> = { name: 'loop', friends: [] };
  (user['friends'] as unknown[]).push({ best: user });
  return { user };
}

/** [label, args, where the message says the problem is, what it says it is]. */
const refused: [label: string, args: () => unknown, where: string, what: RegExp][] = [
  ['a function deep inside', () => ({ user: { tags: ['a', 'b', () => 1] } }), 'args.user.tags[2]', /a function/],
  ['a function as a field', () => ({ f: () => 1 }), 'args.f', /a function/],
  ['a function as args', () => () => 'not data', 'args', /a function/],
  ['a symbol as a field', () => ({ s: Symbol('s') }), 'args.s', /a symbol/],
  ['a symbol in an array', () => [Symbol('s')], 'args[0]', /a symbol/],
  ['undefined in an array', () => ({ xs: [1, undefined] }), 'args.xs[1]', /undefined/],
  ['a hole in an array', () => [1, , 3], 'args[1]', /undefined/],
  ['NaN', () => ({ n: Number.NaN }), 'args.n', /NaN/],
  ['Infinity', () => ({ n: [Number.POSITIVE_INFINITY] }), 'args.n[0]', /Infinity/],
  ['-Infinity', () => ({ n: Number.NEGATIVE_INFINITY }), 'args.n', /-Infinity/],
  ['a BigInt under a key that is not an identifier', () => ({ 'unit price': 10n ** 30n }), 'args["unit price"]', /a BigInt/],
  ['a cycle', cycle, 'args.user.friends[0].best', /a cycle/],
  ['an object that contains itself', () => {
    const self: Record<string, unknown> = {};
    self['self'] = self;
    return self;
  }, 'args.self', /a cycle/],
  ['a Date', () => ({ when: new Date(0) }), 'args.when', /instance of Date/],
  ['a Map', () => new Map([['k', 1]]), 'args', /instance of Map/],
  ['a Set', () => ({ s: new Set([1]) }), 'args.s', /instance of Set/],
  ['a RegExp', () => ({ pattern: /x/ }), 'args.pattern', /instance of RegExp/],
  ['a Buffer', () => ({ data: Buffer.from('x') }), 'args.data', /instance of Buffer/],
  ['a typed array', () => ({ data: new Uint8Array(2) }), 'args.data', /instance of Uint8Array/],
  ['a class instance', () => ({ price: new Money(100) }), 'args.price', /instance of Money/],
  ['a boxed string', () => ({ s: new String('x') }), 'args.s', /instance of String/],
  ['a class with toJSON', () => ({ at: new Stamp() }), 'args.at', /instance of Stamp/],
  ['a plain object with toJSON', () => ({ x: { toJSON: () => 1 } }), 'args.x.toJSON', /a function/],
  ['an array with toJSON', () => ({ xs: Object.assign([1], { toJSON: () => 2 }) }), 'args.xs', /array with a toJSON method/],
  ['a getter that throws', () => ({ get boom(): never {
    throw new Error('getter failed');
  } }), 'args', /checking it threw Error: getter failed/],
  ['nesting 100,000 deep', () => nested(100_000), 'args', /checking it threw RangeError/],
];

for (const [label, args, where, what] of refused) {
  test(`checkJson refuses ${label}, naming ${where}`, () => {
    assert.throws(
      () => checkJson(args(), 'args'),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
        assert.equal(error.argument, 'args');
        assert.ok(error.message.startsWith(`${where} cannot be sent as JSON`), `message: ${error.message}`);
        assert.match(error.message, what);
        return true;
      },
    );
  });
}

test('checkJson refuses undefined as the whole value (enqueue turns it into null first)', () => {
  assert.throws(() => checkJson(undefined, 'args'), /args cannot be sent as JSON: it is undefined/);
});

test('checkJson accepts plain data: null-prototype objects, nesting, shared objects, undefined fields, -0', () => {
  const shared = { id: 1 };
  const accepted: unknown[] = [
    null,
    'text',
    0,
    -0,
    false,
    [],
    {},
    Object.assign(Object.create(null) as object, { a: 1, inner: Object.create(null) as object }),
    { a: [[1, [2, { b: [null, true] }]]], c: { d: { e: 'f' } } },
    { first: shared, again: shared, list: [shared, shared] },
    { present: 1, absent: undefined, nested: { absent: undefined } },
    { __proto__: null, constructor: 'data', toString: 'data' },
  ];
  for (const value of accepted) assert.doesNotThrow(() => checkJson(value, 'args'), `refused ${JSON.stringify(value)}`);
});

test('checkJson ignores enumerable keys added to Object.prototype', () => {
  Object.defineProperty(Object.prototype, 'pollutedFn', { value: () => 1, enumerable: true, configurable: true });
  try {
    assert.doesNotThrow(() => checkJson({ a: { b: 1 } }, 'args'));
  } finally {
    delete (Object.prototype as Record<string, unknown>)['pollutedFn'];
  }
});

async function cmdPut(client: Client): Promise<number> {
  return (await client.stats()).cmdPut;
}

for (const [label, args, where, what] of refused) {
  test(`enqueue with ${label} rejects with InvalidArgumentError (args) and sends nothing`, async (t) => {
    const { client, tube } = await onFreshTube(t, server.url);
    const before = await cmdPut(client);
    await rejectsAsInvalid(() => enqueue(client, 'json.check', args(), { tube }), 'args', label);
    await assert.rejects(enqueue(client, 'json.check', args(), { tube }), (error: Error) => {
      assert.ok(error.message.startsWith(`job json.check: ${where} cannot be sent as JSON`), error.message);
      assert.match(error.message, what);
      return true;
    });
    assert.equal(await cmdPut(client), before, 'no put reached the server');
    assert.equal((await client.statsTube(tube)).totalJobs, 0);
  });
}

const badCustom: [label: string, custom: unknown, where: string][] = [
  ['a Date in custom', { sentAt: new Date(0) }, 'custom.sentAt'],
  ['a function in custom', { trace: { onEnd: () => 1 } }, 'custom.trace.onEnd'],
  ['NaN in custom', { ratio: Number.NaN }, 'custom.ratio'],
  ['custom as an array', ['trace'], 'custom'],
  ['custom as a string', 'trace', 'custom'],
];
for (const [label, custom, where] of badCustom) {
  test(`enqueue with ${label} rejects with InvalidArgumentError (custom) naming ${where}, and sends nothing`, async (t) => {
    const { client, tube } = await onFreshTube(t, server.url);
    const before = await cmdPut(client);
    const options = { tube, custom } as EnqueueOptions;
    await rejectsAsInvalid(() => enqueue(client, 'json.check', { fine: true }, options), 'custom', label);
    await assert.rejects(enqueue(client, 'json.check', { fine: true }, options), (error: Error) =>
      error.message.startsWith(`job json.check: ${where} `),
    );
    assert.equal(await cmdPut(client), before, 'no put reached the server');
  });
}

test('defineJob(...).enqueue refuses a Date that got past the types, and sends nothing', async (t) => {
  const { client, tube } = await onFreshTube(t, server.url);
  const job = defineJob<{ when: string }>({ type: 'json.defined', tube, run: () => undefined });
  const before = await cmdPut(client);
  await rejectsAsInvalid(() => job.enqueue(client, { when: new Date(0) as never }), 'args');
  assert.equal(await cmdPut(client), before);
  assert.equal((await client.statsTube(tube)).totalJobs, 0);
});

const arrivals: [label: string, args: () => unknown, stored: unknown][] = [
  ['a null-prototype object', () => Object.assign(Object.create(null) as object, { a: 1, b: { c: [true] } }), { a: 1, b: { c: [true] } }],
  ['nested arrays and objects', () => ({ m: [[1, 2], [{ x: [null] }]], o: { p: { q: 'r' } } }), { m: [[1, 2], [{ x: [null] }]], o: { p: { q: 'r' } } }],
  ['undefined fields, which are dropped', () => ({ keep: 1, drop: undefined, inner: { drop: undefined } }), { keep: 1, inner: {} }],
  ['the same object twice (not a cycle)', () => {
    const shared = { id: 7 };
    return { a: shared, b: [shared] };
  }, { a: { id: 7 }, b: [{ id: 7 }] }],
  ['undefined as the whole of args, sent as null', () => undefined, null],
  ['-0, sent as 0', () => ({ zero: -0 }), { zero: 0 }],
];
// Its type says JsonValue, which has no undefined; at run time an undefined field is dropped here too.
const customWithUndefined = { trace: { id: 't-1', skipped: undefined } } as Record<string, unknown> as EnqueueOptions['custom'];
for (const [label, args, stored] of arrivals) {
  test(`enqueue accepts ${label}; the server holds it as JSON`, async (t) => {
    const { client, tube } = await onFreshTube(t, server.url);
    const { id } = await enqueue(client, 'json.ok', args(), { tube, custom: customWithUndefined });
    const job = await client.peek(id);
    assert.ok(job !== null);
    const envelope = JSON.parse(job.body.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(envelope['args'], stored);
    assert.ok(Object.hasOwn(envelope, 'args'), 'args is present even when null');
    assert.deepEqual(envelope['custom'], { trace: { id: 't-1' } });
  });
}

/**
 * What a job's arguments may be: data that survives JSON.stringify then JSON.parse unchanged.
 * JSON.stringify itself never complains about most of what it cannot carry; it drops or rewrites
 * it (`{ f: fn }` -> `{}`, `[fn]` -> `[null]`, a Map -> `{}`, NaN -> null, a Date -> a string), so
 * a worker would run with arguments other than the ones enqueued. These rules refuse that, once
 * at compile time (JsonShaped) and once at run time (checkJson).
 */

import { InvalidArgumentError } from '../errors.js';

type JsonPrimitive = string | number | boolean | null;

declare const notJson: unique symbol;

/** Stands where a type has a part JSON cannot carry, so the compiler's message says which part and why. */
export interface NotJson<What extends string> {
  readonly [notJson]: What;
}

/**
 * A field's type, or NotJson where it is not data. `unknown` and `any` pass: they say nothing.
 * `undefined` passes for fields (an optional field is left out); arrays refuse it (JSON sends null).
 */
type JsonField<T> = unknown extends T
  ? T
  : T extends JsonPrimitive | undefined | void
    ? T
    : T extends (...args: never) => unknown
      ? NotJson<'a function'>
      : T extends object
        ? JsonFields<T>
        : NotJson<'a bigint or a symbol'>;

type JsonElement<T> = T extends undefined | void ? NotJson<'undefined in an array'> : JsonField<T>;

/**
 * A mapped type, not a union with an index signature such as JsonValue, so interfaces qualify.
 * It keeps primitives, maps arrays element by element, and makes every method of a class instance
 * (Date, Map, Buffer...) a NotJson.
 */
type JsonFields<T> = { [K in keyof T]: T extends readonly unknown[] ? JsonElement<T[K]> : JsonField<T[K]> };

/** What JsonFields cannot see in the whole of Args: a function has no fields, a bigint keeps its type. */
type JsonWhole<T> = [T] extends [(...args: never) => unknown]
  ? NotJson<'a function'>
  : [T] extends [bigint | symbol]
    ? NotJson<'a bigint or a symbol'>
    : unknown;

/**
 * `Args extends JsonShaped<Args>` holds when every part of Args is JSON data: primitives, arrays,
 * and objects whose fields are JSON data, optional fields included. `unknown` passes (no promise
 * made), so does a branded primitive such as `string & { __brand: 'id' }`. A generic wrapper of
 * defineJob passes the bound on: `<Args extends JsonShaped<Args>>`.
 *
 * The two escapes test T only inside a tuple or on the right of `extends`: a conditional that
 * distributes over T would make the bound circular (TS2313).
 */
export type JsonShaped<T> =
  | (JsonFields<T> & JsonWhole<T>)
  | (unknown extends T ? {} | null | undefined : never)
  | ([T] extends [JsonPrimitive] ? JsonPrimitive : never);

/** The first part of a value JSON cannot carry: what it is, and the keys leading to it, innermost first. */
interface Problem {
  readonly what: string;
  readonly keys: (string | number)[];
}

/**
 * Throws InvalidArgumentError(`path`) naming the first part of `value` JSON cannot carry, as a path
 * from `path` (e.g. `args.user.tags[2]`): a function, a symbol, a BigInt, undefined (except as an
 * object's field, which is dropped), NaN or ±Infinity, a cycle, or an object that is neither an
 * array nor a plain object (prototype Object.prototype or null). The message names `jobType` if given.
 */
export function checkJson(value: unknown, path: string, jobType?: string): void {
  let problem: Problem | undefined;
  try {
    problem = problemIn(value, []);
  } catch (error) {
    // A getter or a proxy that throws, or nesting deeper than the stack: JSON.stringify would fail too.
    throw new InvalidArgumentError(path, `${jobPrefix(jobType)}${path} cannot be sent as JSON: checking it threw ${String(error)}`);
  }
  if (problem !== undefined) {
    throw new InvalidArgumentError(path, `${jobPrefix(jobType)}${pathTo(path, problem.keys)} cannot be sent as JSON: it is ${problem.what}`);
  }
}

function jobPrefix(jobType: string | undefined): string {
  return jobType === undefined ? '' : `job ${jobType}: `;
}

// The walk allocates nothing per node while all is well: the path is built only for a problem, on
// the way out. `ancestors` is the objects on the current path: the same object in two places is
// fine, an object inside itself is a cycle. An array beats a Set at the usual depth of a few levels
// (about 70 ns less per enqueue); at the deepest the stack allows its scans take a few ms.
function problemIn(value: unknown, ancestors: object[]): Problem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { what: String(value), keys: [] };
    case 'object':
      return value === null ? undefined : problemInObject(value, ancestors);
    case 'bigint':
      return { what: 'a BigInt', keys: [] };
    default:
      return { what: value === undefined ? 'undefined' : `a ${typeof value}`, keys: [] };
  }
}

function problemInObject(value: object, ancestors: object[]): Problem | undefined {
  if (ancestors.includes(value)) return { what: 'a cycle back to an enclosing object', keys: [] };
  const isArray = Array.isArray(value);
  if (isArray ? typeof (value as { toJSON?: unknown }).toJSON === 'function' : !isPlain(value)) {
    return { what: describeObject(value), keys: [] };
  }
  ancestors.push(value);
  const problem = isArray ? problemInArray(value, ancestors) : problemInFields(value as Record<string, unknown>, ancestors);
  ancestors.pop();
  return problem;
}

function problemInArray(array: readonly unknown[], ancestors: object[]): Problem | undefined {
  for (let index = 0; index < array.length; index += 1) {
    const problem = problemIn(array[index], ancestors);
    if (problem !== undefined) {
      problem.keys.push(index);
      return problem;
    }
  }
  return undefined;
}

function problemInFields(object: Record<string, unknown>, ancestors: object[]): Problem | undefined {
  // for...in rather than Object.keys: no array per object. A plain object inherits no enumerable keys
  // (unless Object.prototype was polluted, hence hasOwn).
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const field = object[key];
    // As JSON.stringify does, and as an optional field left out.
    if (field === undefined) continue;
    const problem = problemIn(field, ancestors);
    if (problem !== undefined) {
      problem.keys.push(key);
      return problem;
    }
  }
  return undefined;
}

function isPlain(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describeObject(value: object): string {
  if (Array.isArray(value)) return 'an array with a toJSON method';
  const name: unknown = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}, not a plain object` : 'not a plain object';
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function pathTo(root: string, keysInnermostFirst: readonly (string | number)[]): string {
  let path = root;
  for (let index = keysInnermostFirst.length - 1; index >= 0; index -= 1) {
    const key = keysInnermostFirst[index] as string | number;
    path += typeof key === 'number' ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
}

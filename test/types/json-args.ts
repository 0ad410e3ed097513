/**
 * Compile-time tests of what a job's arguments may be (JsonShaped) and of the public job types
 * standing alone (JobLogger). tsc is the test runner: each `@ts-expect-error` line must fail to
 * compile (once it compiles, the directive itself is an error), each plain line must compile.
 *
 * Nothing here runs: the cases sit in a function that is never called, and the file's name does not
 * match the test glob (dist/test/*.test.js).
 */
import createDebug from 'debug';
import {
  defineJob,
  type AnyJobDefinition,
  type JobContext,
  type JobDefinition,
  type JobDefinitionOptions,
  type JobLogger,
  type JsonShaped,
} from '../../src/index.js';

const run = (): void => undefined;

interface User {
  name: string;
  nickname?: string;
  tags: readonly string[];
  manager: User | null;
  address: { city: string; zip?: string };
  scores: number[][];
}
type Tree = { value: number; children: Tree[] };
type UserId = string & { readonly __brand: 'user-id' };

class Money {
  constructor(readonly cents: number) {}
  format(): string {
    return `${this.cents / 100}`;
  }
}

/** A wrapper that passes the bound on, as test/helpers/worker.ts's jobOn must. */
function wrapped<Args extends JsonShaped<Args>>(options: Partial<JobDefinitionOptions<Args>> = {}): JobDefinition<Args> {
  return defineJob<Args>({ type: 'wrapped', run, ...options });
}

export function argumentsThatCompile(): AnyJobDefinition[] {
  return [
    // An interface (no index signature) with optional fields, readonly arrays, null, nesting, recursion.
    defineJob<User>({ type: 'interface', run }),
    defineJob<Tree>({ type: 'recursive alias', run }),
    defineJob<{ a?: string; b: string | undefined }>({ type: 'optional fields', run }),
    defineJob<readonly { id: number }[]>({ type: 'readonly array', run }),
    defineJob<[string, number, { ok: boolean }]>({ type: 'tuple', run }),
    defineJob<{ user: User } | null>({ type: 'union with null', run }),
    defineJob<{ kind: 'a'; n: number } | { kind: 'b'; s: string }>({ type: 'tagged union', run }),
    defineJob<Record<string, number>>({ type: 'record', run }),
    defineJob<{ [key: string]: { when: string } }>({ type: 'index signature', run }),
    defineJob<'low' | 'high'>({ type: 'literal union', run }),
    defineJob<number>({ type: 'number', run }),
    defineJob<UserId>({ type: 'branded string', run }),
    defineJob<{ id: UserId }>({ type: 'branded field', run }),
    defineJob<{ anything: unknown; whatever: any }>({ type: 'unknown and any fields', run }),
    // A job without arguments.
    defineJob<void>({ type: 'void', run }),
    defineJob<undefined>({ type: 'undefined', run }),
    defineJob<null>({ type: 'null', run }),
    // No promise made: no type argument, unknown, any.
    defineJob({ type: 'default', run: (args) => args satisfies unknown }),
    defineJob<unknown>({ type: 'unknown', run }),
    defineJob<any>({ type: 'any', run }),
    // Args inferred from run's parameter.
    defineJob({ type: 'inferred', run: (args: { to: string }) => args.to.length }),
    // Generic wrappers that pass the bound on.
    wrapped<User>(),
    wrapped<unknown>(),
    wrapped({ run: (args: { n: number }) => args.n }),
  ];
}

export function argumentsThatDoNot(): unknown[] {
  return [
    // @ts-expect-error a Date arrives as a string
    defineJob<{ when: Date }>({ type: 'date', run }),
    // @ts-expect-error a function field is dropped
    defineJob<{ f: () => void }>({ type: 'function field', run }),
    // @ts-expect-error a method is a function too
    defineJob<{ callback(): void }>({ type: 'method', run }),
    // @ts-expect-error a Map arrives as {}
    defineJob<{ m: Map<string, number> }>({ type: 'map', run }),
    // @ts-expect-error a Set arrives as {}
    defineJob<{ s: Set<string> }>({ type: 'set', run }),
    // @ts-expect-error a RegExp arrives as {}
    defineJob<{ pattern: RegExp }>({ type: 'regexp', run }),
    // @ts-expect-error a Buffer arrives as { type, data }
    defineJob<{ data: Buffer }>({ type: 'buffer', run }),
    // @ts-expect-error a typed array arrives as an object of indexes
    defineJob<{ data: Uint8Array }>({ type: 'typed array', run }),
    // @ts-expect-error a class instance loses its methods
    defineJob<{ price: Money }>({ type: 'class instance', run }),
    // @ts-expect-error toJSON sends something else than the type says
    defineJob<{ x: { toJSON(): string } }>({ type: 'toJSON', run }),
    // @ts-expect-error JSON.stringify throws on a BigInt
    defineJob<{ amount: bigint }>({ type: 'bigint field', run }),
    // @ts-expect-error a symbol field is dropped
    defineJob<{ s: symbol }>({ type: 'symbol field', run }),
    // @ts-expect-error undefined in an array arrives as null
    defineJob<{ xs: (string | undefined)[] }>({ type: 'undefined in an array', run }),
    // @ts-expect-error deep inside arrays and objects
    defineJob<{ a: { b: { when: Date }[] }[] }>({ type: 'deep', run }),
    // @ts-expect-error in a union with null
    defineJob<{ when: Date } | null>({ type: 'union with null', run }),
    // @ts-expect-error in one member of a union
    defineJob<{ a: Date } | { b: string }>({ type: 'union member', run }),
    // @ts-expect-error the whole of Args
    defineJob<Date>({ type: 'whole date', run }),
    // @ts-expect-error the whole of Args
    defineJob<() => void>({ type: 'whole function', run }),
    // @ts-expect-error the whole of Args
    defineJob<bigint>({ type: 'whole bigint', run }),
    // @ts-expect-error Args inferred from run's parameter
    defineJob({ type: 'inferred', run: (args: { when: Date }) => args.when.getTime() }),
    // @ts-expect-error through a wrapper that passes the bound on
    wrapped<{ when: Date }>(),
  ];
}

/** A wrapper that does not pass the bound on cannot call defineJob with its own type parameter. */
export function unboundWrapper<Args>(options: JobDefinitionOptions<Args>): JobDefinition<Args> {
  // @ts-expect-error Args may be anything
  return defineJob<Args>(options);
}

/** ctx.log is typed by beanline itself: neither `any` (skipLibCheck) nor a missing module (TS7016). */
export function loggerTypes(context: JobContext): void {
  const log: JobLogger = context.log;
  log('job %s attempt %d', context.jid, context.attempt);
  const on: boolean = log.enabled;
  const namespace: string = log.namespace;
  void [on, namespace];
  // @ts-expect-error would compile if log were any
  log.notAMember();
  // @ts-expect-error enabled is a boolean, so not any
  const notANumber: number = log.enabled;
  void notANumber;
  // A debug logger is a JobLogger.
  const fromDebug: JobLogger = createDebug('beanline:job:example');
  void fromDebug;
}

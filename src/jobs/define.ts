import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { JobRef, Producer } from '../producer.js';
import { DEFAULT_PRIORITY, DEFAULT_TTR } from '../protocol/commands.js';
import { checkTube, checkUint32, MAX_UINT32 } from '../protocol/validate.js';
import { encodeEnvelope, type JobEnvelope, type JsonValue, type ScheduleTick } from './envelope.js';
import { checkJson, type JsonShaped } from './json.js';

/** Retries after the first run, unless a job says otherwise (Faktory's default). */
export const DEFAULT_RETRY = 25;

/**
 * Seconds to wait before retry number `retryCount` (1 for the first retry): Faktory's schedule,
 * (n^4 + 15 + random(30) * (n + 1)) with n = retryCount - 1, about 15 s first and 20 days by the 25th.
 */
export function defaultBackoff(retryCount: number): number {
  const n = Math.max(0, retryCount - 1);
  return Math.min(MAX_UINT32, n ** 4 + 15 + Math.floor(Math.random() * 30) * (n + 1));
}

export type { Producer } from '../producer.js';

export interface EnqueueOptions {
  /** Default: the job definition's tube, else `default`. */
  tube?: string;
  priority?: number;
  /** Seconds before the job may run. Give `delay` or `at`, not both. */
  delay?: number;
  /** When the job may run (rounded up to the second). */
  at?: Date;
  ttr?: number;
  /** Retries after the first run. */
  retry?: number;
  /** Free key/values that travel with the job. */
  custom?: Record<string, JsonValue>;
  /** With a Cluster: jobs with the same key go to the same server, in order. */
  key?: string;
}

export interface Enqueued {
  /** The job's id across retries. */
  jid: string;
  /** The beanstalkd id of the job as put. */
  id: number;
  /** With several servers (a Cluster): the one the job went to, as its URL was given. */
  server?: string;
}

/**
 * What `ctx.log` promises. Our own type, not `debug`'s Debugger: those types live in @types/debug,
 * which an app need not have (TS7016 without it, and `any` with skipLibCheck). A Debugger is one.
 */
export interface JobLogger {
  /** Logs when enabled: a printf-style format (%s, %d, %o, %O, %j) and its values, or any value. */
  (format: unknown, ...args: unknown[]): void;
  /** Whether this namespace is on (DEBUG=...): lets a job skip building costly log values. */
  readonly enabled: boolean;
  /** `beanline:job:<type>`. */
  readonly namespace: string;
}

/** What a job's `run` gets besides its arguments. */
export interface JobContext {
  /** The beanstalkd id of this copy of the job. */
  readonly id: number;
  /** The job's id across retries (for raw jobs: the beanstalkd id as a string). */
  readonly jid: string;
  /** Runs so far including this one: 1 on the first. */
  readonly attempt: number;
  /** The server the job came from: its URL as given to the worker. */
  readonly server: string;
  /** The envelope as received; undefined for raw jobs. */
  readonly envelope: JobEnvelope | undefined;
  /** Restarts the TTR clock now (the worker also does it by itself while `run` is going). */
  touch(): Promise<void>;
  /** Aborted when the worker shuts down: a long job should stop and throw. */
  readonly signal: AbortSignal;
  /** The job type's logger, `beanline:job:<type>` (on when DEBUG names it). */
  readonly log: JobLogger;
  /** For a job a Scheduler enqueued: its schedule and tick, the key to make `run` idempotent per tick. */
  readonly schedule: ScheduleTick | undefined;
}

export interface JobDefinitionOptions<Args> {
  type: string;
  /** Default `default`. */
  tube?: string;
  /** Default 1024. */
  priority?: number;
  /** Seconds; default 60. The worker touches the job while `run` is going, so this bounds a stall, not a run. */
  ttr?: number;
  /** Retries after the first run; default 25. */
  retry?: number;
  /** Seconds before retry number `retryCount` (1 for the first). Default: Faktory's schedule. */
  backoff?: (retryCount: number) => number;
  run: (args: Args, context: JobContext) => Promise<unknown> | unknown;
}

export interface JobDefinition<Args> {
  readonly type: string;
  readonly tube: string;
  readonly priority: number;
  readonly ttr: number;
  readonly retry: number;
  readonly backoff: (retryCount: number) => number;
  readonly run: (args: Args, context: JobContext) => Promise<unknown> | unknown;
  /** Puts one job of this type with typed arguments. */
  enqueue(producer: Producer, args: Args, options?: EnqueueOptions): Promise<Enqueued>;
}

/** A job definition of any argument type, as a worker holds them. */
export type AnyJobDefinition = JobDefinition<never>;

/**
 * A job type whose arguments have type Args, which must be JSON data (no Date, Map, class instance
 * with methods, function, bigint...): a worker gets them back through JSON. Without a type argument
 * (or with `unknown`), `run` gets `unknown`.
 */
export function defineJob<Args extends JsonShaped<Args> = unknown>(options: JobDefinitionOptions<Args>): JobDefinition<Args> {
  if (typeof options.type !== 'string' || options.type === '') {
    throw new InvalidArgumentError('type', 'a job definition needs a non-empty type');
  }
  if (typeof options.run !== 'function') throw new InvalidArgumentError('run', `job ${options.type}: run must be a function`);
  const definition: JobDefinition<Args> = {
    type: options.type,
    tube: checkTube(options.tube ?? 'default'),
    priority: checkUint32(options.priority ?? DEFAULT_PRIORITY, 'priority'),
    ttr: checkUint32(options.ttr ?? DEFAULT_TTR, 'ttr'),
    retry: checkUint32(options.retry ?? DEFAULT_RETRY, 'retry'),
    backoff: options.backoff ?? defaultBackoff,
    run: options.run,
    enqueue: (producer, args, enqueueOptions = {}) => enqueue(producer, definition.type, args, withDefaults(definition, enqueueOptions)),
  };
  return Object.freeze(definition);
}

type Defaults = Pick<AnyJobDefinition, 'type' | 'tube' | 'priority' | 'ttr' | 'retry'>;

/** The options a definition's own `enqueue` would use: the caller's, else the definition's. */
function withDefaults(definition: Defaults, options: EnqueueOptions): EnqueueOptions {
  return {
    ...options,
    tube: options.tube ?? definition.tube,
    priority: options.priority ?? definition.priority,
    ttr: options.ttr ?? definition.ttr,
    retry: options.retry ?? definition.retry,
  };
}

/**
 * How the Scheduler enqueues a tick: as `definition.enqueue` would, with `schedule` in the envelope.
 * Not exported from the package: only a scheduler may claim that a job is a schedule's tick.
 */
export function enqueueScheduled(
  producer: Producer,
  definition: Defaults,
  args: unknown,
  options: EnqueueOptions,
  schedule: ScheduleTick,
): Promise<Enqueued> {
  return enqueueEnvelope(producer, definition.type, args, withDefaults(definition, options), schedule);
}

/**
 * Puts one job envelope of `type` with `args` (any JSON value; undefined is sent as null); resolves
 * with its jid and id. Arguments or custom values JSON cannot carry are an InvalidArgumentError, and
 * nothing is sent.
 */
export function enqueue(producer: Producer, type: string, args: unknown, options: EnqueueOptions = {}): Promise<Enqueued> {
  return enqueueEnvelope(producer, type, args, options, undefined);
}

async function enqueueEnvelope(
  producer: Producer,
  type: string,
  args: unknown,
  options: EnqueueOptions,
  schedule: ScheduleTick | undefined,
): Promise<Enqueued> {
  if (typeof type !== 'string' || type === '') throw new InvalidArgumentError('type', 'type must be a non-empty string');
  if (options.delay !== undefined && options.at !== undefined) {
    throw new InvalidArgumentError('at', 'give delay or at, not both');
  }
  const now = new Date();
  const tube = checkTube(options.tube ?? 'default');
  const delay = options.at === undefined ? checkUint32(options.delay ?? 0, 'delay') : delayUntil(options.at, now);
  // JSON has no undefined: a job without arguments (Args = void) carries null.
  const data = args === undefined ? null : args;
  checkJson(data, 'args', type);
  const custom = options.custom ?? {};
  checkCustom(custom, type);
  const created = now.toISOString();
  // One literal, `at` left undefined rather than spread in: JSON leaves it out, and the literal
  // keeps the envelope a fast object on a path that runs for every job.
  const envelope: JobEnvelope = {
    jid: randomUUID(),
    type,
    args: data,
    tube,
    createdAt: created,
    enqueuedAt: created,
    at: options.at?.toISOString(),
    retry: checkUint32(options.retry ?? DEFAULT_RETRY, 'retry'),
    priority: checkUint32(options.priority ?? DEFAULT_PRIORITY, 'priority'),
    ttr: checkUint32(options.ttr ?? DEFAULT_TTR, 'ttr'),
    custom,
    schedule,
  };
  const placed = await putEnvelope(producer, envelope, delay, options.key);
  return typeof placed === 'number' ? { jid: envelope.jid, id: placed } : { jid: envelope.jid, id: placed.id, server: placed.server };
}

/** A worker refuses an envelope whose custom is not an object, so it is refused here first. */
function checkCustom(custom: unknown, type: string): void {
  if (typeof custom !== 'object' || custom === null || Array.isArray(custom)) {
    throw new InvalidArgumentError('custom', `job ${type}: custom must be an object of key/values`);
  }
  checkJson(custom, 'custom', type);
}

function delayUntil(at: Date, now: Date): number {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new InvalidArgumentError('at', 'at must be a valid Date');
  return Math.min(MAX_UINT32, Math.max(0, Math.ceil((at.getTime() - now.getTime()) / 1000)));
}

/** Puts an envelope into its tube (a client's own `use` tube is left as it was). */
export function putEnvelope(producer: Producer, envelope: JobEnvelope, delay: number, key?: string): Promise<number | JobRef> {
  const options = { tube: envelope.tube, priority: envelope.priority, ttr: envelope.ttr, delay };
  return producer.put(encodeEnvelope(envelope), key === undefined ? options : { ...options, key });
}

/**
 * The JSON body of a job produced by beanline: the job's type and arguments plus the metadata a
 * worker needs (retries, failure so far), after Faktory's job model.
 */

import { InvalidArgumentError } from '../errors.js';

/** What the last failed run left behind. */
export interface JobFailure {
  /** Failed runs so far: 1 after the first failure. */
  readonly retryCount: number;
  /** ISO 8601 time of the last failure. */
  readonly failedAt: string;
  readonly message: string;
  /** The error's class name, e.g. `TypeError`. */
  readonly errorType: string;
  /** The error's stack, one frame a line, when it had one. */
  readonly backtrace?: readonly string[];
}

/** Which tick of which schedule a job was enqueued for, by a Scheduler. */
export interface ScheduleTick {
  /** The schedule's id. */
  readonly id: string;
  /** ISO 8601 in UTC: the time the tick was due, the same whichever scheduler enqueued it. */
  readonly tick: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface JobEnvelope<Args = unknown> {
  /** Unique id of the job across retries (the beanstalkd id changes on every retry). */
  readonly jid: string;
  readonly type: string;
  readonly args: Args;
  readonly tube: string;
  /** ISO 8601: when the job was first enqueued. */
  readonly createdAt: string;
  /** ISO 8601: when this copy was put (differs from createdAt after a retry). */
  readonly enqueuedAt: string;
  /** ISO 8601: when the job was scheduled to run, if it was scheduled. */
  readonly at?: string;
  /** Retries allowed after the first run. */
  readonly retry: number;
  readonly priority: number;
  readonly ttr: number;
  /** Free key/values that travel with the job (trace ids, locale...). */
  readonly custom: Readonly<Record<string, JsonValue>>;
  readonly failure?: JobFailure;
  /** Set on jobs a Scheduler enqueued. */
  readonly schedule?: ScheduleTick;
}

/** Why a body is not a job envelope, or the envelope. */
export type EnvelopeResult = { ok: true; envelope: JobEnvelope } | { ok: false; reason: string };

const MAX_BACKTRACE_LINES = 30;

/** Reads a job body; never throws. A body that is not a beanline envelope gets a reason. */
export function parseEnvelope(body: Buffer): EnvelopeResult {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'body is JSON but not an object' };
  }
  const job = value as Record<string, unknown>;
  for (const key of ['jid', 'type', 'tube', 'createdAt', 'enqueuedAt'] as const) {
    if (typeof job[key] !== 'string' || job[key] === '') return { ok: false, reason: `envelope field ${key} is missing or not a string` };
  }
  for (const key of ['retry', 'priority', 'ttr'] as const) {
    if (typeof job[key] !== 'number' || !Number.isInteger(job[key])) {
      return { ok: false, reason: `envelope field ${key} is missing or not a whole number` };
    }
  }
  if (!Object.hasOwn(job, 'args')) return { ok: false, reason: 'envelope field args is missing' };
  const custom = job['custom'];
  if (custom !== undefined && (typeof custom !== 'object' || custom === null || Array.isArray(custom))) {
    return { ok: false, reason: 'envelope field custom is not an object' };
  }
  const failure = job['failure'];
  if (failure !== undefined && (typeof failure !== 'object' || failure === null || typeof (failure as JobFailure).retryCount !== 'number')) {
    return { ok: false, reason: 'envelope field failure is malformed' };
  }
  const schedule = job['schedule'];
  if (schedule !== undefined && !isScheduleTick(schedule)) {
    return { ok: false, reason: 'envelope field schedule is not { id, tick } with two strings' };
  }
  return { ok: true, envelope: { ...job, custom: job['custom'] ?? {} } as unknown as JobEnvelope };
}

function isScheduleTick(value: unknown): value is ScheduleTick {
  if (typeof value !== 'object' || value === null) return false;
  const { id, tick } = value as Record<string, unknown>;
  return typeof id === 'string' && typeof tick === 'string';
}

/**
 * The JSON body. enqueue has already refused what JSON cannot carry (checkJson); what can still
 * fail here (nesting deeper than JSON.stringify's stack, a getter that throws this time) is an
 * InvalidArgumentError too.
 */
export function encodeEnvelope(envelope: JobEnvelope): string {
  try {
    return JSON.stringify(envelope);
  } catch (error) {
    throw new InvalidArgumentError('args', `job ${envelope.type}: its arguments cannot be sent as JSON: ${(error as Error).message}`);
  }
}

/** Records a failed run: the copy to put back, with the failure and a fresh enqueuedAt. */
export function withFailure(envelope: JobEnvelope, error: unknown, now: Date): JobEnvelope {
  const err = error instanceof Error ? error : new Error(String(error));
  // Frames only: a multi-line message also shows at the top of the stack.
  const backtrace = err.stack
    ?.split('\n')
    .filter((line) => /^\s*at /.test(line))
    .slice(0, MAX_BACKTRACE_LINES)
    .map((line) => line.trim());
  const failure: JobFailure = {
    retryCount: (envelope.failure?.retryCount ?? 0) + 1,
    failedAt: now.toISOString(),
    message: err.message,
    // A subclass that does not set `name` still says `Error` there; its constructor knows better.
    errorType: err.name !== 'Error' ? err.name : err.constructor?.name || 'Error',
    ...(backtrace !== undefined && backtrace.length > 0 ? { backtrace } : {}),
  };
  return { ...envelope, enqueuedAt: now.toISOString(), failure };
}

/** Runs so far plus this one: 1 on the first run. */
export function attemptOf(envelope: JobEnvelope): number {
  return (envelope.failure?.retryCount ?? 0) + 1;
}

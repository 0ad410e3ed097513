import createDebug from 'debug';
import { DEFAULT_PRIORITY, type Client } from '../client.js';
import { buryParked, PARKED_DELAY } from '../buried-copy.js';
import { ConnectionError, JobOutcomeError, NotFoundError, UnhandledJobError } from '../errors.js';
import { defaultBackoff, DEFAULT_RETRY, type AnyJobDefinition, type JobContext, type JobLogger } from '../jobs/define.js';
import { attemptOf, encodeEnvelope, parseEnvelope, withFailure, type JobEnvelope } from '../jobs/envelope.js';
import type { Job } from '../protocol/commands.js';
import { MAX_UINT32 } from '../protocol/validate.js';
import type { JobEventInfo, WorkerEvents } from './events.js';
import { keepAlive } from './keep-alive.js';

/** Takes a job from a producer that is not beanline: its id and raw body. */
export type RawHandler = (job: Job, context: JobContext) => Promise<unknown> | unknown;

/** What running a job needs from its worker. */
export interface RunHost {
  readonly definitions: ReadonlyMap<string, AnyJobDefinition>;
  readonly raw: RawHandler | undefined;
  readonly signal: AbortSignal;
  emit<E extends keyof WorkerEvents>(event: E, ...args: WorkerEvents[E]): void;
  reportError(error: Error): void;
}

/** Set when the worker stopped waiting for this run at shutdown: its outcome is then dropped. */
export interface RunState {
  abandoned: boolean;
  /** The job being run, once its handler has started: what `job:abandoned` reports. */
  running: JobEventInfo | null;
  /** The server the job came from, as its URL was given. */
  readonly server: string;
  /** Called once the job's delete is queued: the slot may send its next reserve in the same write. */
  readonly reserveNext: () => void;
}


const loggers = new Map<string, JobLogger>();

/** One `debug` logger per job type: creating one per run would cost more than a no-op job. */
function loggerFor(type: string): JobLogger {
  let log = loggers.get(type);
  if (log === undefined) {
    log = createDebug(`beanline:job:${type}`);
    loggers.set(type, log);
  }
  return log;
}

/** `interrupted`: the run threw after shutdown began (as ctx.signal asks), so it is not a failure. */
type Outcome = { ok: true; durationMs: number } | { ok: false; error: unknown; interrupted: boolean };

/** Runs one reserved job to its end: deleted, put back for a retry, or buried. */
export async function runJob(client: Client, job: Job, worker: RunHost, state: RunState): Promise<void> {
  const host = lostOnce(worker);
  const parsed = parseEnvelope(job.body);
  const definition = parsed.ok ? host.definitions.get(parsed.envelope.type) : undefined;
  if (parsed.ok && definition !== undefined) {
    await runDefined(client, job, parsed.envelope, definition, host, state);
  } else if (host.raw !== undefined) {
    await runRaw(client, job, host.raw, host, state);
  } else {
    const error = parsed.ok
      ? new UnhandledJobError(job.id, 'unknown-type', `no job definition for type ${JSON.stringify(parsed.envelope.type)}`)
      : new UnhandledJobError(job.id, 'malformed', parsed.reason);
    const info: JobEventInfo = {
      id: job.id,
      jid: parsed.ok ? parsed.envelope.jid : String(job.id),
      type: parsed.ok ? parsed.envelope.type : undefined,
      attempt: parsed.ok ? attemptOf(parsed.envelope) : 1,
    };
    // Buried with the priority it has on the server: the envelope's may be stale, and a foreign body has none.
    let priority = DEFAULT_PRIORITY;
    const read = client.statsJob(job.id).then((stats) => {
      priority = stats.pri;
    });
    if ((await settle(read, info, host)) && (await settle(client.bury(job.id, priority), info, host))) {
      host.emit('job:buried', { ...info, reason: error.reason, error, buriedId: job.id });
    }
    host.reportError(error);
  }
}

async function runDefined(
  client: Client,
  job: Job,
  envelope: JobEnvelope,
  definition: AnyJobDefinition,
  host: RunHost,
  state: RunState,
): Promise<void> {
  const info: JobEventInfo = { id: job.id, jid: envelope.jid, type: envelope.type, attempt: attemptOf(envelope) };
  const outcome = await execute(client, info, envelope, envelope.ttr, host, state, (context) =>
    definition.run(envelope.args as never, context),
  );
  if (state.abandoned) return;
  if (outcome.ok) {
    await deleteDone(client, info, outcome.durationMs, host, state);
    return;
  }
  if (outcome.interrupted) {
    await giveBack(client, info, envelope.priority, outcome.error, host);
    return;
  }
  const failed = withFailure(envelope, outcome.error, new Date());
  if (info.attempt <= envelope.retry) {
    const delay = clampSeconds(definition.backoff(info.attempt));
    await retry(client, job, failed, delay, info, outcome.error, host);
  } else {
    await buryWithFailure(client, job, failed, info, outcome.error, host);
  }
}

async function runRaw(client: Client, job: Job, handler: RawHandler, host: RunHost, state: RunState): Promise<void> {
  // A foreign job carries no metadata: the server's own counts give its TTR and attempt.
  const stats = await client.statsJob(job.id);
  const info: JobEventInfo = { id: job.id, jid: String(job.id), type: undefined, attempt: stats.reserves };
  const outcome = await execute(client, info, undefined, stats.ttr, host, state, (context) => handler(job, context));
  if (state.abandoned) return;
  if (outcome.ok) {
    await deleteDone(client, info, outcome.durationMs, host, state);
  } else if (outcome.interrupted) {
    await giveBack(client, info, stats.pri, outcome.error, host);
  } else if (info.attempt <= DEFAULT_RETRY) {
    const delay = clampSeconds(defaultBackoff(info.attempt));
    if (await settle(client.release(job.id, { priority: stats.pri, delay }), info, host)) {
      host.emit('job:retry', { ...info, error: outcome.error, delay, newId: job.id });
    }
  } else if (await settle(client.bury(job.id, stats.pri), info, host)) {
    host.emit('job:buried', { ...info, reason: 'retries-exhausted', error: outcome.error, buriedId: job.id });
  }
}

/** Runs the handler with the job kept alive; reports start, and returns how it went. */
async function execute(
  client: Client,
  info: JobEventInfo,
  envelope: JobEnvelope | undefined,
  ttr: number,
  host: RunHost,
  state: RunState,
  run: (context: JobContext) => unknown,
): Promise<Outcome> {
  const context: JobContext = {
    id: info.id,
    jid: info.jid,
    attempt: info.attempt,
    envelope,
    server: state.server,
    touch: () => client.touch(info.id),
    signal: host.signal,
    log: loggerFor(info.type ?? 'raw'),
    schedule: envelope?.schedule,
  };
  const stopKeepAlive = keepAlive(client, info.id, ttr, (error) => {
    if (!state.abandoned) host.emit('job:lost', { ...info, error });
  });
  state.running = info;
  host.emit('job:start', info);
  const started = performance.now();
  try {
    await run(context);
    return { ok: true, durationMs: performance.now() - started };
  } catch (error) {
    return { ok: false, error, interrupted: host.signal.aborted };
  } finally {
    stopKeepAlive();
  }
}

/**
 * Deletes a job whose run succeeded. The slot's next reserve goes out in the same write, behind the
 * delete (the server handles them in order): one round trip per job instead of two.
 */
async function deleteDone(client: Client, info: JobEventInfo, durationMs: number, host: RunHost, state: RunState): Promise<void> {
  const deleting = client.delete(info.id);
  state.reserveNext();
  if (await settle(deleting, info, host)) host.emit('job:done', { ...info, durationMs });
}

/** A run stopped by shutdown goes back to ready as it was: no failure recorded, no backoff. */
async function giveBack(client: Client, info: JobEventInfo, priority: number, error: unknown, host: RunHost): Promise<void> {
  if (await settle(client.release(info.id, { priority }), info, host)) host.emit('job:released', { ...info, error });
}

/**
 * Puts the failed copy back with a delay, then deletes the original: a crash in between leaves two
 * copies (one runs twice), never none.
 */
async function retry(
  client: Client,
  job: Job,
  failed: JobEnvelope,
  delay: number,
  info: JobEventInfo,
  error: unknown,
  host: RunHost,
): Promise<void> {
  const newId = await putFailedCopy(client, job, failed, delay, host);
  if (newId === undefined) {
    await buryAsItIs(client, info, failed.priority, error, host);
  } else if (await settle(client.delete(job.id), info, host)) {
    host.emit('job:retry', { ...info, error, delay, newId });
  }
}

/**
 * The dead set keeps the failure: the updated copy is put delayed, reserved by id, buried, and the
 * original deleted (the last three in one write).
 */
async function buryWithFailure(
  client: Client,
  job: Job,
  failed: JobEnvelope,
  info: JobEventInfo,
  error: unknown,
  host: RunHost,
): Promise<void> {
  const newId = await putFailedCopy(client, job, failed, PARKED_DELAY, host);
  if (newId === undefined) {
    await buryAsItIs(client, info, failed.priority, error, host);
    return;
  }
  const parked = buryParked(client, newId, failed.priority).then(
    () => undefined,
    (parkError: Error) => parkError,
  );
  const deleting = client.delete(job.id);
  const parkError = await parked;
  if (parkError !== undefined && !(parkError instanceof ConnectionError)) {
    host.reportError(new JobOutcomeError(job.id, `its dead copy ${newId} could not be buried and stays delayed`, parkError));
  }
  if (await settle(deleting, info, host)) host.emit('job:buried', { ...info, reason: 'retries-exhausted', error, buriedId: newId });
}

/**
 * When the failure cannot be recorded, the original is buried unchanged: released, it would run
 * again with the same attempt count, and a job that keeps failing would never stop.
 */
async function buryAsItIs(client: Client, info: JobEventInfo, priority: number, error: unknown, host: RunHost): Promise<void> {
  if (await settle(client.bury(info.id, priority), info, host)) {
    host.emit('job:buried', { ...info, reason: 'failure-not-recorded', error, buriedId: info.id });
  }
}

/**
 * Puts the copy that records the failure. If it is refused (too big, server draining), reports that
 * and returns undefined, so the caller buries the original instead.
 */
async function putFailedCopy(
  client: Client,
  job: Job,
  failed: JobEnvelope,
  delay: number,
  host: RunHost,
): Promise<number | undefined> {
  try {
    return await client.put(encodeEnvelope(failed), { tube: failed.tube, priority: failed.priority, ttr: failed.ttr, delay });
  } catch (putError) {
    if (putError instanceof ConnectionError) throw putError;
    host.reportError(new JobOutcomeError(job.id, 'could not put the copy that records its failure; burying it as it is', putError));
    return undefined;
  }
}

/**
 * Awaits a delete/release/bury of a job we hold. NOT_FOUND or a dropped connection mean the server
 * took the job back (it will run again): that is a `job:lost` event, not a crash. False then.
 * A dropped connection is rethrown after the event, so the slot reconnects.
 */
async function settle(step: Promise<void>, info: JobEventInfo, host: RunHost): Promise<boolean> {
  try {
    await step;
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) {
      host.emit('job:lost', { ...info, error });
      return false;
    }
    if (error instanceof ConnectionError) host.emit('job:lost', { ...info, error });
    throw error;
  }
}

/** One `job:lost` per run: the keep-alive and a late delete may both find the job gone. */
function lostOnce(host: RunHost): RunHost {
  let lost = false;
  return {
    definitions: host.definitions,
    raw: host.raw,
    signal: host.signal,
    reportError: (error) => host.reportError(error),
    emit: (event, ...args) => {
      if (event === 'job:lost') {
        if (lost) return;
        lost = true;
      }
      host.emit(event, ...args);
    },
  };
}

function clampSeconds(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) return 0;
  return Math.min(MAX_UINT32, Math.ceil(seconds));
}

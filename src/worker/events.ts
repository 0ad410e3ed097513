/** What the worker tells about each job it handles. */
export interface JobEventInfo {
  /** The beanstalkd id of the copy being handled. */
  readonly id: number;
  /** The job's id across retries; for a raw job, its beanstalkd id as a string. */
  readonly jid: string;
  /** The job type; undefined for a body that is not a beanline envelope. */
  readonly type: string | undefined;
  /** Runs so far including this one. */
  readonly attempt: number;
}

/**
 * `failure-not-recorded`: the run failed and the copy recording the failure was refused (too big,
 * server draining), so the original was buried as it was rather than retried without a count.
 */
export type BuryReason = 'retries-exhausted' | 'failure-not-recorded' | 'malformed' | 'unknown-type';

export interface WorkerEvents {
  'job:start': [info: JobEventInfo];
  'job:done': [info: JobEventInfo & { readonly durationMs: number }];
  /** The run failed and the job was put back to run again after `delay` seconds, as job `newId`. */
  'job:retry': [info: JobEventInfo & { readonly error: unknown; readonly delay: number; readonly newId: number | undefined }];
  /**
   * The job was buried: the dead set, kept for inspection and `kick`. `buriedId` is the id of the
   * buried job: after retries are used up that is a copy recording the failure (the original is
   * deleted), so `statsJob(buriedId)` and `peek(buriedId)` find it; otherwise it is `id`.
   */
  'job:buried': [info: JobEventInfo & { readonly reason: BuryReason; readonly error: unknown; readonly buriedId: number }];
  /** The run was stopped by shutdown (it threw once `ctx.signal` aborted): the job is ready again, as it was. */
  'job:released': [info: JobEventInfo & { readonly error: unknown }];
  /**
   * The server took the job back before the worker finished with it (its TTR ran out, or the
   * connection dropped): it is ready again for another run, not lost. One exception: a connection
   * that dropped after the server had applied the job's delete (only the reply was lost) leaves
   * the job done. Never followed by `job:done` for the same copy.
   */
  'job:lost': [info: JobEventInfo & { readonly error: Error }];
  /**
   * `stop()` gave up waiting for a handler that ignored `ctx.signal`: the connection was dropped, so
   * the server made the job ready again, while the handler goes on running in this process. The job
   * may run twice (here and in another worker): handlers should honour `ctx.signal`.
   */
  'job:abandoned': [info: JobEventInfo & { readonly timeoutMs: number }];
  /**
   * A server could be reached again after it was lost; the loss itself was reported once on
   * `error`. `server`: its URL; `failedAttempts`: reconnect attempts that failed meanwhile, across
   * all slots.
   */
  'connection:restored': [info: { readonly server: string; readonly downMs: number; readonly failedAttempts: number }];
  /** Trouble that is not one job's outcome: connection loss, a body that could not be read. */
  error: [error: Error];
}

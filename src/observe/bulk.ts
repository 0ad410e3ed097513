/**
 * Acting on many jobs at once: delete, kick or move what a scan found. Every job is checked again
 * with `stats-job` just before the action (a confirmation prompt may have taken minutes), so a job
 * that has left the filter since (reserved, kicked, moved) is skipped, not acted on.
 *
 * A move never loses a job: the copy is put first, then the original deleted; if the original is gone
 * by then (a worker reserved it), the copy is deleted again and the job counted as skipped. Jobs are
 * handled a batch at a time and an abort is only looked at between batches, so an interrupted move
 * leaves every job in exactly one of the two tubes.
 */
import type { Client } from '../client.js';
import { NotFoundError } from '../errors.js';
import { checkTube } from '../protocol/validate.js';
import type { JobStats } from '../protocol/stats.js';
import { statsMatch, type JobFilter } from './filter.js';
import type { ScannedJob } from './scan.js';

export type BulkAction = { readonly kind: 'delete' } | { readonly kind: 'kick' } | { readonly kind: 'move'; readonly tube: string };

export interface BulkResult {
  /** Jobs acted on. */
  readonly done: number;
  /** Jobs that were gone, reserved, or no longer matched when their turn came. */
  readonly skipped: number;
}

export interface BulkOptions {
  /** Checked between batches: jobs of a batch already begun are finished. */
  readonly signal?: AbortSignal;
  /** The filter the jobs were scanned with, checked again (tube and state) before each action. */
  readonly filter?: JobFilter;
  readonly onProgress?: (result: BulkResult) => void;
  /** Jobs handled at once. Default 2000. */
  readonly batch?: number;
}

const DEFAULT_BATCH = 2000;

/** Applies `action` to each job, a batch at a time. */
export async function bulkAction(
  client: Client,
  action: BulkAction,
  jobs: Iterable<ScannedJob> | AsyncIterable<ScannedJob>,
  options: BulkOptions = {},
): Promise<BulkResult> {
  if (action.kind === 'move') checkTube(action.tube);
  const size = options.batch ?? DEFAULT_BATCH;
  let done = 0;
  let skipped = 0;
  let batch: ScannedJob[] = [];
  const flush = async (): Promise<void> => {
    const outcomes = await Promise.all(batch.map((job) => actOn(client, action, job, options.filter ?? {})));
    for (const acted of outcomes) if (acted) done += 1;
    skipped += outcomes.length - outcomes.filter(Boolean).length;
    batch = [];
    options.onProgress?.({ done, skipped });
  };
  for await (const job of jobs) {
    if (options.signal?.aborted === true) break;
    batch.push(job);
    if (batch.length >= size) await flush();
  }
  if (batch.length > 0 && options.signal?.aborted !== true) await flush();
  return { done, skipped };
}

/** One job: true when the action was done, false when the job was skipped. */
async function actOn(client: Client, action: BulkAction, job: ScannedJob, filter: JobFilter): Promise<boolean> {
  const now = await client.statsJob(job.id).catch(nullIfNotFound);
  if (now === null || !statsMatch(filter, now) || (action.kind === 'move' && now.state === 'reserved')) return false;
  switch (action.kind) {
    case 'delete':
      return succeeded(client.delete(job.id));
    case 'kick':
      if (now.state !== 'buried' && now.state !== 'delayed') return false;
      return succeeded(client.kickJob(job.id));
    case 'move':
      return move(client, action.tube, job, now);
  }
}

async function move(client: Client, tube: string, job: ScannedJob, stats: JobStats): Promise<boolean> {
  // A delayed job keeps the delay it has left; buried and ready jobs arrive ready.
  const delay = stats.state === 'delayed' ? Math.max(0, stats.timeLeft) : 0;
  const copy = await client.put(job.body, { tube, priority: stats.pri, ttr: stats.ttr, delay });
  if (await succeeded(client.delete(job.id))) return true;
  await client.delete(copy);
  return false;
}

/** Whether the command was done: false when the server answered NOT_FOUND. */
function succeeded(step: Promise<unknown>): Promise<boolean> {
  return step.then(
    () => true,
    (error: unknown) => nullIfNotFound(error) ?? false,
  );
}

function nullIfNotFound(error: unknown): null {
  if (error instanceof NotFoundError) return null;
  throw error;
}

/**
 * Listing jobs, which beanstalkd has no command for: ask `stats-job` for every id, pipelined, and
 * `peek` the ones that pass the filter.
 *
 * The range, found honestly: ids are handed out in order, one per put, never reused. A probe job
 * (put delayed into a tube of its own, deleted at once) has the highest id there is; the scan walks
 * down from just below it. The server counts its jobs (per tube and state, with `stats-tube`), so
 * counting down the scan stops once it has seen as many jobs as the filter's tube and state allow:
 * it costs a command per id between the newest and the oldest such job, not per id ever used, and
 * when there are none it costs one `stats` and puts no probe. Jobs put after the probe are not
 * listed. The count is taken again after the probe, so a job put or deleted in between can only
 * make the scan walk further, never miss a job; one that changes state during the scan may be
 * missed, as it would be by a listing taken a moment earlier.
 */
import type { Client } from '../client.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { parseEnvelope, type JobEnvelope } from '../jobs/envelope.js';
import type { JobStats, TubeStats } from '../protocol/stats.js';
import { bodyMatch, checkFilter, needsBody, statsMatch, type JobFilter } from './filter.js';

/** The tube of the probe job: nothing watches it, and it is empty again at once. */
export const PROBE_TUBE = 'beanline.scan-probe';

export interface ScannedJob {
  readonly id: number;
  readonly stats: JobStats;
  /** The whole body (empty when the scan was told not to fetch bodies). */
  readonly body: Buffer;
  /** The beanline envelope in the body, or null for any other body. */
  readonly envelope: JobEnvelope | null;
}

export interface ScanProgress {
  /** Ids asked about so far. */
  readonly scanned: number;
  /** Ids the scan may ask about at most (it usually stops well before). */
  readonly total: number;
  /** Jobs seen that pass the filter's tube and state (the scan stops at as many as the server counts). */
  readonly found: number;
  /** Jobs that passed the filter. */
  readonly matched: number;
}

export interface ScanOptions {
  readonly filter?: JobFilter;
  /** Stop after this many matching jobs. */
  readonly limit?: number;
  /** Stops the scan between batches. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScanProgress) => void;
  /** Fetch bodies even when the filter does not need them (a listing shows them). Default true. */
  readonly bodies?: boolean;
  /** Ids asked about at once, at most: the first batch is smaller and they double. Default 2000. */
  readonly batch?: number;
}

const DEFAULT_BATCH = 2000;
const FIRST_BATCH = 250;
const IN_FLIGHT = 2;
/** Peeks sent at once: enough to keep the connection busy, few enough to waste little past a limit. */
const PEEK_CHUNK = 200;
const PROBE_DELAY_SECONDS = 3600;
const EMPTY = Buffer.alloc(0);

/** The jobs passing the filter, newest (highest id) first. */
export async function* scanJobs(client: Client, options: ScanOptions = {}): AsyncGenerator<ScannedJob> {
  const filter = checkFilter(options.filter ?? {});
  const limit = options.limit ?? Infinity;
  if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 1))) throw new InvalidArgumentError('limit', `the limit must be a whole number from 1, got ${limit}`);
  const batch = options.batch ?? DEFAULT_BATCH;
  const bodyFiltered = needsBody(filter);
  const fetchBodies = options.bodies !== false || bodyFiltered;

  if ((await countAllowed(client, filter)) === 0) return;
  const top = await highestId(client);
  const allowed = await countAllowed(client, filter);
  const total = top - 1;
  let scanned = 0;
  /** Jobs seen that pass the tube and state parts of the filter. */
  let found = 0;
  let matched = 0;

  // Two batches in flight: while one is answered and its bodies fetched, the next is on the wire.
  // They start small and double, so a page of 50 costs a few hundred ids, not thousands.
  let next = top - 1;
  let size = Math.min(batch, FIRST_BATCH);
  const inFlight: Promise<Answer[]>[] = [];
  const askMore = (): void => {
    while (inFlight.length < IN_FLIGHT && next >= 1) {
      inFlight.push(askBatch(client, next, size));
      next -= size;
      size = Math.min(batch, size * 2);
    }
  };
  askMore();
  try {
    while (inFlight.length > 0 && found < allowed && matched < limit && options.signal?.aborted !== true) {
      const answers = await (inFlight.shift() as Promise<Answer[]>);
      scanned += answers.length;
      const wanted: { id: number; stats: JobStats }[] = [];
      for (const answer of answers) {
        if (answer.stats === null || !statsMatch(filter, answer.stats)) continue;
        found += 1;
        wanted.push({ id: answer.id, stats: answer.stats });
      }
      // No more ids once this batch holds the rest of the limit (when the stats alone decide).
      if (found < allowed && (bodyFiltered || matched + wanted.length < limit)) askMore();
      // Bodies a chunk at a time: past the limit, none is fetched for nothing.
      for (let start = 0; start < wanted.length && matched < limit; start += PEEK_CHUNK) {
        const chunk = wanted.slice(start, start + PEEK_CHUNK);
        const bodies = fetchBodies ? await Promise.all(chunk.map(({ id }) => client.peek(id))) : null;
        for (const [index, { id, stats: jobStats }] of chunk.entries()) {
          const job = bodies === null ? null : bodies[index];
          // Deleted between its stats and its peek: it is no longer there to list.
          if (bodies !== null && (job === null || job === undefined)) continue;
          const body = job?.body ?? EMPTY;
          const parsed = fetchBodies ? parseEnvelope(body) : null;
          const envelope = parsed?.ok === true ? parsed.envelope : null;
          if (!bodyMatch(filter, body, envelope)) continue;
          matched += 1;
          yield { id, stats: jobStats, body, envelope };
          if (matched >= limit) break;
        }
      }
      options.onProgress?.({ scanned, total, found, matched });
    }
  } finally {
    // Batches asked for and not read: let them settle, so their rejections are not unhandled.
    await Promise.allSettled(inFlight);
  }
}

interface Answer {
  readonly id: number;
  readonly stats: JobStats | null;
}

/** `stats-job` for up to `size` ids from `from` down, all sent at once; a missing id answers null. */
function askBatch(client: Client, from: number, size: number): Promise<Answer[]> {
  const asks: Promise<Answer>[] = [];
  for (let id = from; id > Math.max(0, from - size); id -= 1) {
    asks.push(
      client.statsJob(id).then(
        (stats) => ({ id, stats }),
        (error: unknown) => (error instanceof NotFoundError ? { id, stats: null } : Promise.reject(error)),
      ),
    );
  }
  return Promise.all(asks);
}

/** How many jobs the server holds now that the filter's tube and state allow (type and text aside). */
export async function countAllowed(client: Client, filter: JobFilter): Promise<number> {
  let counts: Pick<TubeStats, 'currentJobsReady' | 'currentJobsReserved' | 'currentJobsDelayed' | 'currentJobsBuried'>;
  if (filter.tube === undefined) counts = await client.stats();
  else {
    const tube = await client.statsTube(filter.tube).catch((error: unknown) => (error instanceof NotFoundError ? null : Promise.reject(error)));
    if (tube === null) return 0;
    counts = tube;
  }
  switch (filter.state) {
    case 'ready':
      return counts.currentJobsReady;
    case 'reserved':
      return counts.currentJobsReserved;
    case 'delayed':
      return counts.currentJobsDelayed;
    case 'buried':
      return counts.currentJobsBuried;
    case undefined:
      return counts.currentJobsReady + counts.currentJobsReserved + counts.currentJobsDelayed + counts.currentJobsBuried;
  }
}

/** The id the next put would get: a probe job's id, the probe deleted at once. */
export async function highestId(client: Client): Promise<number> {
  // Delayed, so no worker could take it in the moment before the delete even if one watched the tube.
  const id = await client.put(EMPTY, { tube: PROBE_TUBE, delay: PROBE_DELAY_SECONDS, ttr: 1 });
  await client.delete(id);
  return id;
}

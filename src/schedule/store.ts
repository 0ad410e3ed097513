/**
 * Where the record of last ticks lives: one ready job in a tube of its own that no one reserves
 * from in passing, so it survives every scheduler (and, with a binlog, the server). A new copy is
 * put before the old one is deleted, so a crash between the two leaves two copies, never none; the
 * next leader takes them all and merges them.
 */
import type { Client } from '../client.js';
import { NotFoundError } from '../errors.js';
import { MAX_UINT32 } from '../protocol/validate.js';
import { decodeLastTicks, EMPTY, encodeLastTicks, mergeLastTicks, type LastTicks } from './record.js';

/** Copies taken in one sweep; more would mean something other than schedulers writes to the tube. */
const SWEEP_CAP = 100;
/** The copies a sweep holds are deleted within a round trip; the TTR only bounds a stall. */
const RECORD_TTR = 60;

export interface Swept {
  readonly record: LastTicks;
  /** The copies now reserved by this connection: deleted once the merged copy is written. */
  readonly held: number[];
}

/**
 * Takes every copy of the record (the connection watches only the record's tube) and merges them.
 * A job there that is not a record is buried: kept for a person to look at, out of the way.
 */
export async function sweepRecord(client: Client): Promise<Swept> {
  let record = EMPTY;
  const held: number[] = [];
  for (let taken = 0; taken < SWEEP_CAP; taken += 1) {
    const job = await client.reserveWithTimeout(0);
    if (job === null) break;
    const copy = decodeLastTicks(job.body);
    if (copy === null) {
      await client.bury(job.id);
      continue;
    }
    record = mergeLastTicks(record, copy);
    held.push(job.id);
  }
  return { record, held };
}

/**
 * Puts `record` as the new copy, then deletes `replaced` (a copy another connection holds, or one
 * already gone, is passed over). Resolves with the new copy's id. The newer copy gets the more
 * urgent priority, so `peek-ready` shows the newest one.
 */
export async function writeRecord(client: Client, record: LastTicks, replaced: readonly number[]): Promise<number> {
  const id = await client.put(encodeLastTicks(record), { priority: MAX_UINT32 - (record.seq % MAX_UINT32), ttr: RECORD_TTR });
  await Promise.all(replaced.map((old) => client.delete(old).catch(passNotFound)));
  return id;
}

/** The newest copy, as a follower sees it; null when there is none yet. */
export async function peekRecord(client: Client): Promise<LastTicks | null> {
  const job = await client.peekReady();
  return job === null ? null : decodeLastTicks(job.body);
}

function passNotFound(error: unknown): void {
  if (!(error instanceof NotFoundError)) throw error;
}

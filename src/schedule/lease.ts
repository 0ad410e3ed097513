/**
 * The lease: one job in the lock tube. The scheduler that holds it reserved leads; it touches the
 * job to keep it, and the server gives it back to ready when the holder's connection closes or the
 * lease TTR passes without a touch, so the next follower's waiting `reserve` takes it over.
 *
 * beanstalkd has no compare-and-set, so two rules keep the lease single:
 * - Creation: a scheduler that finds no lease at all puts one delayed, then peeks the soonest
 *   delayed job of the tube. Schedulers that race here each see the lowest id among them (delays
 *   are equal, so the soonest is the first put), and all but its owner delete theirs before the
 *   delay ends and any of them can be reserved.
 * - A newcomer yields: a scheduler that has just reserved a lease leads only if it is the one
 *   reserved job of the tube; otherwise it deletes the lease it took and follows. A stray second
 *   lease (its creator stalled past the delay) is so removed by whoever takes it first.
 *
 * One server bug is worked around: beanstalkd 1.12 sometimes keeps a job reserved past its TTR
 * (stats-job shows a negative time-left) while the holder's connection stays open and silent, a
 * frozen leader's for instance. The leader writes its lease's id in the record of last ticks; a
 * follower that finds every lease reserved and the recorded one stuck so treats it as gone, and
 * stuck leases do not count against a newcomer. The frozen leader, when it wakes, gives up a lease
 * it has not touched for a TTR whatever the server says (leader.ts), so it never leads again on it.
 */
import createDebug from 'debug';
import type { Client } from '../client.js';
import { NotFoundError } from '../errors.js';

const log = createDebug('beanline:scheduler:lease');

/** What every lease job's body says: anything else in the lock tube is not a lease. */
const LEASE_BODY = 'beanline-schedule-lease';
/** Seconds a new lease stays delayed while racing creators compare: the smallest delay there is. */
const CREATION_DELAY = 1;

export interface LeaseOptions {
  /** The lock tube; the lease client uses and watches only it. */
  readonly tube: string;
  /** Seconds. */
  readonly ttr: number;
  /** How long a follower waits in one `reserve` before checking that a lease exists at all. */
  readonly pollSeconds: number;
}

/** What a follower's wait ended with. */
export type Acquired = { readonly id: number } | null;

/**
 * Waits until this client holds the lease; resolves with its id, or null once `stopping()` says so
 * between two waits. `blocked` is told when a `reserve` is pending, the one moment when closing the
 * connection to stop loses nothing.
 */
export async function acquireLease(
  client: Client,
  options: LeaseOptions,
  stopping: () => boolean,
  blocked: (waiting: boolean) => void,
  recorded: () => Promise<readonly number[]> = async () => [],
): Promise<Acquired> {
  while (!stopping()) {
    blocked(true);
    const job = await client.reserveWithTimeout(options.pollSeconds).finally(() => blocked(false));
    if (job !== null) {
      if (job.body.toString('latin1') !== LEASE_BODY) {
        log('job %d in the lock tube is not a lease: buried', job.id);
        await client.bury(job.id);
      } else if (await soleHolder(client, options.tube, job.id, recorded)) {
        log('took lease %d', job.id);
        return { id: job.id };
      } else {
        log('took lease %d while another is held: deleted it', job.id);
        await client.delete(job.id).catch(passNotFound);
      }
    } else if ((await noLiveLease(client, options.tube, recorded)) && !stopping()) {
      await createLease(client, options);
    }
  }
  return null;
}

/**
 * Of `ids`, the leases reserved past their TTR: held by a connection that went silent, and not
 * taken back by the server as it should have been.
 */
export async function stuckLeases(client: Client, ids: readonly number[]): Promise<number[]> {
  const stuck: number[] = [];
  for (const id of new Set(ids)) {
    try {
      const stats = await client.statsJob(id);
      if (stats.state === 'reserved' && stats.timeLeft < 0) stuck.push(id);
    } catch (error) {
      passNotFound(error);
    }
  }
  return stuck;
}

/** Restarts the lease's TTR; NotFoundError when it is no longer ours (its TTR passed). */
export function keepLease(client: Client, id: number): Promise<void> {
  return client.touch(id);
}

/** Gives the lease back at once, ahead of every other job, for a follower to take over. */
export function releaseLease(client: Client, id: number): Promise<void> {
  return client.release(id, { priority: 0 });
}

/** True when the lease we have just reserved is the only one reserved, stuck ones aside. */
async function soleHolder(client: Client, tube: string, ours: number, recorded: () => Promise<readonly number[]>): Promise<boolean> {
  const reserved = (await client.statsTube(tube)).currentJobsReserved;
  if (reserved === 1) return true;
  const others = (await recorded()).filter((id) => id !== ours);
  return reserved - (await stuckLeases(client, others)).length === 1;
}

/** No lease at all, or only stuck ones: time to create one. */
async function noLiveLease(client: Client, tube: string, recorded: () => Promise<readonly number[]>): Promise<boolean> {
  const stats = await client.statsTube(tube);
  if (stats.currentJobsReady + stats.currentJobsDelayed > 0) return false;
  if (stats.currentJobsReserved === 0) return true;
  const stuck = await stuckLeases(client, await recorded());
  if (stuck.length > 0) log('leases %o are reserved past their TTR', stuck);
  return stats.currentJobsReserved === stuck.length;
}

/**
 * Puts a lease, and deletes it again if a racing creator's came first. The put and the peek go
 * out together, so the peek sees every lease put before ours, still delayed.
 */
export async function createLease(client: Client, options: LeaseOptions): Promise<void> {
  const [id, soonest] = await Promise.all([
    client.put(LEASE_BODY, { tube: options.tube, priority: 0, delay: CREATION_DELAY, ttr: options.ttr }),
    client.peekDelayed(),
  ]);
  const lost = soonest !== null && soonest.id < id;
  log('created lease %d; the soonest is %s: %s', id, soonest?.id, lost ? 'deleted ours' : 'kept');
  if (lost) await client.delete(id).catch(passNotFound);
}

function passNotFound(error: unknown): void {
  if (!(error instanceof NotFoundError)) throw error;
}

/**
 * beanstalkd cannot put a job buried: a copy that must end up buried (a worker's dead copy, a
 * drained buried job) is put delayed, then reserved by id and buried on the same connection.
 */
import type { Client } from './client.js';

/**
 * Seconds the copy waits, delayed, between being put and being buried. Should the burying fail
 * (the connection lost in between), the copy runs once, this long later: a duplicate, never a loss.
 */
export const PARKED_DELAY = 3600;

/** Buries `id`, a job this connection just put with PARKED_DELAY: reserve-job and bury in one write. */
export async function buryParked(client: Client, id: number, priority: number): Promise<void> {
  await Promise.all([client.reserveJob(id), client.bury(id, priority)]);
}

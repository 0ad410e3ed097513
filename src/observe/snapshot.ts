/**
 * One look at every server: its stats and the stats of each of its tubes, taken together so that
 * `top` and the dashboard draw numbers from the same moment. Rates come later, from two of these
 * (see rates.ts).
 */
import type { Client } from '../client.js';
import { NotFoundError } from '../errors.js';
import type { ServerStats, TubeStats } from '../protocol/stats.js';

export interface ServerHandle {
  readonly url: string;
  readonly client: Client;
}

export type ServerSnapshot =
  | { readonly url: string; readonly up: true; readonly stats: ServerStats; readonly tubes: TubeStats[] }
  | { readonly url: string; readonly up: false; readonly error: string };

export interface Snapshot {
  /** `Date.now()` when the snapshot was started. */
  readonly at: number;
  readonly servers: ServerSnapshot[];
}

export interface SnapshotOptions {
  /**
   * A server that has not answered after this long is shown as down, so one stuck server cannot
   * hold up the others' numbers. Its commands stay in flight on its client. Default: no limit.
   */
  timeoutMs?: number;
}

/** Asks every server at once; a server that fails is reported down with why, never thrown. */
export async function takeSnapshot(servers: readonly ServerHandle[], options: SnapshotOptions = {}): Promise<Snapshot> {
  const at = Date.now();
  const results = await Promise.all(servers.map((server) => snapshotOne(server, options.timeoutMs)));
  return { at, servers: results };
}

async function snapshotOne(server: ServerHandle, timeoutMs: number | undefined): Promise<ServerSnapshot> {
  const { url, client } = server;
  // A reconnecting client would queue the commands until it is back (or its queue times out):
  // better to say at once that the server is down and ask again next time.
  if (client.state !== 'ready') return { url, up: false, error: `not connected (${client.state})` };
  try {
    const work = ask(client);
    const { stats, tubes } = timeoutMs === undefined ? await work : await within(work, timeoutMs, url);
    return { url, up: true, stats, tubes };
  } catch (error) {
    return { url, up: false, error: error instanceof Error ? error.message : String(error) };
  }
}

async function ask(client: Client): Promise<{ stats: ServerStats; tubes: TubeStats[] }> {
  // Both issued before either is awaited: one round trip, pipelined.
  const statsReply = client.stats();
  const namesReply = client.listTubes();
  // If list-tubes fails, the stats promise must not reject unobserved.
  statsReply.catch(() => undefined);
  const names = await namesReply;
  const tubeReplies = names.map((name) => client.statsTube(name).catch(vanished));
  const [stats, tubes] = await Promise.all([statsReply, Promise.all(tubeReplies)]);
  return { stats, tubes: tubes.filter((tube): tube is TubeStats => tube !== null) };
}

/** A tube whose last job went between `list-tubes` and its `stats-tube` no longer exists: leave it out. */
function vanished(error: unknown): null {
  if (error instanceof NotFoundError) return null;
  throw error;
}

async function within<T>(work: Promise<T>, timeoutMs: number, url: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${url}: no reply within ${timeoutMs} ms`)), timeoutMs);
  });
  // The work may still fail after the deadline; that rejection has no one left to hear it.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

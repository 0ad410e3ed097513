import type { ServerStats, TubeStats } from '../protocol/stats.js';

/** One server's answer to a cluster-wide stats call: its figures, or that it is down and why. */
export type ServerAnswer<T> =
  | { readonly up: true; readonly excluded: boolean; readonly stats: T }
  | { readonly up: false; readonly excluded: boolean; readonly error: Error };

/** The numeric fields of a stats type. */
type Figures<T> = { readonly [K in keyof T as T[K] extends number ? K : never]: number };

/** Figures of one server that mean nothing added up (an id, a limit, a clock); read them in `byServer`. */
const SERVER_OWN = ['pid', 'maxJobSize', 'uptime', 'binlogOldestIndex', 'binlogCurrentIndex', 'binlogMaxSize'] as const;
const TUBE_OWN = ['pause', 'pauseTimeLeft'] as const;

/** `stats` over a cluster: each count summed over the servers that answered, and each server's own. */
export type ClusterStats = Omit<Figures<ServerStats>, (typeof SERVER_OWN)[number]> & {
  /** By URL as given. */
  readonly byServer: Readonly<Record<string, ServerAnswer<ServerStats>>>;
};

/**
 * `stats-tube` over a cluster: summed over the servers that have the tube. In `byServer`, `stats` is
 * null for a server that answered it has no such tube.
 */
export type ClusterTubeStats = Omit<Figures<TubeStats>, (typeof TUBE_OWN)[number]> & {
  readonly name: string;
  readonly byServer: Readonly<Record<string, ServerAnswer<TubeStats | null>>>;
};

export function sumServerStats(byServer: Record<string, ServerAnswer<ServerStats>>): ClusterStats {
  return { ...sum(answered(byServer), SERVER_OWN), byServer } as unknown as ClusterStats;
}

export function sumTubeStats(name: string, byServer: Record<string, ServerAnswer<TubeStats | null>>): ClusterTubeStats {
  const present = answered(byServer).filter((stats): stats is TubeStats => stats !== null);
  return { ...sum(present, TUBE_OWN), name, byServer } as unknown as ClusterTubeStats;
}

function answered<T>(byServer: Record<string, ServerAnswer<T>>): T[] {
  return Object.values(byServer).flatMap((answer) => (answer.up ? [answer.stats] : []));
}

/** Adds up every numeric field but the servers' own; other fields (names, versions) are left out. */
function sum(all: readonly object[], own: readonly string[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const stats of all) {
    for (const [field, value] of Object.entries(stats)) {
      if (typeof value === 'number' && !own.includes(field)) totals[field] = (totals[field] ?? 0) + value;
    }
  }
  return totals;
}

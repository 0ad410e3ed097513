import { readdirSync, readFileSync } from 'node:fs';

/**
 * A process's time on a CPU so far, in ns (the scheduler's own count, not sampled at ticks), or
 * null. Summed over its threads: /proc/<pid>/schedstat counts the main thread only, which is all of
 * beanstalkd but not of a Node process (its GC and libuv threads work too).
 */
export function cpuTimeNs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    let total = 0;
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'latin1').split(' ')[0]);
      } catch {
        // A thread that ended between the listing and the read: its time is lost either way.
      }
    }
    return total;
  } catch {
    return null;
  }
}

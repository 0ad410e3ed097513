import { readFileSync } from 'node:fs';

/** A process's time on a CPU so far, in ns (the scheduler's own count, not sampled at ticks), or null. */
export function cpuTimeNs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]);
  } catch {
    return null;
  }
}

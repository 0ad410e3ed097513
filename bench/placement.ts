/**
 * Where the server and the measured child run (Linux `taskset`). On 2 cores the scheduler otherwise
 * puts them on the same core or on different ones from run to run, and a request/reply round trip
 * costs very different amounts in the two cases: `same` gives the steadiest one-at-a-time numbers,
 * `split` models a server with a core of its own.
 */
import { execFileSync } from 'node:child_process';

export const PLACEMENTS = ['none', 'same', 'split'] as const;
export type Placement = (typeof PLACEMENTS)[number];

const CPUS: Record<Exclude<Placement, 'none'>, Record<'server' | 'client', string>> = {
  same: { server: '0', client: '0' },
  split: { server: '0', client: '1' },
};

export function pin(pid: number | undefined, placement: Placement, role: 'server' | 'client'): void {
  if (placement === 'none' || pid === undefined) return;
  execFileSync('taskset', ['-p', '-c', CPUS[placement][role], String(pid)], { stdio: 'ignore' });
}

export function describePlacement(placement: Placement): string {
  switch (placement) {
    case 'none':
      return 'not pinned: the scheduler places the server and the client';
    case 'same':
      return 'server and client pinned to CPU 0 (taskset)';
    case 'split':
      return 'server pinned to CPU 0, client to CPU 1 (taskset)';
  }
}

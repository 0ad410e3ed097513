import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The wait before reconnect attempt `attempt` (1 first): exponential from `minMs`, capped at
 * `maxMs`, then a random point in its upper half, so that many clients do not retry in step.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

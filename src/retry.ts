import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long to wait between attempts at something that failed (a connect, mostly): exponential from
 * `minDelayMs`, capped at `maxDelayMs`. One policy for the reconnecting client, the worker's slots
 * and the pool.
 */
export interface RetryPolicy {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The wait before attempt `attempt` (1 first): the policy's exponential ceiling, then a random point
 * in its upper half, so that many clients do not retry in step.
 */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

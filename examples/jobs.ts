/**
 * The job types shared by the producer and the worker: each says its tube, its retry policy and
 * what running it means. The argument type is checked where jobs are enqueued.
 */
import { defineJob } from '../src/index.js';

export interface Email {
  to: string;
  subject: string;
}

export const sendEmail = defineJob<Email>({
  type: 'send-email',
  tube: 'emails',
  ttr: 30,
  retry: 5,
  // Retry after 1 s, 2 s, 3 s...; the default is Faktory's schedule (15 s first, then growing fast).
  backoff: (retryCount) => retryCount,
  run: async ({ to, subject }, ctx) => {
    // Pretend the mail server turns down the first try for some addresses.
    if (to.startsWith('flaky') && ctx.attempt === 1) throw new Error(`mail server busy for ${to}`);
    // A scheduled job knows its tick: the key for doing its work once per tick.
    const tick = ctx.schedule === undefined ? '' : ` for the ${ctx.schedule.tick} tick of ${ctx.schedule.id}`;
    console.log(`send-email: job ${ctx.id} (attempt ${ctx.attempt}) -> "${subject}" to ${to}${tick}`);
  },
});

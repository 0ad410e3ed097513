/**
 * Cron expressions, read by croner and by nothing else in beanline: this file is the one place that
 * knows the library, so it could be swapped without touching the scheduler.
 *
 * croner rather than cron-parser: croner states its DST rules (Vixie cron's) and keeps to them in
 * both directions, while cron-parser moved a fixed time in the skipped hour to a different instant
 * going forward (03:30 for 02:30) than going back (not at all), which would make the ticks the
 * misfire maths counts disagree with the ticks it fires. croner also has no dependencies.
 */
import { Cron } from 'croner';
import { InvalidArgumentError } from '../errors.js';

/** The instants a cron expression names in one time zone. */
export interface CronTimes {
  readonly expression: string;
  readonly timezone: string;
  /** The first tick strictly after `after`, or null when there is none (`0 0 30 2 *`). */
  next(after: Date): Date | null;
  /** Up to `count` ticks strictly before `before`, newest first. */
  previous(before: Date, count: number): Date[];
}

// Field counts croner is asked to accept: minutes-first, or seconds-first. A seventh field (years)
// and a date string (croner's one-off jobs) are not cron expressions here.
const FIELDS = /^(\S+\s+){4}\S+(\s+\S+)?$/;
const NICKNAME = /^@(yearly|annually|monthly|weekly|daily|hourly)$/i;

/**
 * Reads `expression` (5 fields, or 6 with seconds first, or a nickname such as `@hourly`) in the IANA
 * time zone `timezone`. A bad expression or zone is an InvalidArgumentError naming `argument`.
 */
export function parseCron(expression: unknown, timezone: unknown, argument: string): CronTimes {
  if (typeof expression !== 'string' || !(FIELDS.test(expression.trim()) || NICKNAME.test(expression.trim()))) {
    throw new InvalidArgumentError(
      `${argument}.cron`,
      `${argument}.cron must be a cron expression of 5 fields, or 6 with seconds first (or @hourly, @daily...), got ${show(expression)}`,
    );
  }
  const zone = checkTimezone(timezone, `${argument}.timezone`);
  let cron: Cron;
  try {
    cron = new Cron(expression.trim(), { timezone: zone, mode: '5-or-6-parts' });
  } catch (error) {
    throw new InvalidArgumentError(`${argument}.cron`, `${argument}.cron ${JSON.stringify(expression)}: ${(error as Error).message}`);
  }
  return {
    expression,
    timezone: zone,
    next: (after) => cron.nextRun(after),
    previous: (before, count) => cron.previousRuns(count, before),
  };
}

/** An IANA zone name the runtime knows, as Intl reads it (croner asks Intl too, but only later). */
function checkTimezone(timezone: unknown, argument: string): string {
  if (typeof timezone !== 'string' || timezone === '') {
    throw new InvalidArgumentError(argument, `${argument} must be an IANA time zone name such as Europe/Berlin, got ${show(timezone)}`);
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidArgumentError(argument, `${argument} ${JSON.stringify(timezone)} is not a time zone this runtime knows (IANA names such as Europe/Berlin)`);
  }
  return timezone;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}

/**
 * Which jobs a listing or a bulk action is about. The tube and the state come from `stats-job`; the
 * type and the text need the body, so a filter says whether the scan must fetch bodies at all.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JobEnvelope } from '../jobs/envelope.js';
import type { JobState, JobStats } from '../protocol/stats.js';
import { checkTube } from '../protocol/validate.js';

export interface JobFilter {
  readonly tube?: string | undefined;
  readonly state?: JobState | undefined;
  /** The envelope's type: bodies that are not beanline jobs never match. */
  readonly type?: string | undefined;
  /** Text found in the body, or in the failure message of an envelope. Case-sensitive. */
  readonly grep?: string | undefined;
}

export const JOB_STATES: readonly JobState[] = ['ready', 'delayed', 'reserved', 'buried'];

/** The filter, checked: a bad tube name or state is an InvalidArgumentError. */
export function checkFilter(filter: JobFilter): JobFilter {
  if (filter.tube !== undefined) checkTube(filter.tube);
  if (filter.state !== undefined && !JOB_STATES.includes(filter.state)) {
    throw new InvalidArgumentError('state', `the state must be one of ${JOB_STATES.join(', ')}, got ${JSON.stringify(filter.state)}`);
  }
  if (filter.type === '') throw new InvalidArgumentError('type', 'the type must not be empty');
  if (filter.grep === '') throw new InvalidArgumentError('grep', 'the text to find must not be empty');
  return filter;
}

/** Whether the job's stats pass the tube and state parts of the filter. */
export function statsMatch(filter: JobFilter, stats: JobStats): boolean {
  return (filter.tube === undefined || stats.tube === filter.tube) && (filter.state === undefined || stats.state === filter.state);
}

/** Whether the filter looks inside bodies. */
export function needsBody(filter: JobFilter): boolean {
  return filter.type !== undefined || filter.grep !== undefined;
}

/** Whether the body (and its envelope, when it is one) passes the type and text parts of the filter. */
export function bodyMatch(filter: JobFilter, body: Buffer, envelope: JobEnvelope | null): boolean {
  if (filter.type !== undefined && envelope?.type !== filter.type) return false;
  if (filter.grep === undefined) return true;
  if (body.includes(filter.grep)) return true;
  const message = envelope?.failure?.message;
  // The envelope holds the message JSON-escaped, so a message with quotes or newlines needs this look.
  return typeof message === 'string' && message.includes(filter.grep);
}

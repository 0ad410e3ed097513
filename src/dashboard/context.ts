/** What every route is handed: the request, its parsed URL, and the dashboard's parts. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http.js';
import type { Live } from './live.js';
import type { ResolvedDashboardOptions } from './options.js';
import type { Servers } from './servers.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The path inside the dashboard (`/api/job`), and the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The JSON body of a POST (empty for a GET). */
  readonly body: Record<string, unknown>;
  readonly servers: Servers;
  readonly live: Live;
  readonly options: ResolvedDashboardOptions;
}

export type Route = (context: RouteContext) => Promise<void>;

/** A whole number from `min` to `max`, from a query or a JSON field; 400 otherwise. */
export function wholeNumber(what: string, value: unknown, min: number, max: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new HttpError(400, `${what} must be a whole number from ${min} to ${max}`);
  }
  return number;
}

/** A non-empty string of at most `max` characters; 400 otherwise. */
export function text(what: string, value: unknown, max = 200): string {
  if (typeof value !== 'string' || value === '' || value.length > max) throw new HttpError(400, `${what} must be a string of 1 to ${max} characters`);
  return value;
}

/** `text` when given (not undefined, null or ''), else undefined. */
export function optionalText(what: string, value: unknown, max = 200): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : text(what, value, max);
}

/**
 * Aborted when the browser goes away before the reply is sent (the operator left the page): a long
 * scan then stops between batches instead of running on for no one.
 */
export function abandoned(context: RouteContext): AbortSignal {
  const controller = new AbortController();
  context.res.once('close', () => {
    if (!context.res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Listing jobs through the CLI's scan: a tube's jobs by state, type and text, a page at a time;
 * the delayed jobs, soonest first, with the recurring schedules. Servers are scanned in their fixed
 * order.
 */
import type { JobState } from '../../protocol/stats.js';
import { checkFilter, type JobFilter } from '../../observe/filter.js';
import { scanJobs } from '../../observe/scan.js';
import { abandoned, optionalText, wholeNumber, type Route, type RouteContext } from '../context.js';
import { sendJson } from '../http.js';
import { jobRow, type JobRow } from './describe.js';
import { readSchedules } from './schedules.js';

const PAGE_SIZE = 50;
const MAX_PAGE = 200;
const SCHEDULED_LIMIT = 500;

/** The filter a query names; each part is optional. A bad tube or state is a 400 (InvalidArgumentError). */
export function filterFrom(source: (key: string) => unknown): JobFilter {
  return checkFilter({
    tube: optionalText('tube', source('tube')),
    state: optionalText('state', source('state'), 20) as JobState | undefined,
    type: optionalText('type', source('type')),
    grep: optionalText('text', source('grep')),
  });
}

/** Up to `limit` matching jobs, server after server, newest first on each. */
async function collect(context: RouteContext, filter: JobFilter, limit: number): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  const signal = abandoned(context);
  for (const handle of await context.servers.handles()) {
    if (rows.length >= limit) break;
    for await (const job of scanJobs(handle.client, { filter, limit: limit - rows.length, signal })) {
      rows.push(jobRow(handle.index, job.id, job.stats, job.body));
    }
  }
  return rows;
}

export const jobs: Route = async (context) => {
  const filter = filterFrom((key) => context.query.get(key) ?? undefined);
  const page = wholeNumber('page', context.query.get('page') ?? '0', 0, MAX_PAGE);
  // One more than the page holds, to know whether there is a next page.
  const rows = await collect(context, filter, (page + 1) * PAGE_SIZE + 1);
  const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  sendJson(context.res, 200, { page, jobs: shown, more: rows.length > (page + 1) * PAGE_SIZE });
};

export const scheduled: Route = async (context) => {
  const filter = { ...filterFrom((key) => context.query.get(key) ?? undefined), state: 'delayed' as const };
  const rows = await collect(context, filter, SCHEDULED_LIMIT + 1);
  const shown = rows.slice(0, SCHEDULED_LIMIT).sort((a, b) => a.timeLeft - b.timeLeft);
  const handles = await context.servers.handles();
  const schedules = (await Promise.all(handles.map((handle) => readSchedules(handle.url, handle.client)))).flat();
  sendJson(context.res, 200, { jobs: shown, more: rows.length > SCHEDULED_LIMIT, schedules });
};

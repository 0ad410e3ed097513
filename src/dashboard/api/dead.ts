/**
 * Dead (buried) jobs grouped by type and error message, and retry (kick) or delete of a group or a
 * filter: always a dry-run count first, then the action through the CLI's bulk machinery, which
 * checks each job again just before acting on it.
 */
import type { Client } from '../../client.js';
import { bulkAction, type BulkResult } from '../../observe/bulk.js';
import type { JobFilter } from '../../observe/filter.js';
import { scanJobs, type ScannedJob } from '../../observe/scan.js';
import { abandoned, type Route, type RouteContext } from '../context.js';
import { HttpError, sendJson } from '../http.js';
import { summary } from './describe.js';
import { filterFrom } from './jobs.js';

/** Dead jobs looked at for the groups at most; the page says when there are more. */
const GROUP_SCAN_LIMIT = 10_000;
const SAMPLES = 5;

interface Group {
  type: string | null;
  error: string | null;
  count: number;
  tubes: string[];
  samples: Array<{ server: number; id: number }>;
}

export const dead: Route = async (context) => {
  const filter: JobFilter = { ...filterFrom((key) => context.query.get(key) ?? undefined), state: 'buried' };
  const groups = new Map<string, Group>();
  let total = 0;
  const signal = abandoned(context);
  for (const handle of await context.servers.handles()) {
    for await (const job of scanJobs(handle.client, { filter, limit: GROUP_SCAN_LIMIT + 1 - total, signal })) {
      total += 1;
      const { type, error } = summary(job.body);
      const key = JSON.stringify([type, error]);
      const group = groups.get(key) ?? { type, error, count: 0, tubes: [], samples: [] };
      groups.set(key, group);
      group.count += 1;
      if (!group.tubes.includes(job.stats.tube)) group.tubes.push(job.stats.tube);
      if (group.samples.length < SAMPLES) group.samples.push({ server: handle.index, id: job.id });
    }
    if (total > GROUP_SCAN_LIMIT) break;
  }
  const sorted = [...groups.values()].sort((a, b) => b.count - a.count || order(a.type, b.type) || order(a.error, b.error));
  sendJson(context.res, 200, { groups: sorted, total: Math.min(total, GROUP_SCAN_LIMIT), more: total > GROUP_SCAN_LIMIT });
};

/** Most jobs first, then by name (null, not a beanline job or no error, last), so the order is stable. */
function order(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * What a bulk request is about: a filter (tube, type, text), and optionally one group, given by its
 * `type` and `error` keys (null meaning "not a beanline job" and "no failure message").
 */
function selection(body: Record<string, unknown>): { filter: JobFilter; group: ((job: ScannedJob) => boolean) | null } {
  const isGroup = Object.hasOwn(body, 'group') && body['group'] === true;
  const filter: JobFilter = {
    ...filterFrom((key) => (isGroup && key === 'type' ? undefined : body[key])),
    state: 'buried',
  };
  if (!isGroup) return { filter, group: null };
  const type = body['type'];
  const error = body['error'];
  if (!(type === null || typeof type === 'string') || !(error === null || typeof error === 'string')) {
    throw new HttpError(400, 'a group is named by its type and error, each a string or null');
  }
  const narrowed = typeof type === 'string' && type !== '' ? { ...filter, type } : filter;
  return {
    filter: narrowed,
    group: (job) => {
      const seen = summary(job.body);
      return seen.type === type && seen.error === error;
    },
  };
}

async function* matching(client: Client, filter: JobFilter, group: ((job: ScannedJob) => boolean) | null): AsyncGenerator<ScannedJob> {
  for await (const job of scanJobs(client, { filter })) if (group === null || group(job)) yield job;
}

function bulk(kind: 'kick' | 'delete'): Route {
  return async (context: RouteContext) => {
    const dryRun = context.body['dryRun'];
    if (typeof dryRun !== 'boolean') throw new HttpError(400, 'dryRun must be true or false');
    const { filter, group } = selection(context.body);
    let matched = 0;
    let result: BulkResult = { done: 0, skipped: 0 };
    for (const handle of await context.servers.handles()) {
      if (dryRun) {
        for await (const _job of matching(handle.client, filter, group)) matched += 1;
      } else {
        const one = await bulkAction(handle.client, { kind }, matching(handle.client, filter, group), { filter });
        result = { done: result.done + one.done, skipped: result.skipped + one.skipped };
      }
    }
    sendJson(context.res, 200, dryRun ? { dryRun: true, matched } : { dryRun: false, ...result });
  };
}

export const retryDead = bulk('kick');
export const deleteDead = bulk('delete');

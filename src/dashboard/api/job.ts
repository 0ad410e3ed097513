/** One job, by server number and id: its stats and body, the whole body as a download, and its actions. */
import type { Client } from '../../client.js';
import { checkTube } from '../../protocol/validate.js';
import { text, wholeNumber, type RouteContext, type Route } from '../context.js';
import { HttpError, send, sendJson } from '../http.js';
import { bodyJson } from './describe.js';

const MAX_ID = 2 ** 63;

async function target(context: RouteContext, source: { server?: unknown; id?: unknown }): Promise<{ client: Client; index: number; id: number }> {
  const index = wholeNumber('server', source.server ?? '0', 0, 1_000);
  const id = wholeNumber('id', source.id, 1, Math.min(MAX_ID, Number.MAX_SAFE_INTEGER));
  return { client: await context.servers.client(index), index, id };
}

function fromQuery(context: RouteContext): { server?: unknown; id?: unknown } {
  return { server: context.query.get('server') ?? undefined, id: context.query.get('id') ?? undefined };
}

async function peekOr404(client: Client, id: number): Promise<Buffer> {
  const job = await client.peek(id);
  if (job === null) throw new HttpError(404, `job ${id} not found`);
  return job.body;
}

export const job: Route = async (context) => {
  const { client, index, id } = await target(context, fromQuery(context));
  // Both asked at once: one round trip.
  const stats = client.statsJob(id);
  const body = peekOr404(client, id);
  stats.catch(() => undefined);
  const [jobStats, jobBody] = await Promise.all([stats, body]);
  sendJson(context.res, 200, { server: index, url: context.servers.urls[index], id, stats: jobStats, body: bodyJson(jobBody) });
};

export const download: Route = async (context) => {
  const { client, id } = await target(context, fromQuery(context));
  const body = await peekOr404(client, id);
  send(context.res, 200, body, {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename="job-${id}.bin"`,
    'Cache-Control': 'no-store',
  });
};

export const deleteJob: Route = async (context) => {
  const { client, id } = await target(context, context.body);
  await client.delete(id);
  sendJson(context.res, 200, { deleted: id });
};

export const kickJob: Route = async (context) => {
  const { client, id } = await target(context, context.body);
  await client.kickJob(id);
  sendJson(context.res, 200, { kicked: id });
};

/** bury needs the job reserved by this connection: reserve-job takes it whatever its state, then bury. */
export const buryJob: Route = async (context) => {
  const { client, id } = await target(context, context.body);
  const stats = await client.statsJob(id);
  if (stats.state === 'reserved') throw new HttpError(409, `job ${id} is reserved by a worker; it can be buried once it is back`);
  if (stats.state === 'buried') throw new HttpError(409, `job ${id} is already buried`);
  await client.reserveJob(id);
  await client.bury(id, stats.pri);
  sendJson(context.res, 200, { buried: id });
};

/** A tube name from a query or JSON field, checked as the server would. */
export function tubeName(value: unknown): string {
  const name = text('tube', value, 200);
  try {
    checkTube(name);
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
  return name;
}

/** One tube on every server that has it: its stats, the next ready, delayed and buried job, pause and kick. */
import type { Client } from '../../client.js';
import { NotFoundError } from '../../errors.js';
import type { Job } from '../../protocol/commands.js';
import type { TubeStats } from '../../protocol/stats.js';
import { wholeNumber, type Route } from '../context.js';
import { HttpError, sendJson } from '../http.js';
import { summary } from './describe.js';
import { tubeName } from './job.js';

interface NextJob {
  readonly id: number;
  readonly summary: string;
}

function brief(job: Job | null): NextJob | null {
  return job === null ? null : { id: job.id, summary: summary(job.body).text };
}

/** The tube's stats, or null where the server has no such tube. */
function statsOrNull(client: Client, tube: string): Promise<TubeStats | null> {
  return client.statsTube(tube).catch((error: unknown) => {
    if (error instanceof NotFoundError) return null;
    throw error;
  });
}

/**
 * `use`, the three peeks and the `use` back are issued together, with nothing between them on the connection
 * (JavaScript runs them in one go), so another request's `use` cannot slip in.
 */
async function look(client: Client, tube: string): Promise<{ stats: TubeStats | null; next: Record<'ready' | 'delayed' | 'buried', NextJob | null> }> {
  const stats = statsOrNull(client, tube);
  const used = client.use(tube);
  const ready = client.peekReady();
  const delayed = client.peekDelayed();
  const buried = client.peekBuried();
  // Back to default: a connection using a tube keeps it in existence.
  const back = client.use('default');
  const all = Promise.all([stats, used, ready, delayed, buried, back]);
  const [tubeStats, , r, d, b] = await all;
  return { stats: tubeStats, next: { ready: brief(r), delayed: brief(d), buried: brief(b) } };
}

export const tube: Route = async (context) => {
  const name = tubeName(context.query.get('name') ?? undefined);
  const handles = await context.servers.handles();
  const servers = await Promise.all(handles.map(async (handle) => ({ server: handle.index, url: handle.url, ...(await look(handle.client, name)) })));
  const present = servers.filter((server) => server.stats !== null);
  if (present.length === 0) throw new HttpError(404, `tube ${name} not found`);
  sendJson(context.res, 200, { name, servers: present });
};

/** Pauses (or, with 0 seconds, resumes) the tube on every server that has it. */
export const pause: Route = async (context) => {
  const name = tubeName(context.body['tube']);
  const seconds = wholeNumber('seconds', context.body['seconds'], 0, 2 ** 32 - 1);
  const handles = await context.servers.handles();
  const done = await Promise.all(
    handles.map((handle) =>
      handle.client.pauseTube(name, seconds).then(
        () => true,
        (error: unknown) => (error instanceof NotFoundError ? false : Promise.reject(error)),
      ),
    ),
  );
  if (!done.includes(true)) throw new HttpError(404, `tube ${name} not found`);
  sendJson(context.res, 200, { tube: name, seconds, servers: done.filter(Boolean).length });
};

/** Kicks up to `count` jobs of the tube (buried ones, or delayed ones when none is buried), server after server. */
export const kick: Route = async (context) => {
  const name = tubeName(context.body['tube']);
  const count = wholeNumber('count', context.body['count'], 1, 1_000_000);
  let kicked = 0;
  for (const handle of await context.servers.handles()) {
    if (kicked >= count) break;
    if ((await statsOrNull(handle.client, name)) === null) continue;
    // Issued together, so no other `use` comes between them.
    const used = handle.client.use(name);
    const done = handle.client.kick(count - kicked);
    const back = handle.client.use('default');
    await Promise.all([used, back]);
    kicked += await done;
  }
  sendJson(context.res, 200, { tube: name, kicked });
};

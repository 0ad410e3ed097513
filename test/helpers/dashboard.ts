/**
 * For the dashboard's tests and screenshots: a dashboard served on a free port of 127.0.0.1 and
 * closed when the test ends, and jobs in the shapes the pages draw (beanline envelopes, failed and
 * buried ones).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { TestContext } from 'node:test';
import type { Client } from '../../src/index.js';
import { createDashboard, type Dashboard, type DashboardOptions } from '../../src/dashboard/index.js';
import { encodeEnvelope, type JobEnvelope, type JobFailure } from '../../src/jobs/envelope.js';
import { listenLocally } from './server.js';

export interface Served {
  /** The dashboard's root, ending in a slash: http://127.0.0.1:<port><base>/ */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly dashboard: Dashboard;
  stop(): Promise<void>;
}

/** A dashboard behind node:http on 127.0.0.1; `t` stops it when the test ends. */
export async function serveDashboard(t: TestContext | null, options: DashboardOptions): Promise<Served> {
  const dashboard = createDashboard(options);
  const server = http.createServer(dashboard);
  const port = await listenLocally(server);
  const origin = `http://127.0.0.1:${port}`;
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  const stop = async (): Promise<void> => {
    dashboard.close();
    if (!server.listening) return;
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  };
  t?.after(stop);
  return { url: `${origin}${base}/`, origin, port, dashboard, stop };
}

/** A beanline job envelope of `type`, with `failure` when given. */
export function envelope(tube: string, type: string, args: unknown, failure?: Partial<JobFailure>): JobEnvelope {
  const now = new Date().toISOString();
  return {
    jid: `jid-${Math.random().toString(36).slice(2, 10)}`,
    type,
    args,
    tube,
    createdAt: now,
    enqueuedAt: now,
    retry: 3,
    priority: 1024,
    ttr: 60,
    custom: {},
    ...(failure === undefined
      ? {}
      : { failure: { retryCount: 3, failedAt: now, message: 'failed', errorType: 'Error', backtrace: ['at run (worker.js:1:1)'], ...failure } }),
  };
}

/** Puts `body` into `tube` and buries it (reserve-job, then bury): a dead job. Resolves with its id. */
export async function buried(client: Client, tube: string, body: string | Buffer): Promise<number> {
  const id = await client.put(body, { tube });
  await client.reserveJob(id);
  await client.bury(id);
  return id;
}

/** A dead beanline job of `type` that failed with `message`. */
export function deadJob(client: Client, tube: string, type: string, message: string, args: unknown = {}): Promise<number> {
  return buried(client, tube, encodeEnvelope(envelope(tube, type, args, { message })));
}

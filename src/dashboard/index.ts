/**
 * `beanline/dashboard`: a web page to see and steer the queues. `createDashboard(options)` returns
 * a Node `(req, res)` handler that mounts in node:http, Express, Fastify or Koa, under any path;
 * `beanline dashboard` serves it on its own. Its own entry point: `import 'beanline'` never loads it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiRoutes, changeRoutes } from './api/routes.js';
import { loadAssets } from './assets.js';
import type { RouteContext } from './context.js';
import { HttpError, readJson, send, sendError } from './http.js';
import { Live } from './live.js';
import { resolveDashboardOptions, type DashboardOptions } from './options.js';
import { checkAuth, checkChange, checkHost, checkRead, newPageToken } from './security.js';
import { Servers } from './servers.js';

export type { DashboardAuth, DashboardOptions } from './options.js';
export { isLoopback } from './options.js';

/** A Node request handler, with `close()` to stop its live updates and its connections. */
export interface Dashboard {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Ends every open live stream and closes the connections to the servers. */
  close(): void;
}

/** The pages: each is the same shell, which draws the page its path names. */
const PAGES = new Set(['/', '/tube', '/job', '/dead', '/scheduled']);

export function createDashboard(options: DashboardOptions = {}): Dashboard {
  const resolved = resolveDashboardOptions(options);
  const servers = new Servers(resolved.servers);
  const live = new Live(servers);
  const assets = loadAssets();
  const pageToken = newPageToken();
  const shell = (assets.get('index.html')?.body.toString('utf8') ?? '')
    .replace('{{token}}', pageToken)
    .replace('{{readOnly}}', resolved.readOnly ? 'true' : 'false');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkAuth(req, resolved.auth);
    checkHost(req, resolved.auth, resolved.allowedHosts);
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const path = innerPath(url.pathname, resolved.basePath);
    if (path === null) throw new HttpError(404, 'not found');
    const redirect = slashRedirect(req, url, path);
    if (redirect !== null) {
      send(res, 308, '', { Location: redirect });
      return;
    }
    const method = req.method ?? 'GET';
    if (method === 'POST') {
      const route = changeRoutes.get(path);
      if (route === undefined) throw new HttpError(404, 'not found');
      if (resolved.readOnly) throw new HttpError(403, 'refused: the dashboard is read-only');
      checkChange(req, pageToken, resolved.allowedOrigins);
      const body = await readJson(req);
      await route(context(req, res, path, url, body));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD, POST' });
    if (PAGES.has(path)) {
      send(res, 200, shell, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      return;
    }
    if (path.startsWith('/assets/')) {
      const asset = assets.get(path.slice('/assets/'.length));
      if (asset === undefined || path.endsWith('.html')) throw new HttpError(404, 'not found');
      if (req.headers['if-none-match'] === asset.etag) {
        send(res, 304, '', { ETag: asset.etag });
        return;
      }
      send(res, 200, asset.body, { 'Content-Type': asset.type, ETag: asset.etag, 'Cache-Control': 'no-cache' });
      return;
    }
    const route = apiRoutes.get(path);
    if (route === undefined) throw new HttpError(404, 'not found');
    checkRead(req);
    await route(context(req, res, path, url, {}));
  }

  function context(req: IncomingMessage, res: ServerResponse, path: string, url: URL, body: Record<string, unknown>): RouteContext {
    return { req, res, path, query: url.searchParams, body, servers, live, options: resolved };
  }

  const dashboard = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // An error from a server (not found, a bad argument it refused) is shown as what it is;
      // anything else is the dashboard's own fault.
      sendError(res, error instanceof HttpError ? error : serverError(error));
      // A refused request's body is not read: drain it so the connection can be reused.
      req.resume();
    });
  }) as Dashboard;
  dashboard.close = () => {
    live.close();
    servers.close();
  };
  return dashboard;
}

/** The path inside the dashboard, or null when the request is outside its base path. */
function innerPath(pathname: string, basePath: string): string | null {
  if (basePath === '') return pathname;
  if (pathname === basePath) return '';
  if (pathname.startsWith(`${basePath}/`)) return pathname.slice(basePath.length);
  return null;
}

/**
 * The pages link relatively (so that they work under any mount and behind any proxy), which needs
 * the dashboard's root to end in a slash: `/queues` is sent to `/queues/`. Express strips its
 * mount path from `req.url` and keeps the full one in `req.originalUrl`.
 */
function slashRedirect(req: IncomingMessage, url: URL, path: string): string | null {
  const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
  const seen = typeof original === 'string' ? new URL(original, 'http://dashboard.invalid').pathname : url.pathname;
  if (path !== '' && !(path === '/' && !seen.endsWith('/'))) return null;
  // `//host` would send the browser to another site.
  if (seen.startsWith('//')) return null;
  return `${seen}/${url.search}`;
}

function serverError(error: unknown): HttpError {
  if (error instanceof Error && error.name === 'NotFoundError') return new HttpError(404, error.message);
  if (error instanceof Error && error.name === 'InvalidArgumentError') return new HttpError(400, error.message);
  return new HttpError(502, error instanceof Error ? error.message : String(error));
}

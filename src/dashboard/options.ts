/**
 * What a dashboard is given, checked once when it is created: the fixed set of servers, who may
 * see it, and whether it may change anything.
 */
import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_HOST, DEFAULT_PORT, parseUrl, splitUrlList } from '../options.js';

/** Who may open the dashboard: a bearer token, or a user name and password (HTTP Basic). */
export type DashboardAuth = { readonly token: string } | { readonly user: string; readonly password: string };

export interface DashboardOptions {
  /**
   * The beanstalkd servers, `beanstalk://host:port`. Fixed here: nothing a page sends can make the
   * dashboard connect anywhere else. Default: $BEANSTALKD_URL (comma-separated), else 127.0.0.1:11300.
   */
  servers?: readonly string[];
  /**
   * The path the dashboard is reached under when the framework hands the handler the full URL
   * (node:http, Fastify): `/queues`. Express and Koa's mount strip the prefix themselves, and the
   * pages link relatively, so behind a proxy or a mount this is all that is needed.
   */
  basePath?: string;
  /** Show no action and refuse every change. Default false. */
  readOnly?: boolean;
  /** Ask for credentials on every request. Default none (only for a dashboard on 127.0.0.1). */
  auth?: DashboardAuth;
  /**
   * Origins besides the request's own host that may send changes (a proxy that rewrites Host).
   * Full origins, such as `https://ops.example.com`.
   */
  allowedOrigins?: readonly string[];
  /**
   * Without `auth`, a request must name this machine in its Host header (localhost, 127.0.0.1, ::1)
   * or one of these names: a page of another site that points its own name at 127.0.0.1 (DNS
   * rebinding) is then refused, as its requests carry that name. List the names the dashboard is
   * reached under when an app of yours guards it with its own login, such as `queues.internal`.
   */
  allowedHosts?: readonly string[];
}

export interface ResolvedDashboardOptions {
  readonly servers: readonly string[];
  readonly basePath: string;
  readonly readOnly: boolean;
  readonly auth: DashboardAuth | null;
  readonly allowedOrigins: readonly string[];
  readonly allowedHosts: readonly string[];
}

export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  const servers = [...new Set(options.servers ?? defaultServers())];
  if (servers.length === 0) throw new InvalidArgumentError('servers', 'createDashboard: servers must name at least one server');
  for (const url of servers) parseUrl(url);
  const auth = options.auth ?? null;
  if (auth !== null) {
    if ('token' in auth && auth.token.length < 8) throw new InvalidArgumentError('auth', 'createDashboard: an auth token must be at least 8 characters');
    if ('user' in auth && (auth.user === '' || auth.user.includes(':') || auth.password === '')) {
      throw new InvalidArgumentError('auth', 'createDashboard: basic auth needs a user name without ":" and a password');
    }
  }
  return {
    servers,
    basePath: normalBasePath(options.basePath ?? ''),
    readOnly: options.readOnly === true,
    auth,
    allowedOrigins: (options.allowedOrigins ?? []).map(originOf),
    allowedHosts: (options.allowedHosts ?? []).map(hostName),
  };
}

/** `https://ops.example.com` from itself or with a path; anything that is not an http(s) URL is refused. */
function originOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('allowedOrigins', `createDashboard: allowed origin ${JSON.stringify(text)} is not a URL like https://ops.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('allowedOrigins', `createDashboard: allowed origin ${JSON.stringify(text)} is not http or https`);
  return url.origin;
}

/** `queues.internal` from itself, with a port, or in any case; anything else is refused. */
function hostName(text: string): string {
  const name = text.trim().toLowerCase().replace(/:\d+$/, '');
  if (!/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/.test(name)) throw new InvalidArgumentError('allowedHosts', `createDashboard: allowed host ${JSON.stringify(text)} is not a host name like queues.internal`);
  return name;
}

function defaultServers(): string[] {
  const listed = splitUrlList(process.env['BEANSTALKD_URL'] ?? '');
  return listed.length > 0 ? listed : [`beanstalk://${DEFAULT_HOST}:${DEFAULT_PORT}`];
}

/** `/queues` from `queues`, `/queues/` or `/queues`; '' for the root. */
function normalBasePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  if (!/^[A-Za-z0-9._~\-/]+$/.test(trimmed)) throw new InvalidArgumentError('basePath', `createDashboard: basePath ${JSON.stringify(path)} has characters a path segment cannot`);
  return `/${trimmed}`;
}

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

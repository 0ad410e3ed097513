import { InvalidArgumentError } from '../errors.js';
import { parseUrl, resolveOptions, serverList, type ConnectOptions } from '../options.js';
import type { RetryPolicy } from '../retry.js';

/**
 * Each server's client fails a command whose reply has not begun within this long, unless the caller
 * sets `commandTimeoutMs`: a server that stops answering without closing its sockets (a stopped or
 * hung process, a network that drops packets) is otherwise never noticed, and puts would wait on it.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** An idle server is asked something this often, so that a stop is noticed even without traffic. */
export const DEFAULT_HEALTH_CHECK_MS = 1000;
/** Waits between attempts at a server that is down: as a reconnecting Client's. */
export const DEFAULT_CLUSTER_RETRY: RetryPolicy = { minDelayMs: 100, maxDelayMs: 5000 };

/**
 * Connect options applied to every server (TLS, timeouts...), plus the cluster's own. Not
 * `reconnect`: the cluster reconnects each server itself, because a client that queued puts while
 * reconnecting would hold them back from the servers that are up.
 */
export interface ClusterOptions extends Omit<ConnectOptions, 'host' | 'port' | 'reconnect'> {
  /**
   * As a Client's, but by default 2,000 ms, since a cluster must notice a server that stops
   * answering: a command that times out marks its server down. 0 turns that off.
   */
  commandTimeoutMs?: number;
  /** `beanstalk://host:port` URLs, as an array or comma-separated. Default: `$BEANSTALKD_URL`. */
  servers?: string | readonly string[];
  /** The waits between attempts at a server that is down. Default 100 ms doubling to 5,000 ms, with jitter. */
  retry?: RetryPolicy;
  /**
   * How often a server with no command in flight is sent a cheap command (`list-tube-used`), so that
   * one that stops answering is marked down even when nothing is put. Default 1,000; 0 turns it off.
   */
  healthCheckMs?: number;
}

export interface ResolvedCluster {
  readonly urls: readonly string[];
  /** What each server's client is opened with, by URL. */
  readonly connect: ReadonlyMap<string, ConnectOptions>;
  readonly retry: RetryPolicy;
  readonly healthCheckMs: number;
  /** The bound on a new connection's first reply (its health probe). */
  readonly probeMs: number;
  /** The shared options, to open a server added later. */
  readonly shared: SharedConnect;
}

type SharedConnect = Omit<ClusterOptions, 'servers' | 'retry' | 'healthCheckMs'>;

/** Reads what `Cluster.connect` was given; every argument is checked here, before any connection. */
export function resolveCluster(target?: string | readonly string[] | ClusterOptions): ResolvedCluster {
  const options: ClusterOptions = typeof target === 'string' || Array.isArray(target) ? { servers: target } : ((target ?? {}) as ClusterOptions);
  const { servers, retry, healthCheckMs, ...shared } = options;
  const urls = clusterUrls(servers);
  const connect = new Map(urls.map((url) => [url, serverOptions(url, shared)] as const));
  const first = resolveOptions(connect.get(urls[0] as string));
  return {
    urls,
    connect,
    retry: checkRetry(retry ?? DEFAULT_CLUSTER_RETRY),
    healthCheckMs: nonNegative(healthCheckMs ?? DEFAULT_HEALTH_CHECK_MS, 'healthCheckMs'),
    probeMs: first.commandTimeoutMs > 0 ? first.commandTimeoutMs : first.connectTimeoutMs > 0 ? first.connectTimeoutMs : 10_000,
    shared,
  };
}

/** The servers named: a list, one URL, or (given nothing) `$BEANSTALKD_URL`. */
function clusterUrls(servers: string | readonly string[] | undefined): string[] {
  if (servers === undefined) {
    const fromEnv = process.env['BEANSTALKD_URL'];
    if (fromEnv === undefined || fromEnv.trim() === '') {
      throw new InvalidArgumentError('servers', 'no servers given, and $BEANSTALKD_URL is not set');
    }
    return serverList(fromEnv) ?? [checkedUrl(fromEnv.trim())];
  }
  if (typeof servers !== 'string' && !Array.isArray(servers)) {
    throw new InvalidArgumentError('servers', 'servers must be a list of beanstalk:// URLs, or one comma-separated string');
  }
  for (const url of typeof servers === 'string' ? [servers] : servers) {
    if (typeof url !== 'string') throw new InvalidArgumentError('servers', `a server URL must be a string, got ${typeof url}`);
  }
  return serverList(servers) ?? [checkedUrl(servers as string)];
}

function checkedUrl(url: string): string {
  parseUrl(url);
  return url;
}

/**
 * One server's client options: the shared ones, the host and port of its URL, a command timeout
 * unless the caller set one, and no reconnect (the cluster retries the server itself).
 */
export function serverOptions(url: string, shared: SharedConnect): ConnectOptions {
  const fromUrl = parseUrl(url);
  // A beanstalks:// URL asks for TLS; the shared `tls` options (a CA, say) apply to it too.
  const tls = fromUrl.tls === true ? (typeof shared.tls === 'object' ? shared.tls : true) : shared.tls;
  const options: ConnectOptions = {
    ...shared,
    host: fromUrl.host,
    port: fromUrl.port,
    tls,
    commandTimeoutMs: shared.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    reconnect: false,
  };
  resolveOptions(options);
  return options;
}

function checkRetry(policy: RetryPolicy): RetryPolicy {
  if (typeof policy !== 'object' || policy === null) {
    throw new InvalidArgumentError('retry', 'retry must be { minDelayMs, maxDelayMs }');
  }
  const minDelayMs = nonNegative(policy.minDelayMs, 'retry.minDelayMs');
  const maxDelayMs = nonNegative(policy.maxDelayMs, 'retry.maxDelayMs');
  if (maxDelayMs < minDelayMs) {
    throw new InvalidArgumentError('retry.maxDelayMs', `retry.maxDelayMs (${maxDelayMs}) is below retry.minDelayMs (${minDelayMs})`);
  }
  return { minDelayMs, maxDelayMs };
}

function nonNegative(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(argument, `${argument} must be a finite number of 0 or more, got ${String(value)}`);
  }
  return value;
}

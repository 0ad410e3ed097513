import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { InvalidArgumentError } from './errors.js';
import type { RetryPolicy } from './retry.js';

export const DEFAULT_PORT = 11300;
export const DEFAULT_HOST = '127.0.0.1';

export interface ConnectOptions {
  /** Default: from `$BEANSTALKD_URL`, else 127.0.0.1. */
  host?: string;
  /** Default: from `$BEANSTALKD_URL`, else 11300. */
  port?: number;
  /** `true` for TLS with the system's CAs (certificates are verified), or Node's TLS options. */
  tls?: boolean | TlsOptions;
  /** Give up opening the connection after this long. Default 10,000; 0 waits as long as the OS does. */
  connectTimeoutMs?: number;
  /**
   * Fail a command whose reply has not started after this long, and close the connection (replies
   * come in order, so a lost one makes every later one unusable). Never applied to `reserve`;
   * `reserveWithTimeout` gets its own seconds on top. Default 0: no limit.
   */
  commandTimeoutMs?: number;
  /**
   * The server's max-job-size, if known. Otherwise it is read once from `stats` before the first
   * `put`, so that an oversized body is refused before it is sent.
   */
  maxJobSize?: number;
  /** Largest reply data block accepted (jobs, stats, tube lists). Default 64 MiB, or max-job-size if larger. */
  maxReplyBytes?: number;
  /**
   * Reconnect after the connection is lost, restoring the tube in use and the watch list before
   * any queued command. `true` for the defaults below; default `false` (commands then fail at once).
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * With 256 or more replies due (a deep pipeline of puts, say), leave the socket unread for about
   * a millisecond at a time so that one read takes many replies, instead of waking for each one.
   * It cuts the client's CPU per command by about half and spares the server a wake-up per reply;
   * a reply can reach its promise up to about a millisecond later. The connection measures both
   * ways and reads freely where that is clearly faster. Plain TCP only. Default true.
   */
  coalesceReads?: boolean;
}

export interface ReconnectOptions {
  /** First wait; each failed attempt doubles it (with jitter). Default 100. */
  minDelayMs?: number;
  /** Longest wait between attempts. Default 5,000. */
  maxDelayMs?: number;
  /** Attempts in a row before giving up and closing for good. Default Infinity. */
  retries?: number;
  /** Commands kept while disconnected; more are refused at once. Default 1,000. */
  queueLimit?: number;
  /** How long a command may wait while disconnected before it is refused. Default 10,000. */
  queueTimeoutMs?: number;
}

export type ResolvedReconnect = Required<ReconnectOptions> & RetryPolicy;

export interface ResolvedOptions {
  host: string;
  port: number;
  tls: TlsOptions | null;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  maxJobSize: number | undefined;
  maxReplyBytes: number | undefined;
  reconnect: ResolvedReconnect | null;
  coalesceReads: boolean;
}

/** Reads `beanstalk://host:port` (or `beanstalks://` for TLS) into options. */
export function parseUrl(url: string): ConnectOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError('url', `${JSON.stringify(url)} is not a URL like beanstalk://127.0.0.1:11300`);
  }
  if (parsed.protocol !== 'beanstalk:' && parsed.protocol !== 'beanstalks:') {
    throw new InvalidArgumentError('url', `${JSON.stringify(url)}: the scheme must be beanstalk:// or beanstalks://`);
  }
  const options: ConnectOptions = { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || DEFAULT_HOST };
  if (parsed.port !== '') options.port = Number(parsed.port);
  if (parsed.protocol === 'beanstalks:') options.tls = true;
  return options;
}

/**
 * Several servers, when `target` names them: an array of URLs, or a comma-separated list (from
 * `target` or, without one, `$BEANSTALKD_URL`). Null when it names one server. Each URL is checked.
 */
/** The URLs of a comma-separated list (`$BEANSTALKD_URL`, `--url a,b`), spaces and empty entries dropped. */
export function splitUrlList(text: string): string[] {
  return text
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
}

export function serverList(target?: string | readonly string[] | ConnectOptions): string[] | null {
  const given = target === undefined ? process.env['BEANSTALKD_URL'] : target;
  let urls: string[];
  if (Array.isArray(given)) urls = [...(given as readonly string[])];
  else if (typeof given === 'string' && given.includes(',')) urls = splitUrlList(given);
  else return null;
  if (urls.length === 0) throw new InvalidArgumentError('connection', 'an empty list of servers');
  for (const url of urls) parseUrl(url);
  if (new Set(urls).size !== urls.length) throw new InvalidArgumentError('connection', `a server is listed twice: ${urls.join(', ')}`);
  return urls;
}

export function resolveOptions(target?: string | ConnectOptions): ResolvedOptions {
  const fromEnv = process.env['BEANSTALKD_URL'];
  const explicit = typeof target === 'string' || target?.host !== undefined;
  if (!explicit && fromEnv?.includes(',')) {
    throw new InvalidArgumentError('url', `BEANSTALKD_URL lists several servers (${fromEnv}): connect to them with Cluster.connect()`);
  }
  const base: ConnectOptions = fromEnv && !explicit ? parseUrl(fromEnv) : {};
  const given: ConnectOptions = typeof target === 'string' ? parseUrl(target) : (target ?? {});
  const merged: ConnectOptions = explicit ? given : { ...base, ...given };
  const port = merged.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('port', `port must be a whole number from 1 to 65535, got ${String(port)}`);
  }
  const tls = merged.tls === true ? {} : merged.tls === false || merged.tls === undefined ? null : merged.tls;
  return {
    host: merged.host ?? DEFAULT_HOST,
    port,
    tls,
    connectTimeoutMs: nonNegative(merged.connectTimeoutMs ?? 10_000, 'connectTimeoutMs'),
    commandTimeoutMs: nonNegative(merged.commandTimeoutMs ?? 0, 'commandTimeoutMs'),
    maxJobSize: merged.maxJobSize === undefined ? undefined : nonNegative(merged.maxJobSize, 'maxJobSize'),
    maxReplyBytes: merged.maxReplyBytes === undefined ? undefined : nonNegative(merged.maxReplyBytes, 'maxReplyBytes'),
    reconnect: resolveReconnect(merged.reconnect),
    coalesceReads: flag(merged.coalesceReads ?? true, 'coalesceReads'),
  };
}

export function resolveReconnect(reconnect: boolean | ReconnectOptions | undefined): ResolvedReconnect | null {
  if (reconnect === undefined || reconnect === false) return null;
  const given = reconnect === true ? {} : reconnect;
  const minDelayMs = nonNegative(given.minDelayMs ?? 100, 'reconnect.minDelayMs');
  return {
    minDelayMs,
    maxDelayMs: Math.max(minDelayMs, nonNegative(given.maxDelayMs ?? 5000, 'reconnect.maxDelayMs')),
    retries: nonNegative(given.retries ?? Infinity, 'reconnect.retries', true),
    queueLimit: nonNegative(given.queueLimit ?? 1000, 'reconnect.queueLimit'),
    queueTimeoutMs: nonNegative(given.queueTimeoutMs ?? 10_000, 'reconnect.queueTimeoutMs'),
  };
}

function flag(value: boolean, argument: string): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(argument, `${argument} must be true or false, got ${String(value)}`);
  }
  return value;
}

function nonNegative(value: number, argument: string, infinite = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || (!infinite && !Number.isFinite(value)) || value < 0) {
    throw new InvalidArgumentError(argument, `${argument} must be a number of 0 or more, got ${String(value)}`);
  }
  return value;
}

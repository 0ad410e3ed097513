/**
 * What every subcommand shares: the server to talk to, a client closed after the command, input
 * checks that fail as usage errors, and the lines the commands print.
 */
import type { Command } from 'commander';
import { Client } from '../client.js';
import { ConnectionError, InvalidArgumentError, NotFoundError, ProtocolError, TimeoutError } from '../errors.js';
import { DEFAULT_HOST, DEFAULT_PORT, parseUrl, splitUrlList, type ConnectOptions } from '../options.js';
import type { ServerHandle } from '../observe/snapshot.js';

/** Bad input from the operator: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command could not do its work (the message says why): exit code 1. */
export class CliFailure extends Error {
  override name = 'CliFailure';
}

/** The command line's timeouts, for every client it opens. */
export const CLI_TIMEOUTS = { connectTimeoutMs: 5_000, commandTimeoutMs: 15_000 } as const;

export type { ServerHandle } from '../observe/snapshot.js';

/** The command could not reach a server (or what answered is not beanstalkd): exit code 3. */
export class Unreachable extends Error {
  override name = 'Unreachable';
}

/**
 * The servers: `--url` (repeatable, or comma-separated), else $BEANSTALKD_URL (which may hold a
 * comma-separated list), else the default host and port. Each is checked; the same URL twice is once.
 */
export function serverUrls(command: Command): string[] {
  const given = (command.optsWithGlobals<{ url?: string[] }>().url ?? []).flatMap(splitUrlList);
  const urls = given.length > 0 ? given : splitUrlList(process.env['BEANSTALKD_URL'] ?? '');
  if (urls.length === 0) urls.push(`beanstalk://${DEFAULT_HOST}:${DEFAULT_PORT}`);
  for (const url of urls) {
    try {
      parseUrl(url);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return [...new Set(urls)];
}

/** A client on `url` with the command line's timeouts; failing to connect is Unreachable. */
export async function connectServer(url: string, options: ConnectOptions = {}): Promise<ServerHandle> {
  try {
    // A ConnectionError's message names the server already.
    const client = await Client.connect({ ...parseUrl(url), ...CLI_TIMEOUTS, ...options });
    return { url, client };
  } catch (error) {
    if (error instanceof ConnectionError || error instanceof TimeoutError) throw new Unreachable(error.message, { cause: error });
    throw error;
  }
}

/**
 * Runs `work` with a client on every server, destroyed afterwards whatever happens. With `partial`,
 * servers that cannot be reached are reported on stderr and left out (exit code 3 at the end), as long
 * as one can be; without it, one unreachable server fails the command.
 */
export async function withServers<T>(command: Command, work: (servers: ServerHandle[]) => Promise<T>, options: { partial?: boolean } = {}): Promise<T> {
  const attempts = await Promise.allSettled(serverUrls(command).map((url) => connectServer(url)));
  const servers = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
  const failures = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [attempt.reason as unknown] : []));
  try {
    if (failures.length > 0 && (options.partial !== true || servers.length === 0)) throw failures[0];
    for (const failure of failures) {
      process.stderr.write(`beanline: ${explain(failure).message}\n`);
      process.exitCode = 3;
    }
    return await work(servers);
  } finally {
    for (const server of servers) server.client.destroy();
  }
}

/** Runs `work` with a client on the one server; several servers are a usage error naming `what`. */
export async function withClient<T>(command: Command, work: (client: Client) => Promise<T>, what = command.name()): Promise<T> {
  const urls = serverUrls(command);
  if (urls.length > 1) throw new UsageError(`${what} works on one server; give one --url (got ${urls.join(', ')})`);
  return withServers(command, ([server]) => work((server as ServerHandle).client));
}

/**
 * The one server holding job `id` (ids are per server, so with several servers the same id may name
 * different jobs): not found anywhere fails, found on several is a usage error asking for one --url.
 */
export async function serverOfJob(servers: readonly ServerHandle[], id: number): Promise<ServerHandle> {
  if (servers.length === 1) return servers[0] as ServerHandle;
  const found = await Promise.all(servers.map((server) => server.client.statsJob(id).then(() => true, (error: unknown) => (error instanceof NotFoundError ? false : Promise.reject(error)))));
  const holders = servers.filter((_, index) => found[index]);
  if (holders.length === 0) throw new CliFailure(`job ${id} not found on any server`);
  if (holders.length > 1) throw new UsageError(`job ${id} exists on ${holders.map((server) => server.url).join(' and ')}; give the one --url it is on`);
  return holders[0] as ServerHandle;
}

/** A job id or count: a whole number, at least `min`. */
export function wholeNumber(what: string, text: string, min = 0): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${what} must be a whole number${min > 0 ? ` from ${min}` : ''}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Runs `step`; a NotFoundError becomes a failure with `message` (say, "job 5 not found"). */
export async function orNotFound<T>(message: string, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if (error instanceof NotFoundError) throw new CliFailure(message);
    throw error;
  }
}

/** `key: value` lines with the values in one column; camelCase keys shown as beanstalkd spells them. */
export function aligned(record: object): string[] {
  const entries = Object.entries(record).map(([key, value]) => [kebab(key), String(value)] as const);
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${value}`);
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** Writes lines to stdout. */
export function print(lines: string | readonly string[]): void {
  process.stdout.write(`${(typeof lines === 'string' ? [lines] : lines).join('\n')}\n`);
}

/** The exit code and the one line for an error a command raised. */
export function explain(error: unknown): { code: number; message: string } {
  if (error instanceof UsageError || error instanceof InvalidArgumentError) return { code: 2, message: error.message };
  if (error instanceof Unreachable || error instanceof ConnectionError) return { code: 3, message: firstLine(error) };
  // What answered is not beanstalkd (an HTTP server, say): as good as not reaching one.
  if (error instanceof ProtocolError) return { code: 3, message: `${firstLine(error)} (is this a beanstalkd server?)` };
  if (error instanceof Error) return { code: 1, message: firstLine(error) };
  return { code: 1, message: String(error) };
}

function firstLine(error: Error): string {
  return error.message.split('\n')[0] ?? error.name;
}

/** `--json` on the command (or the program). */
export function wantsJson(command: Command): boolean {
  return command.optsWithGlobals<{ json?: boolean }>().json === true;
}

/** Writes one JSON document (Buffers as their text would be wrong: callers turn bodies into strings). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

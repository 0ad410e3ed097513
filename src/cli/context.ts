/**
 * What every subcommand shares: the server to talk to, a client closed after the command, input
 * checks that fail as usage errors, and the lines the commands print.
 */
import type { Command } from 'commander';
import { Client } from '../client.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { DEFAULT_HOST, DEFAULT_PORT, parseUrl } from '../options.js';
import { checkTube } from '../protocol/validate.js';

/** Bad input from the operator: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command could not do its work (the message says why): exit code 1. */
export class CliFailure extends Error {
  override name = 'CliFailure';
}

const CONNECT_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 15_000;

/** The one server `--url` (repeatable, or comma-separated), else $BEANSTALKD_URL, else the default names. */
export function serverUrl(command: Command): string {
  const given = (command.optsWithGlobals<{ url?: string[] }>().url ?? []).flatMap(splitList);
  const urls = given.length > 0 ? given : splitList(process.env['BEANSTALKD_URL'] ?? '');
  if (urls.length > 1) throw new UsageError(`several servers are not supported yet (got ${urls.join(', ')})`);
  const url = urls[0] ?? `beanstalk://${DEFAULT_HOST}:${DEFAULT_PORT}`;
  try {
    parseUrl(url);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return url;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** Runs `work` with a client on the command's server, destroyed afterwards whatever happens. */
export async function withClient<T>(command: Command, work: (client: Client) => Promise<T>): Promise<T> {
  const url = serverUrl(command);
  // A ConnectionError's message names the server already.
  const client = await Client.connect({ ...parseUrl(url), connectTimeoutMs: CONNECT_TIMEOUT_MS, commandTimeoutMs: COMMAND_TIMEOUT_MS });
  try {
    return await work(client);
  } finally {
    client.destroy();
  }
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

/** Fails unless the tube exists (beanstalkd would create it on `use` and answer as for an empty one). */
export async function existingTube(client: Client, tube: string): Promise<void> {
  // A name the client would refuse is a usage error (InvalidArgumentError, exit code 2).
  checkTube(tube);
  const tubes = await client.listTubes();
  if (!tubes.includes(tube)) throw new CliFailure(`tube ${tube} not found`);
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
  if (error instanceof Error) return { code: 1, message: error.message.split('\n')[0] ?? error.name };
  return { code: 1, message: String(error) };
}

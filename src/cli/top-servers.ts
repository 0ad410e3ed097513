/**
 * The servers `top` watches. Unlike the other commands, a server that cannot be reached does not
 * stop it: it is shown as down, and the live screen asks it again on every refresh, its connected
 * clients reconnecting by themselves, so that a restarted server reappears on screen. `--once`
 * asks each server once.
 */
import type { ReconnectOptions } from '../options.js';
import { ServerSet } from '../observe/server-set.js';
import { CLI_TIMEOUTS } from './context.js';

/** Quick to come back: an operator watching `top` wants to see a restarted server within seconds. */
const RECONNECT: ReconnectOptions = { minDelayMs: 200, maxDelayMs: 2_000, queueLimit: 100 };

export function topServers(urls: readonly string[], live: boolean): ServerSet {
  return live
    ? new ServerSet(urls, { connect: { ...CLI_TIMEOUTS, reconnect: RECONNECT }, retryAfterMs: 0 })
    : new ServerSet(urls, { connect: CLI_TIMEOUTS, retryAfterMs: Infinity });
}

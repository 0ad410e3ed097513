/**
 * `beanline top`: a live screen of every server and tube, refreshed every second, or one frame for
 * scripts with `--once` (text) or `--json` (the RatesView, as the dashboard gets it).
 */
import type { Command } from 'commander';
import { renderFrame } from '../../observe/frame.js';
import { Rates } from '../../observe/rates.js';
import { printJson, serverUrls, UsageError } from '../context.js';
import { LiveTop } from '../top-live.js';
import { topServers } from '../top-servers.js';

interface TopOptions {
  interval: string;
  once?: boolean;
  json?: boolean;
}

/** How long `--once` waits for a server's answer before calling it down. */
const COMMAND_BOUND_MS = 5_000;

export function register(program: Command): void {
  program
    .command('top')
    .description('a live view of every server and tube: counts, puts/s, reserves/s, deletes/s, busiest tube first')
    .option('--interval <seconds>', 'seconds between refreshes; with --once or --json, between the two looks the rates come from (0: one look, rates shown as 0)', '1')
    .option('--once', 'print one frame and exit: two looks --interval apart, so the rates are real')
    .option('--json', 'like --once, as one JSON document (servers and tubes with their rates)')
    .addHelpText(
      'after',
      [
        '',
        'Keys: q or Ctrl-C quits; Up/Down (or k/j) scroll the tubes, PgUp/PgDn (or Space) a page, Home/End.',
        'A server that cannot be reached is shown as down and asked again every refresh.',
        'beanstalkd counts reserves per server only, so tubes show puts/s and deletes/s.',
        '',
        'Examples:',
        '  beanline top --url beanstalk://10.0.0.1:11300,beanstalk://10.0.0.2:11300',
        "  beanline top --json | jq '.tubes[] | select(.buried > 0) | .name'",
      ].join('\n'),
    )
    .action(async (options: TopOptions, command: Command) => {
      const urls = serverUrls(command);
      const intervalMs = seconds(options.interval) * 1000;
      if (options.once === true || options.json === true) {
        await once(urls, intervalMs, options.json === true);
        return;
      }
      if (intervalMs < 100) throw new UsageError('top: --interval must be at least 0.1 seconds for the live screen');
      if (process.stdout.isTTY !== true) throw new UsageError('top: the live screen needs a terminal; use --once or --json for a script');
      await new LiveTop(urls, intervalMs, colorWanted()).run();
    });
}

function seconds(text: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(value) || value > 3600) {
    throw new UsageError(`top: --interval must be a number of seconds from 0 to 3600, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Colour only on a terminal, and never with NO_COLOR (https://no-color.org). */
function colorWanted(): boolean {
  return process.stdout.isTTY === true && (process.env['NO_COLOR'] ?? '') === '';
}

/** One frame (or the JSON view) from two looks `intervalMs` apart; exit code 3 if a server was down. */
async function once(urls: readonly string[], intervalMs: number, json: boolean): Promise<void> {
  const servers = topServers(urls, false);
  try {
    await servers.connectAll();
    const rates = new Rates();
    rates.add(await servers.snapshot(COMMAND_BOUND_MS));
    if (intervalMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      rates.add(await servers.snapshot(COMMAND_BOUND_MS));
    }
    const view = rates.view();
    if (json) printJson(view);
    else {
      // Not cut to a height: the frame goes to scrollback or a pipe, all of it.
      const width = process.stdout.isTTY === true ? (process.stdout.columns ?? 80) : Infinity;
      process.stdout.write(`${renderFrame(view, { width, height: Infinity, scroll: 0, color: colorWanted() }).join('\n')}\n`);
    }
    for (const server of view.servers) {
      if (server.up) continue;
      const error = server.error ?? 'down';
      // Connect errors name the server already.
      process.stderr.write(`beanline: ${error.includes(hostPort(server.url)) ? error : `${server.url}: ${error}`}\n`);
      process.exitCode = 3;
    }
  } finally {
    servers.close();
  }
}

function hostPort(url: string): string {
  return url.replace(/^beanstalks?:\/\//, '');
}

/** `beanline stats`: each server's stats, one aligned `key: value` line each. */
import type { Command } from 'commander';
import { aligned, print, printJson, serverUrls, wantsJson, withServers } from '../context.js';
import { perServer } from '../servers.js';

export function register(program: Command): void {
  program
    .command('stats')
    .option('--json', 'one JSON document: the stats object (an array of them, each with its server, for several servers)')
    .description("each server's stats")
    .addHelpText('after', '\nExample:\n  beanline stats --json | jq .currentJobsReady')
    .action(async (_options: object, command: Command) => {
      const answers = await withServers(command, (servers) => Promise.all(servers.map(async ({ url, client }) => ({ server: url, ...(await client.stats()) }))), { partial: true });
      if (wantsJson(command)) printJson(answers.length === 1 ? answers[0] : answers);
      else print(perServer(answers, ({ server: _server, ...stats }) => aligned(stats), serverUrls(command).length > 1));
    });
}

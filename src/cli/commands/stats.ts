/** `beanline stats`: the server's stats, one aligned `key: value` line each. */
import type { Command } from 'commander';
import { aligned, print, withClient } from '../context.js';

export function register(program: Command): void {
  program
    .command('stats')
    .description("the server's stats")
    .action(async (_options: object, command: Command) => {
      const stats = await withClient(command, (client) => client.stats());
      print(aligned(stats));
    });
}

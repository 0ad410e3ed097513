/** `beanline kick <tube> [n]`: moves up to n buried jobs (or, with none buried, delayed jobs) to ready. */
import type { Command } from 'commander';
import { existingTube, print, wholeNumber, withClient } from '../context.js';

export function register(program: Command): void {
  program
    .command('kick')
    .argument('<tube>', 'the tube')
    .argument('[n]', 'how many jobs at most', '1')
    .description('kicks up to n buried jobs of a tube to ready (delayed jobs when none is buried)')
    .action(async (tube: string, text: string, _options: object, command: Command) => {
      const bound = wholeNumber('n', text, 1);
      const kicked = await withClient(command, async (client) => {
        await existingTube(client, tube);
        await client.use(tube);
        return client.kick(bound);
      });
      print(`kicked ${kicked} job${kicked === 1 ? '' : 's'} in tube ${tube}`);
    });
}

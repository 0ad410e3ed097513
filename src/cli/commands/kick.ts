/** `beanline kick <tube> [n]`: moves up to n buried jobs (or, with none buried, delayed jobs) to ready. */
import type { Command } from 'commander';
import { checkTube } from '../../protocol/validate.js';
import { CliFailure, print, wholeNumber, withServers } from '../context.js';

export function register(program: Command): void {
  program
    .command('kick')
    .argument('<tube>', 'the tube')
    .argument('[n]', 'how many jobs at most (on each server)', '1')
    .description('kicks up to n buried jobs of a tube to ready (delayed jobs when none is buried)')
    .addHelpText('after', '\nExample:\n  beanline kick emails 100')
    .action(async (tube: string, text: string, _options: object, command: Command) => {
      checkTube(tube);
      const bound = wholeNumber('n', text, 1);
      const kicked = await withServers(command, async (servers) => {
        const each = await Promise.all(
          servers.map(async ({ client }) => {
            // beanstalkd would create the tube on `use` and answer as for an empty one.
            if (!(await client.listTubes()).includes(tube)) return null;
            await client.use(tube);
            return client.kick(bound);
          }),
        );
        if (each.every((one) => one === null)) throw new CliFailure(`tube ${tube} not found`);
        return each.reduce<number>((sum, one) => sum + (one ?? 0), 0);
      });
      print(`kicked ${kicked} job${kicked === 1 ? '' : 's'} in tube ${tube}`);
    });
}

/** `beanline tube <name>`: one tube's stats. */
import type { Command } from 'commander';
import { checkTube } from '../../protocol/validate.js';
import { aligned, orNotFound, print, withClient } from '../context.js';

export function register(program: Command): void {
  program
    .command('tube')
    .argument('<name>', 'the tube')
    .description("one tube's stats")
    .action(async (name: string, _options: object, command: Command) => {
      checkTube(name);
      const stats = await withClient(command, (client) => orNotFound(`tube ${name} not found`, client.statsTube(name)));
      print(aligned(stats));
    });
}

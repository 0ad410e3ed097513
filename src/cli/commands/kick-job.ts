/** `beanline kick-job <id>`: moves one buried or delayed job to ready. */
import type { Command } from 'commander';
import { orNotFound, print, wholeNumber, withClient } from '../context.js';

export function register(program: Command): void {
  program
    .command('kick-job')
    .argument('<id>', 'the job id')
    .description('kicks one buried or delayed job to ready')
    .action(async (text: string, _options: object, command: Command) => {
      const id = wholeNumber('job id', text, 1);
      await withClient(command, (client) => orNotFound(`job ${id} not found, or neither buried nor delayed`, client.kickJob(id)));
      print(`kicked job ${id}`);
    });
}

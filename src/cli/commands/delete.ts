/** `beanline delete <id>`: deletes a job that is not reserved by another connection. */
import type { Command } from 'commander';
import { orNotFound, print, wholeNumber, withClient } from '../context.js';

export function register(program: Command): void {
  program
    .command('delete')
    .argument('<id>', 'the job id')
    .description('deletes a ready, delayed or buried job')
    .action(async (text: string, _options: object, command: Command) => {
      const id = wholeNumber('job id', text, 1);
      await withClient(command, (client) => orNotFound(`job ${id} not found (or reserved by another connection)`, client.delete(id)));
      print(`deleted job ${id}`);
    });
}

/** `beanline delete <id>`: deletes a job that is not reserved by another connection. */
import type { Command } from 'commander';
import { orNotFound, print, serverOfJob, wholeNumber, withServers } from '../context.js';

export function register(program: Command): void {
  program
    .command('delete')
    .argument('<id>', 'the job id')
    .description('deletes a ready, delayed or buried job')
    .addHelpText('after', '\nExample:\n  beanline delete 42')
    .action(async (text: string, _options: object, command: Command) => {
      const id = wholeNumber('job id', text, 1);
      await withServers(command, async (servers) => {
        const { client } = await serverOfJob(servers, id);
        await orNotFound(`job ${id} not found (or reserved by another connection)`, client.delete(id));
      });
      print(`deleted job ${id}`);
    });
}

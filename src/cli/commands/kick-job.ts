/** `beanline kick-job <id>`: moves one buried or delayed job to ready. */
import type { Command } from 'commander';
import { orNotFound, print, serverOfJob, wholeNumber, withServers } from '../context.js';

export function register(program: Command): void {
  program
    .command('kick-job')
    .argument('<id>', 'the job id')
    .description('kicks one buried or delayed job to ready')
    .addHelpText('after', '\nExample:\n  beanline kick-job 42')
    .action(async (text: string, _options: object, command: Command) => {
      const id = wholeNumber('job id', text, 1);
      await withServers(command, async (servers) => {
        const { client } = await serverOfJob(servers, id);
        await orNotFound(`job ${id} not found, or neither buried nor delayed`, client.kickJob(id));
      });
      print(`kicked job ${id}`);
    });
}

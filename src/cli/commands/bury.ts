/**
 * `beanline bury <id>`: buries a ready or delayed job. beanstalkd buries only a job the connection has
 * reserved, so the job is taken with reserve-job first: a job a worker holds cannot be buried.
 */
import type { Command } from 'commander';
import { orNotFound, print, serverOfJob, wholeNumber, withServers } from '../context.js';

export function register(program: Command): void {
  program
    .command('bury')
    .argument('<id>', 'the job id')
    .description('buries a ready or delayed job (not one a worker has reserved), keeping its priority')
    .addHelpText('after', '\nExample:\n  beanline bury 42')
    .action(async (text: string, _options: object, command: Command) => {
      const id = wholeNumber('job id', text, 1);
      await withServers(command, async (servers) => {
        const { client } = await serverOfJob(servers, id);
        const stats = await orNotFound(`job ${id} not found`, client.statsJob(id));
        if (stats.state === 'buried') return;
        await orNotFound(`job ${id} is reserved by a worker, or was deleted`, client.reserveJob(id));
        await client.bury(id, stats.pri);
      });
      print(`buried job ${id}`);
    });
}

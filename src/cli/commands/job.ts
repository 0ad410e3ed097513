/** `beanline job <id>`: one job's stats, then its body. */
import type { Command } from 'commander';
import { formatBody } from '../../observe/body.js';
import { aligned, orNotFound, print, wholeNumber, withClient } from '../context.js';

export function register(program: Command): void {
  program
    .command('job')
    .argument('<id>', 'the job id')
    .description("one job's stats and body")
    .action(async (text: string, _options: object, command: Command) => {
      const id = wholeNumber('job id', text, 1);
      const lines = await withClient(command, async (client) => {
        const stats = await orNotFound(`job ${id} not found`, client.statsJob(id));
        const job = await client.peek(id);
        return [...aligned(stats), '', job === null ? 'body: gone (the job was deleted meanwhile)' : formatBody(job.body)];
      });
      print(lines);
    });
}

/** `beanline job <id>`: one job's stats, then its body. */
import type { Command } from 'commander';
import { bodyJson, formatBody } from '../../observe/body.js';
import { aligned, orNotFound, print, printJson, serverOfJob, wantsJson, wholeNumber, withServers } from '../context.js';

export function register(program: Command): void {
  program
    .command('job')
    .argument('<id>', 'the job id')
    .option('--json', 'one JSON document: { server, id, stats, body }')
    .description("one job's stats and body (an envelope as its fields, binary as hex)")
    .addHelpText('after', '\nExample:\n  beanline job 42 --json | jq .body.envelope.failure')
    .action(async (text: string, _options: object, command: Command) => {
      const id = wholeNumber('job id', text, 1);
      const found = await withServers(command, async (servers) => {
        const { url, client } = await serverOfJob(servers, id);
        const stats = await orNotFound(`job ${id} not found`, client.statsJob(id));
        const job = await client.peek(id);
        return { server: url, id, stats, body: job?.body ?? null };
      });
      if (wantsJson(command)) return printJson({ ...found, body: found.body === null ? null : bodyJson(found.body) });
      print([...aligned(found.stats), '', found.body === null ? 'body: gone (the job was deleted meanwhile)' : formatBody(found.body)]);
    });
}

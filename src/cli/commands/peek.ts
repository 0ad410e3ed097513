/** `beanline peek <ready|delayed|buried> <tube>`: the next job in that state, with its body. */
import type { Client } from '../../client.js';
import type { Command } from 'commander';
import type { Job } from '../../protocol/commands.js';
import { bodyJson, formatBody } from '../../observe/body.js';
import { checkTube } from '../../protocol/validate.js';
import { CliFailure, UsageError, print, printJson, serverUrls, wantsJson, withServers } from '../context.js';
import { perServer } from '../servers.js';

const STATES = ['ready', 'delayed', 'buried'] as const;
type PeekState = (typeof STATES)[number];

function peekIn(client: Client, state: PeekState): Promise<Job | null> {
  if (state === 'ready') return client.peekReady();
  return state === 'delayed' ? client.peekDelayed() : client.peekBuried();
}

export function register(program: Command): void {
  program
    .command('peek')
    .argument('<state>', 'ready, delayed or buried')
    .argument('<tube>', 'the tube')
    .option('--json', 'one JSON document: { server, id, body } (an array for several servers)')
    .description('the next ready job, the delayed job due first, or the oldest buried job of a tube')
    .addHelpText('after', '\nExample:\n  beanline peek buried emails')
    .action(async (state: string, tube: string, _options: object, command: Command) => {
      const known = STATES.find((one) => one === state);
      if (known === undefined) throw new UsageError(`peek: the state must be ready, delayed or buried, got ${JSON.stringify(state)}`);
      checkTube(tube);
      const answers = await withServers(
        command,
        async (servers) => {
          const each = await Promise.all(
            servers.map(async ({ url, client }) => {
              if (!(await client.listTubes()).includes(tube)) return 'no tube';
              await client.use(tube);
              const job = await peekIn(client, known);
              return job === null ? null : { server: url, id: job.id, body: job.body };
            }),
          );
          return each;
        },
        { partial: true },
      );
      if (answers.every((answer) => answer === 'no tube')) throw new CliFailure(`tube ${tube} not found`);
      const jobs = answers.filter((answer) => answer !== null && answer !== 'no tube');
      if (jobs.length === 0) throw new CliFailure(`tube ${tube} has no ${known} job`);
      if (wantsJson(command)) {
        const shown = jobs.map((job) => ({ ...job, body: bodyJson(job.body) }));
        return printJson(shown.length === 1 ? shown[0] : shown);
      }
      print(perServer(jobs, (job) => [`id: ${job.id}`, formatBody(job.body)], serverUrls(command).length > 1));
    });
}

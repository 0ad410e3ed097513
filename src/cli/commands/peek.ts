/** `beanline peek <ready|delayed|buried> <tube>`: the next job in that state, with its body. */
import type { Client } from '../../client.js';
import type { Command } from 'commander';
import type { Job } from '../../protocol/commands.js';
import { formatBody } from '../../observe/body.js';
import { CliFailure, UsageError, existingTube, print, withClient } from '../context.js';

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
    .description('the next ready job, the delayed job due first, or the oldest buried job of a tube')
    .action(async (state: string, tube: string, _options: object, command: Command) => {
      const known = STATES.find((one) => one === state);
      if (known === undefined) throw new UsageError(`peek: the state must be ready, delayed or buried, got ${JSON.stringify(state)}`);
      const job = await withClient(command, async (client) => {
        await existingTube(client, tube);
        await client.use(tube);
        return peekIn(client, known);
      });
      if (job === null) throw new CliFailure(`tube ${tube} has no ${known} job`);
      print([`id: ${job.id}`, formatBody(job.body)]);
    });
}

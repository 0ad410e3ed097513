/** `beanline tube <name>`: one tube's stats on each server that has it. */
import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { checkTube } from '../../protocol/validate.js';
import { CliFailure, aligned, print, printJson, serverUrls, wantsJson, withServers } from '../context.js';
import { perServer } from '../servers.js';

export function register(program: Command): void {
  program
    .command('tube')
    .argument('<name>', 'the tube')
    .option('--json', 'one JSON document: the tube stats (an array, each with its server, for several servers)')
    .description("one tube's stats")
    .addHelpText('after', '\nExample:\n  beanline tube emails')
    .action(async (name: string, _options: object, command: Command) => {
      checkTube(name);
      const answers = await withServers(
        command,
        async (servers) => {
          const each = await Promise.all(
            servers.map(({ url, client }) =>
              client.statsTube(name).then(
                (stats) => ({ server: url, ...stats }),
                (error: unknown) => (error instanceof NotFoundError ? null : Promise.reject(error)),
              ),
            ),
          );
          return each.filter((one) => one !== null);
        },
        { partial: true },
      );
      if (answers.length === 0) throw new CliFailure(`tube ${name} not found`);
      if (wantsJson(command)) printJson(answers.length === 1 ? answers[0] : answers);
      else print(perServer(answers, ({ server: _server, ...stats }) => aligned(stats), serverUrls(command).length > 1));
    });
}

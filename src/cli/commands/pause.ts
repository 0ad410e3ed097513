/** `beanline pause <tube> <seconds>`: no job of the tube is reserved for that long (0 resumes it). */
import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { checkTube } from '../../protocol/validate.js';
import { CliFailure, print, wholeNumber, withServers } from '../context.js';

export function register(program: Command): void {
  program
    .command('pause')
    .argument('<tube>', 'the tube')
    .argument('<seconds>', 'how long; 0 resumes the tube')
    .description('pauses a tube on every server that has it: no job of it is reserved for that many seconds')
    .addHelpText('after', '\nExample:\n  beanline pause emails 600    # and beanline pause emails 0 to resume')
    .action(async (tube: string, text: string, _options: object, command: Command) => {
      checkTube(tube);
      const seconds = wholeNumber('seconds', text);
      await withServers(command, async (servers) => {
        const paused = await Promise.all(
          servers.map(({ client }) =>
            client.pauseTube(tube, seconds).then(
              () => true,
              (error: unknown) => (error instanceof NotFoundError ? false : Promise.reject(error)),
            ),
          ),
        );
        if (!paused.includes(true)) throw new CliFailure(`tube ${tube} not found`);
      });
      print(seconds === 0 ? `resumed tube ${tube}` : `paused tube ${tube} for ${seconds} seconds`);
    });
}

/** `beanline pause <tube> <seconds>`: no job of the tube is reserved for that long (0 resumes it). */
import type { Command } from 'commander';
import { checkTube } from '../../protocol/validate.js';
import { orNotFound, print, wholeNumber, withClient } from '../context.js';

export function register(program: Command): void {
  program
    .command('pause')
    .argument('<tube>', 'the tube')
    .argument('<seconds>', 'how long; 0 resumes the tube')
    .description('pauses a tube: no job of it is reserved for that many seconds')
    .action(async (tube: string, text: string, _options: object, command: Command) => {
      checkTube(tube);
      const seconds = wholeNumber('seconds', text);
      await withClient(command, (client) => orNotFound(`tube ${tube} not found`, client.pauseTube(tube, seconds)));
      print(seconds === 0 ? `resumed tube ${tube}` : `paused tube ${tube} for ${seconds} seconds`);
    });
}

/** `beanline server`: the embedded beanstalkd in the foreground, until SIGINT or SIGTERM. */
import type { Command } from 'commander';
import { CliFailure, UsageError, print, wholeNumber } from '../context.js';

interface ServerFlags {
  host: string;
  port: string;
}

export function register(program: Command): void {
  program
    .command('server')
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the port (0: a free one)', '11300')
    .description('runs an in-memory beanstalkd in the foreground (for development and tests: no binlog)')
    .addHelpText('after', '\nExample:\n  beanline server --port 11300    # Ctrl-C stops it; SIGUSR1 drains it')
    .action(async (flags: ServerFlags) => {
      const port = wholeNumber('--port', flags.port);
      if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
      // Loaded here: the other subcommands do not need the server.
      const { startServer } = await import('../../server/index.js');
      const server = await startServer({ host: flags.host, port }).catch((error: unknown) => {
        throw new CliFailure(`cannot listen on ${flags.host}:${port}: ${(error as Error).message}`);
      });
      print(`listening on ${server.url} (in memory; for development and tests)`);
      const stop = (): void => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // As beanstalkd: SIGUSR1 puts the server in drain mode (puts refused with DRAINING).
      process.on('SIGUSR1', () => server.drain());
    });
}

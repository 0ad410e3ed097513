/** `beanline put <tube> [body|-]`: puts a job (the body from stdin with `-` or none); prints its id. */
import type { Command } from 'commander';
import { checkTube } from '../../protocol/validate.js';
import { Cluster } from '../../cluster/cluster.js';
import { UsageError, print, serverUrls, wholeNumber, withClient } from '../context.js';

interface PutFlags {
  priority?: string;
  delay?: string;
  ttr?: string;
  key?: string;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function register(program: Command): void {
  program
    .command('put')
    .argument('<tube>', 'the tube')
    .argument('[body]', 'the body; - or none reads it from stdin')
    .option('--priority <n>', 'priority, 0 (most urgent) to 4294967295', '1024')
    .option('--delay <seconds>', 'seconds before the job is ready', '0')
    .option('--ttr <seconds>', 'seconds a worker may hold the job', '60')
    .option('--key <key>', 'with several servers: jobs with the same key go to the same server')
    .description('puts a job and prints its id (with several servers: the server and the id)')
    .addHelpText('after', '\nExamples:\n  beanline put emails \'{"to":"a@example.com"}\'\n  gzip -c report.csv | beanline put reports -')
    .action(async (tube: string, text: string | undefined, flags: PutFlags, command: Command) => {
      checkTube(tube);
      const options = {
        tube,
        priority: wholeNumber('--priority', flags.priority ?? '1024'),
        delay: wholeNumber('--delay', flags.delay ?? '0'),
        ttr: wholeNumber('--ttr', flags.ttr ?? '60'),
      };
      if (text === undefined && process.stdin.isTTY === true) throw new UsageError('put: give a body, or - to read it from stdin');
      const body = text === undefined || text === '-' ? await readStdin() : Buffer.from(text, 'utf8');
      const urls = serverUrls(command);
      if (urls.length === 1) {
        print(String(await withClient(command, (client) => client.put(body, options))));
        return;
      }
      // Several servers: the Cluster spreads puts (or keeps one key's jobs on one server).
      const cluster = await Cluster.connect({ servers: urls, connectTimeoutMs: 5_000, commandTimeoutMs: 15_000 });
      try {
        const ref = await cluster.put(body, { ...options, ...(flags.key === undefined ? {} : { key: flags.key }) });
        print(`${ref.server} ${ref.id}`);
      } finally {
        await cluster.close();
      }
    });
}

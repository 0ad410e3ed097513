#!/usr/bin/env node
/**
 * `beanline-server`: the embedded beanstalkd on its own, in the foreground, until SIGINT or SIGTERM.
 * For development, tests and demos: it keeps jobs in memory only.
 */
import { parseArgs } from 'node:util';
import { startServer } from './index.js';

const USAGE = `usage: beanline-server [--host 127.0.0.1] [--port 11300] [--max-job-size 65535]

An in-memory beanstalkd 1.12 for development, tests and demos (no binlog: jobs are
lost when it stops). Any beanstalkd client can use it.`;

function fail(message: string): never {
  process.stderr.write(`beanline-server: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function whole(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 0) fail(`--${name}: expected a whole number, got ${JSON.stringify(text)}`);
  return value;
}

let values: { host?: string; port?: string; 'max-job-size'?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      'max-job-size': { type: 'string', short: 'z' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

try {
  const server = await startServer({
    host: values.host ?? '127.0.0.1',
    port: whole('port', values.port, 11300),
    maxJobSize: whole('max-job-size', values['max-job-size'], 65535),
  });
  process.stdout.write(`beanline-server: listening on ${server.url} (in memory; for development and tests)\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // As beanstalkd: SIGUSR1 puts the server in drain mode (every put gets DRAINING).
  process.on('SIGUSR1', () => server.drain());
} catch (error) {
  fail((error as Error).message);
}

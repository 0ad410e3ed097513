/**
 * `beanline dashboard`: the web dashboard in the foreground, on 127.0.0.1 unless told otherwise.
 * Any other address needs --auth-token or --auth-basic: a dashboard that can delete jobs is not
 * left open to a network by accident.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { Command } from 'commander';
import { createDashboard, isLoopback, type DashboardAuth } from '../../dashboard/index.js';
import { print, serverUrls, UsageError, wholeNumber } from '../context.js';

interface DashboardFlags {
  port: string;
  host: string;
  basePath?: string;
  readOnly?: boolean;
  authToken?: string;
  authBasic?: string;
  allowedOrigin?: string[];
  allowedHost?: string[];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The credentials the flags ask for, or null; both at once, or a malformed one, is a usage error. */
export function authFrom(flags: Pick<DashboardFlags, 'authToken' | 'authBasic'>): DashboardAuth | null {
  if (flags.authToken !== undefined && flags.authBasic !== undefined) throw new UsageError('give --auth-token or --auth-basic, not both');
  if (flags.authToken !== undefined) {
    if (flags.authToken.length < 8) throw new UsageError('--auth-token must be at least 8 characters');
    return { token: flags.authToken };
  }
  if (flags.authBasic !== undefined) {
    const colon = flags.authBasic.indexOf(':');
    if (colon <= 0 || colon === flags.authBasic.length - 1) throw new UsageError('--auth-basic takes user:password');
    return { user: flags.authBasic.slice(0, colon), password: flags.authBasic.slice(colon + 1) };
  }
  return null;
}

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('the web dashboard: see and steer the queues in a browser')
    .option('--port <port>', 'the port to listen on', '7420')
    .option('--host <host>', 'the address to listen on; other than 127.0.0.1 needs --auth-token or --auth-basic', '127.0.0.1')
    .option('--base-path <path>', 'serve under this path, such as /queues')
    .option('--read-only', 'show no action and refuse every change')
    .option('--auth-token <token>', 'ask for this token (as a Bearer token, or as the password of the browser login); default $BEANLINE_DASHBOARD_TOKEN')
    .option('--auth-basic <user:password>', 'ask for this user name and password')
    .option('--allowed-origin <origin>', 'behind a proxy that rewrites Host: the public origin changes come from (repeatable)', collect)
    .option('--allowed-host <name>', 'without auth, a host name besides localhost the dashboard may be reached under (repeatable)', collect)
    .addHelpText('after', '\nExample:\n  beanline --url beanstalk://a:11300,beanstalk://b:11300 dashboard --port 7420 --read-only')
    .action(async (flags: DashboardFlags, command: Command) => {
      const port = wholeNumber('port', flags.port);
      if (port > 65535) throw new UsageError(`port must be at most 65535, got ${port}`);
      // From the environment, the token stays out of `ps` and shell history.
      const fromEnv = process.env['BEANLINE_DASHBOARD_TOKEN'];
      const auth = authFrom(flags.authToken === undefined && flags.authBasic === undefined && fromEnv !== undefined && fromEnv !== '' ? { authToken: fromEnv } : flags);
      if (auth === null && !isLoopback(flags.host)) {
        throw new UsageError(
          `refusing to serve the dashboard on ${flags.host} without authentication: anyone who can reach it could delete jobs. ` +
            'Give --auth-token or --auth-basic, or keep the default --host 127.0.0.1',
        );
      }
      const urls = serverUrls(command);
      let dashboard;
      try {
        dashboard = createDashboard({
          servers: urls,
          basePath: flags.basePath ?? '',
          readOnly: flags.readOnly === true,
          allowedOrigins: flags.allowedOrigin ?? [],
          allowedHosts: flags.allowedHost ?? [],
          ...(auth === null ? {} : { auth }),
        });
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const server = http.createServer(dashboard);
      server.listen(port, flags.host);
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      const shownHost = flags.host.includes(':') ? `[${flags.host}]` : flags.host;
      const base = (flags.basePath ?? '').replace(/^\/*/, '/').replace(/\/*$/, '/');
      print(`beanline dashboard on http://${shownHost}:${bound}${base} for ${urls.join(', ')}${flags.readOnly === true ? ' (read-only)' : ''}`);
      const stop = (): void => {
        dashboard.close();
        server.close();
        server.closeAllConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await once(server, 'close');
    });
}

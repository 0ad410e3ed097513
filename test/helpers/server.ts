/**
 * Starts the servers tests talk to, on free ports of 127.0.0.1, each a process of its own killed by
 * PID: a real beanstalkd from PATH, or beanline's embedded server run by its bin
 * (`beanline-server`), as $BEANLINE_TEST_SERVER says (`beanstalkd` or `embedded`; by default
 * beanstalkd when it is on PATH, else the embedded one). A process of its own, not one inside the
 * test: the tests then see the embedded server as they see beanstalkd (its own timing, nothing of
 * it among the test's handles), and can kill, stop and drain it by signal alike. With
 * $BEANSTALKD_URL set, `sharedServer()` hands back that server instead (tests that need to start,
 * kill or configure their own server always start one).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The embedded server's bin, compiled next to the tests (dist/src/server/bin.js). */
const EMBEDDED_BIN = fileURLToPath(new URL('../../src/server/bin.js', import.meta.url));

export type ServerKind = 'beanstalkd' | 'embedded';

function beanstalkdOnPath(): boolean {
  return spawnSync('beanstalkd', ['-v'], { stdio: 'ignore' }).error === undefined;
}

function chosenKind(): ServerKind {
  const asked = process.env['BEANLINE_TEST_SERVER'];
  if (asked === 'beanstalkd' || asked === 'embedded') return asked;
  if (asked !== undefined && asked !== '') throw new Error(`BEANLINE_TEST_SERVER must be beanstalkd or embedded, got ${asked}`);
  return beanstalkdOnPath() ? 'beanstalkd' : 'embedded';
}

/** The kind of server this test run starts. */
export const SERVER_KIND: ServerKind = chosenKind();

/**
 * For tests that need a real beanstalkd (a binlog): the reason they are skipped on the embedded
 * server, or false. Use as `test(name, { skip: NEEDS_BEANSTALKD }, ...)`.
 */
export const NEEDS_BEANSTALKD: string | false = SERVER_KIND === 'embedded' ? 'needs beanstalkd on PATH' : false;

export interface ServerOptions {
  /** beanstalkd's -z: the max job size. */
  maxJobSize?: number;
  /** beanstalkd's -b: a binlog directory. */
  binlogDir?: string;
  /** A fixed port (for restarting on the same port); default a free one. */
  port?: number;
}

export interface TestServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The server's PID, or undefined for an external or embedded server. */
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL unless told otherwise) and waits for it to exit; an embedded one drops every connection. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Puts it in drain mode: every put gets DRAINING (SIGUSR1 for beanstalkd). */
  drain(): void;
}

const running = new Set<ChildProcess>();

// A failed or interrupted test run must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `server` listening on a free port of 127.0.0.1; resolves with the port. */
export async function listenLocally(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  const port = await listenLocally(probe);
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Resolves once the server accepts a connection on the port; beanstalkd prints nothing when ready. */
async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before it listened on ${port}`);
    }
    const socket = net.connect({ host: '127.0.0.1', port });
    try {
      await once(socket, 'connect');
      // Quit and wait for the server to hang up: it has then counted the probe's connection out,
      // so a test's first `stats` sees only its own connections.
      socket.resume();
      socket.end('quit\r\n');
      await once(socket, 'close', { signal: AbortSignal.timeout(Math.max(deadline - Date.now(), 100)) });
      return;
    } catch {
      socket.destroy();
      if (Date.now() > deadline) throw new Error(`the server did not listen on ${port} within ${deadlineMs} ms`);
      // The connect attempt is the readiness event; a short pause keeps the loop from spinning.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  return startKind(SERVER_KIND, options);
}

/** A real beanstalkd from PATH, whatever SERVER_KIND says (for tests that hold the embedded one to it). */
export function startBeanstalkd(options: ServerOptions = {}): Promise<TestServer> {
  return startKind('beanstalkd', options);
}

/** The embedded server in a process of its own, whatever SERVER_KIND says. */
export function startEmbeddedServer(options: ServerOptions = {}): Promise<TestServer> {
  return startKind('embedded', options);
}

/** The command that runs a server of `kind` on `port`. */
function serverCommand(kind: ServerKind, port: number, options: ServerOptions): [string, string[]] {
  if (kind === 'embedded') {
    if (options.binlogDir !== undefined) throw new Error('the embedded server has no binlog: this test needs beanstalkd on PATH');
    const args = [EMBEDDED_BIN, '--host', '127.0.0.1', '--port', String(port)];
    if (options.maxJobSize !== undefined) args.push('--max-job-size', String(options.maxJobSize));
    return [process.execPath, args];
  }
  const args = ['-l', '127.0.0.1', '-p', String(port)];
  if (options.maxJobSize !== undefined) args.push('-z', String(options.maxJobSize));
  if (options.binlogDir !== undefined) args.push('-b', options.binlogDir);
  return ['beanstalkd', args];
}

async function startKind(kind: ServerKind, options: ServerOptions): Promise<TestServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = options.port ?? (await freePort());
    const [command, args] = serverCommand(kind, port, options);
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const spawned = await Promise.race([
      once(child, 'spawn').then(() => null),
      once(child, 'error').then(([error]) => error as Error),
    ]);
    if (spawned !== null) {
      throw new Error(`cannot start ${command} (for beanstalkd: apt-get install beanstalkd): ${spawned.message}`);
    }
    running.add(child);
    try {
      await waitForPort(port, child, 5000);
    } catch (error) {
      child.kill('SIGKILL');
      running.delete(child);
      // Another process may have taken the free port between the probe and the spawn.
      if (attempt < 5 && options.port === undefined) continue;
      throw new Error(`${(error as Error).message}; stderr: ${stderr}`);
    }
    const exited = once(child, 'exit');
    const server: TestServer = {
      host: '127.0.0.1',
      port,
      url: `beanstalk://127.0.0.1:${port}`,
      pid: child.pid,
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(signal);
          await exited;
        }
        running.delete(child);
      },
      drain() {
        child.kill('SIGUSR1');
      },
    };
    return server;
  }
}

/** A server for one test file, stopped when the file's tests end. */
export async function serverForFile(options: ServerOptions = {}): Promise<TestServer> {
  const server = await startServer(options);
  after(() => server.kill());
  return server;
}

/**
 * The server most tests use: $BEANSTALKD_URL when set, else one spawned for this file. Tests on a
 * shared server use tube names of their own so they do not see each other's jobs.
 */
export async function sharedServer(): Promise<TestServer> {
  const url = process.env['BEANSTALKD_URL'];
  if (url === undefined || url === '') return serverForFile();
  const parsed = new URL(url);
  const port = Number(parsed.port || 11300);
  return {
    host: parsed.hostname,
    port,
    url,
    pid: undefined,
    async kill() {},
    drain() {
      throw new Error('cannot put a server given by BEANSTALKD_URL in drain mode');
    },
  };
}

let tubeCounter = 0;
/** A tube name no other test (or earlier run against the same server) uses. */
export function uniqueTube(label = 't'): string {
  tubeCounter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${tubeCounter}`;
}

/**
 * Starts real beanstalkd servers for tests: from PATH, on a free port of 127.0.0.1, killed by PID.
 * With $BEANSTALKD_URL set, `shared()` hands back that server instead (tests that need to start,
 * kill or configure their own server always spawn one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after } from 'node:test';

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
  /** The server's PID, or undefined for an external server. */
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL unless told otherwise) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
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

/** Resolves once something accepts TCP connections on the port; beanstalkd prints nothing when ready. */
async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`beanstalkd exited (${child.exitCode ?? child.signalCode}) before it listened on ${port}`);
    }
    const socket = net.connect({ host: '127.0.0.1', port });
    try {
      await once(socket, 'connect');
      socket.destroy();
      return;
    } catch {
      socket.destroy();
      if (Date.now() > deadline) throw new Error(`beanstalkd did not listen on ${port} within ${deadlineMs} ms`);
      // The connect attempt is the readiness event; a short pause keeps the loop from spinning.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = options.port ?? (await freePort());
    const args = ['-l', '127.0.0.1', '-p', String(port)];
    if (options.maxJobSize !== undefined) args.push('-z', String(options.maxJobSize));
    if (options.binlogDir !== undefined) args.push('-b', options.binlogDir);
    const child = spawn('beanstalkd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const spawned = await Promise.race([
      once(child, 'spawn').then(() => null),
      once(child, 'error').then(([error]) => error as Error),
    ]);
    if (spawned !== null) {
      throw new Error(`cannot start beanstalkd (is it installed? apt-get install beanstalkd): ${spawned.message}`);
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
  };
}

let tubeCounter = 0;
/** A tube name no other test (or earlier run against the same server) uses. */
export function uniqueTube(label = 't'): string {
  tubeCounter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${tubeCounter}`;
}

/**
 * Finds a beanstalkd for the examples: $BEANSTALKD_URL, else one on 127.0.0.1:11300, else a
 * private one started from PATH on a free port, else beanline's embedded server, so that the demo
 * runs on a machine with nothing but Node. Whatever it starts, the returned `stop` stops.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { startServer } from '../src/server/index.js';

export interface LocalServer {
  url: string;
  /** Which server this is and how it was found, in one line, for the demo to print. */
  origin: string;
  stop(): Promise<void>;
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** A private beanstalkd from PATH, or null when PATH has none. */
async function beanstalkdFromPath(): Promise<LocalServer | null> {
  const port = await freePort();
  const child = spawn('beanstalkd', ['-l', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const [error] = (await Promise.race([once(child, 'spawn').then(() => []), once(child, 'error')])) as [NodeJS.ErrnoException?];
  // Only a missing binary means "none here"; one that is there and cannot run is worth an error.
  if (error?.code === 'ENOENT') return null;
  if (error !== undefined) throw new Error(`cannot start beanstalkd from PATH: ${error.message}`, { cause: error });
  // beanstalkd says nothing when it is ready; its port answering is the sign.
  for (let tries = 0; !(await reachable(port)); tries += 1) {
    if (tries > 200) throw new Error(`beanstalkd did not listen on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const exited = once(child, 'exit');
  const url = `beanstalk://127.0.0.1:${port}`;
  return {
    url,
    origin: `beanstalkd at ${url} (started from PATH for this run)`,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}

export async function localServer(): Promise<LocalServer> {
  const fromEnv = process.env['BEANSTALKD_URL'];
  if (fromEnv) return { url: fromEnv, origin: `beanstalkd at ${fromEnv} (from $BEANSTALKD_URL)`, stop: async () => {} };
  if (await reachable(11300)) {
    const url = 'beanstalk://127.0.0.1:11300';
    return { url, origin: `beanstalkd at ${url} (already running)`, stop: async () => {} };
  }
  const started = await beanstalkdFromPath();
  if (started !== null) return started;

  // A free port rather than 11300, so that a beanstalkd started later is not shadowed by this one.
  const embedded = await startServer();
  return {
    url: embedded.url,
    origin: `no beanstalkd found: running on beanline's embedded server (in memory, for development) at ${embedded.url}`,
    stop: () => embedded.close(),
  };
}

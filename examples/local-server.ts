/**
 * Finds a beanstalkd for the examples: $BEANSTALKD_URL, else one on 127.0.0.1:11300, else a
 * private one started from PATH on a free port (stopped by the returned function).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

export interface LocalServer {
  url: string;
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

export async function localServer(): Promise<LocalServer> {
  const fromEnv = process.env['BEANSTALKD_URL'];
  if (fromEnv) return { url: fromEnv, stop: async () => {} };
  if (await reachable(11300)) return { url: 'beanstalk://127.0.0.1:11300', stop: async () => {} };

  const port = await freePort();
  const child = spawn('beanstalkd', ['-l', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const [error] = (await Promise.race([once(child, 'spawn').then(() => []), once(child, 'error')])) as [Error?];
  if (error !== undefined) {
    throw new Error(
      'no beanstalkd found: set BEANSTALKD_URL, start one on 127.0.0.1:11300 (docker compose up -d), ' +
        'or install it (apt-get install beanstalkd, brew install beanstalkd)',
      { cause: error },
    );
  }
  // beanstalkd says nothing when it is ready; its port answering is the sign.
  for (let tries = 0; !(await reachable(port)); tries += 1) {
    if (tries > 200) throw new Error(`beanstalkd did not listen on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const exited = once(child, 'exit');
  return {
    url: `beanstalk://127.0.0.1:${port}`,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}

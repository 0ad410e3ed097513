/**
 * A beanstalkd with a binlog (-b) in a fresh temporary directory, to crash with SIGKILL and start
 * again on the same port with the same binlog. The server is killed and the directory removed when
 * the test ends, whatever the outcome.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startServer, type TestServer } from './server.js';

export interface DurableServer {
  readonly port: number;
  readonly url: string;
  readonly binlogDir: string;
  /** Kills the server with SIGKILL, as a crash would (no chance to flush or fsync anything). */
  crash(): Promise<void>;
  /** Starts a new server on the same port and binlog; it replays the binlog before it listens. */
  restart(): Promise<void>;
}

export async function durableServer(t: TestContext): Promise<DurableServer> {
  const binlogDir = await mkdtemp(join(tmpdir(), 'beanline-binlog-'));
  let server: TestServer | undefined;
  t.after(async () => {
    await server?.kill();
    await rm(binlogDir, { recursive: true, force: true });
  });
  server = await startServer({ binlogDir });
  const { port, url } = server;
  return {
    port,
    url,
    binlogDir,
    async crash() {
      await server?.kill('SIGKILL');
      server = undefined;
    },
    async restart() {
      if (server !== undefined) throw new Error('restart(): the server is still running; crash() it first');
      server = await startServer({ port, binlogDir });
    },
  };
}

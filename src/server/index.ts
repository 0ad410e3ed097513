/**
 * `beanline/server`: a beanstalkd in this process, on a real TCP socket, held reply for reply to
 * beanstalkd 1.12 by differential tests. In memory only (no binlog): for development, tests and
 * demos, not production.
 */
import net from 'node:net';
import { Conn, type ConnHost } from './conn.js';
import { Dispatcher } from './dispatch.js';
import { Queue } from './queue.js';
import { State } from './state.js';
import { identity } from './stats.js';

export interface ServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port, chosen by the system. */
  port?: number;
  /** The largest job body accepted, as beanstalkd's -z. Default 65535. */
  maxJobSize?: number;
}

export interface EmbeddedServer {
  /** `beanstalk://host:port`, for any beanline option that takes a URL. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every `put` gets DRAINING from now on, as beanstalkd after SIGUSR1. */
  drain(): void;
  /** Stops listening and closes every connection (their reserved jobs are dropped with the server). */
  close(): Promise<void>;
}

const DEFAULT_MAX_JOB_SIZE = 65535;
/** beanstalkd's own limit for -z. */
const MAX_JOB_SIZE_LIMIT = 1073741824;

/** Starts an embedded beanstalkd; resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<EmbeddedServer> {
  const host = options.host ?? '127.0.0.1';
  const maxJobSize = options.maxJobSize ?? DEFAULT_MAX_JOB_SIZE;
  if (!Number.isInteger(maxJobSize) || maxJobSize < 0 || maxJobSize > MAX_JOB_SIZE_LIMIT) {
    throw new RangeError(`maxJobSize must be a whole number from 0 to ${MAX_JOB_SIZE_LIMIT}, got ${String(maxJobSize)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be a whole number from 0 to 65535, got ${String(port)}`);
  }
  const state = new State(maxJobSize);
  const queue = new Queue(state);
  const dispatcher = new Dispatcher(state, queue, identity());
  const conns = new Set<Conn>();
  let timer: NodeJS.Timeout | null = null;
  let closing = false;

  /** prottick after every turn of I/O, and again when the soonest deadline comes. */
  const settle = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (closing) return;
    const periodNs = queue.tick();
    timer = setTimeout(settle, Math.max(0, Math.ceil(periodNs / 1e6)));
    timer.unref();
  };
  const connHost: ConnHost = {
    state,
    queue,
    dispatch: (conn, line) => dispatcher.line(conn, line),
    putBody: (conn, body) => dispatcher.body(conn, body),
    settle,
    tick: () => {
      queue.tick();
    },
    closed: (conn) => {
      dispatcher.forget(conn);
      conns.delete(conn);
    },
  };
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
    conns.add(new Conn(socket, connHost));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  settle();
  const address = listener.address() as net.AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `beanstalk://${shownHost}:${address.port}`,
    host: address.address,
    port: address.port,
    drain: () => {
      state.draining = true;
    },
    close: async () => {
      closing = true;
      if (timer !== null) clearTimeout(timer);
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const conn of [...conns]) conn.destroy();
      await closed;
    },
  };
}

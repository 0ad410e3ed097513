/**
 * A TCP peer on 127.0.0.1 that is NOT beanstalkd. Only for faults a real server does not produce on
 * demand: silence, garbage, absurd replies, a close in the middle of a reply. Anything beanstalkd
 * really does is tested against a real beanstalkd.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { listenLocally } from './server.js';

export interface Peer {
  /** The server side of the client's connection. */
  readonly socket: net.Socket;
  /** Resolves when that connection is gone (closed by either side). */
  readonly closed: Promise<void>;
}

export interface FakeServer {
  readonly port: number;
  /** The first connection accepted. */
  readonly peer: Promise<Peer>;
}

/** What the fake does with each connection it accepts. */
export type Behaviour = (socket: net.Socket) => void;

/**
 * Listens on a free port of 127.0.0.1; every connection gets `behave`. The server and all its
 * connections are destroyed when the test ends.
 */
export async function fakeServer(t: TestContext, behave: Behaviour): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  let accepted!: (peer: Peer) => void;
  const peer = new Promise<Peer>((resolve) => {
    accepted = resolve;
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    // The client resetting the connection is expected here, not a failure of the fake.
    socket.on('error', () => {});
    // Not events.once: that would reject on the 'error' a reset brings before 'close'.
    const closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        sockets.delete(socket);
        resolve();
      });
    });
    accepted({ socket, closed });
    behave(socket);
  });
  const port = await listenLocally(server);
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });
  return { port, peer };
}

/** Reads everything and never answers. */
export const silent: Behaviour = (socket) => {
  socket.resume();
};

/** Once the client's first bytes arrive, does `act` (and keeps reading whatever follows). */
export function onFirstCommand(act: (socket: net.Socket) => void): Behaviour {
  return (socket) => {
    let acted = false;
    socket.on('data', () => {
      if (acted) return;
      acted = true;
      act(socket);
    });
  };
}

/** Answers the client's first bytes with `bytes`, then stays silent. */
export function replyOnce(bytes: string): Behaviour {
  return onFirstCommand((socket) => socket.write(bytes));
}

/** Writes `bytes` as soon as the connection is accepted, before the client sent anything. */
export function greet(bytes: string): Behaviour {
  return (socket) => {
    socket.resume();
    socket.write(bytes);
  };
}

/**
 * Answers with a line that never ends: writes filler without CRLF, respecting back-pressure, until
 * the client closes the connection or `limitBytes` have gone out.
 */
export function endlessLine(limitBytes: number): Behaviour {
  const chunk = Buffer.alloc(16 * 1024, 'x');
  return onFirstCommand((socket) => {
    let sent = 0;
    const pump = (): void => {
      while (!socket.destroyed && sent < limitBytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/**
 * A TLS terminator in front of a real beanstalkd (which speaks only plain TCP), in this process: it
 * listens on 127.0.0.1 with the test certificate and pipes each TLS connection to its own plain
 * connection to the server. The certificate and its CA are committed fixtures (test/fixtures/tls/,
 * valid for 100 years; generate.sh makes new ones), since a fresh machine may have no openssl CLI.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { TestContext } from 'node:test';
import tls from 'node:tls';
import { listenLocally } from './server.js';

const FIXTURES = new URL('../../../test/fixtures/tls/', import.meta.url);

/** The CA that signed the terminator's certificate (for 127.0.0.1 and localhost). */
export const TEST_CA = readFileSync(new URL('ca.pem', FIXTURES));
const SERVER_CERT = readFileSync(new URL('server.pem', FIXTURES));
const SERVER_KEY = readFileSync(new URL('server-key.pem', FIXTURES));

export class TlsTerminator {
  /** TLS connections that completed the handshake. */
  accepted = 0;
  /** Both sides of every connection carried now. */
  private readonly sockets = new Set<net.Socket>();
  private readonly listener: tls.Server;
  private readonly targetPort: number;

  /** Listens on a free port of 127.0.0.1 and forwards to beanstalkd on 127.0.0.1:`targetPort`. */
  static async start(targetPort: number): Promise<TlsTerminator> {
    const terminator = new TlsTerminator(targetPort);
    await listenLocally(terminator.listener);
    return terminator;
  }

  private constructor(targetPort: number) {
    this.targetPort = targetPort;
    this.listener = tls.createServer({ cert: SERVER_CERT, key: SERVER_KEY }, (socket) => this.accept(socket));
  }

  get port(): number {
    return (this.listener.address() as net.AddressInfo).port;
  }

  /** Destroys every connection, both sides, as a network failure would. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    this.cut();
    await closed;
  }

  private accept(client: tls.TLSSocket): void {
    this.accepted += 1;
    const server = net.connect({ host: '127.0.0.1', port: this.targetPort });
    this.carry(client, server);
    this.carry(server, client);
  }

  /** One direction; an error or close on either side closes the other. */
  private carry(from: net.Socket, to: net.Socket): void {
    this.sockets.add(from);
    from.pipe(to);
    from.on('error', () => to.destroy());
    from.on('close', () => {
      this.sockets.delete(from);
      to.destroy();
    });
  }
}

/** A terminator in front of beanstalkd on `targetPort`, closed when the test ends. */
export async function tlsTerminatorFor(t: TestContext, targetPort: number): Promise<TlsTerminator> {
  const terminator = await TlsTerminator.start(targetPort);
  t.after(() => terminator.close());
  return terminator;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real beanstalkd, in this process, that injects faults on
 * demand: connections cut, traffic stalled, replies delivered byte by byte or bundled into one
 * chunk, latency, new connections refused. The server stays real; only the path to it misbehaves.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { listenLocally } from './server.js';

/** The faults in force (read by every pipe at each delivery, so a change applies at once) and a counter. */
interface ProxyState {
  /** Server-to-client bytes held (`stall()` holds both directions, `stall('replies')` only this one). */
  repliesStalled: boolean;
  /** Client-to-server bytes held. */
  commandsStalled: boolean;
  latencyMs: number;
  /** Server to client only. */
  byteByByte: boolean;
  /** Server to client only: null, or the period at which buffered bytes go out as one chunk. */
  coalesceMs: number | null;
  /** Writes made to clients so far, over all connections. */
  writesToClients: number;
}

interface Chunk {
  data: Buffer;
  /** When it may be delivered (arrival plus latency). */
  readonly due: number;
}

/**
 * One direction of one proxied connection: bytes read from one socket, held as the faults say, then
 * written to the other. Chunks leave in the order they came.
 */
class Pipe {
  private readonly chunks: Chunk[] = [];
  private scheduled = false;
  private ending = false;

  constructor(
    private readonly to: net.Socket,
    private readonly state: ProxyState,
    private readonly toClient: boolean,
  ) {}

  push(data: Buffer): void {
    const previous = this.chunks.at(-1)?.due ?? 0;
    this.chunks.push({ data, due: Math.max(previous, Date.now() + this.state.latencyMs) });
    this.schedule();
  }

  /** The source ended: end the destination once everything held has gone out. */
  end(): void {
    this.ending = true;
    this.schedule();
  }

  /** Arranges the next delivery, if there is something to deliver and nothing holds it back. */
  schedule(): void {
    if (this.scheduled || this.stalled || this.to.destroyed) return;
    const head = this.chunks[0];
    if (head === undefined) {
      if (this.ending) this.to.end();
      return;
    }
    const wait = head.due - Date.now();
    const coalesceMs = this.toClient ? this.state.coalesceMs : null;
    if (wait <= 0 && coalesceMs === null && !(this.toClient && this.state.byteByByte)) {
      this.deliver();
      return;
    }
    this.scheduled = true;
    if (wait > 0 || coalesceMs !== null) setTimeout(this.deliver, Math.max(wait, coalesceMs ?? 0));
    else setImmediate(this.deliver);
  }

  private readonly deliver = (): void => {
    this.scheduled = false;
    if (this.stalled || this.to.destroyed) return;
    if (this.toClient && this.state.byteByByte) {
      this.deliverOneByte();
    } else {
      const now = Date.now();
      const due: Buffer[] = [];
      while (this.chunks.length > 0 && (this.chunks[0] as Chunk).due <= now) due.push((this.chunks.shift() as Chunk).data);
      const out = this.toClient && this.state.coalesceMs !== null ? [Buffer.concat(due)] : due;
      for (const data of out) this.write(data);
    }
    this.schedule();
  };

  private get stalled(): boolean {
    return this.toClient ? this.state.repliesStalled : this.state.commandsStalled;
  }

  private deliverOneByte(): void {
    const head = this.chunks[0] as Chunk;
    if (head.due > Date.now()) return;
    this.write(head.data.subarray(0, 1));
    head.data = head.data.subarray(1);
    if (head.data.length === 0) this.chunks.shift();
  }

  private write(data: Buffer): void {
    if (data.length === 0) return;
    if (this.toClient) this.state.writesToClients += 1;
    this.to.write(data);
  }
}

/** A client's connection and the proxy's own connection to the server for it. */
interface Pair {
  readonly client: net.Socket;
  readonly server: net.Socket;
  readonly up: Pipe;
  readonly down: Pipe;
}

export interface ProxyTarget {
  readonly host?: string;
  readonly port: number;
}

export class FaultProxy {
  /** Where clients connect; kept while refusing with 'unlisten'. */
  port = 0;
  /** Connections accepted from clients, including the ones refused. */
  accepted = 0;
  /** Connections closed at once because `refuse` was on. */
  refused = 0;
  private readonly state: ProxyState = {
    repliesStalled: false,
    commandsStalled: false,
    latencyMs: 0,
    byteByByte: false,
    coalesceMs: null,
    writesToClients: 0,
  };
  private refusing = false;
  private readonly pairs = new Set<Pair>();
  private readonly listener: net.Server;
  private readonly target: ProxyTarget;

  /** Listens on a free port of 127.0.0.1 and forwards each connection to `target`. */
  static async start(target: ProxyTarget): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    proxy.port = await listenLocally(proxy.listener);
    return proxy;
  }

  private constructor(target: ProxyTarget) {
    this.target = target;
    this.listener = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  get url(): string {
    return `beanstalk://127.0.0.1:${this.port}`;
  }

  /** Writes made to clients since the proxy started: a chunk, or a single byte when byte by byte. */
  get writesToClients(): number {
    return this.state.writesToClients;
  }

  /** Destroys every current connection, client side and server side, dropping what is held. */
  cut(): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.server.destroy();
    }
    this.pairs.clear();
  }

  /**
   * Reads on but forwards nothing, on every connection (new ones too), until `resume()`: either way,
   * or with 'replies' only from the server to the client (commands reach the server, answers do not).
   */
  stall(which: 'both' | 'replies' = 'both'): void {
    this.state.repliesStalled = true;
    this.state.commandsStalled = which === 'both';
  }

  /** Delivers everything held during the stall, in order, and forwards again. */
  resume(): void {
    this.state.repliesStalled = false;
    this.state.commandsStalled = false;
    this.eachPipe((pipe) => pipe.schedule());
  }

  /** Server-to-client bytes go out one per write, one write per event-loop turn. */
  byteByByte(on: boolean): void {
    this.state.byteByByte = on;
    this.eachPipe((pipe) => pipe.schedule());
  }

  /** Server-to-client bytes are held and go out as one chunk every `everyMs`. */
  coalesce(on: boolean, everyMs = 10): void {
    this.state.coalesceMs = on ? everyMs : null;
    this.eachPipe((pipe) => pipe.schedule());
  }

  /** Each chunk, either way, is held `ms` before it goes on (order kept). */
  latency(ms: number): void {
    this.state.latencyMs = ms;
  }

  /**
   * Refuses new connections (existing ones are left alone) until `refuse(false)`: 'close' accepts
   * each and closes it at once, as a load balancer with no server behind it does; 'unlisten' stops
   * listening, so connecting fails (ECONNREFUSED), as with no server at all.
   */
  async refuse(on: boolean, how: 'close' | 'unlisten' = 'close'): Promise<void> {
    this.refusing = on;
    if (on && how === 'unlisten' && this.listener.listening) {
      this.listener.close();
    } else if (!on && !this.listener.listening) {
      this.listener.listen(this.port, '127.0.0.1');
      await once(this.listener, 'listening');
    }
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    this.cut();
    if (!this.listener.listening) return;
    const closed = once(this.listener, 'close');
    this.listener.close();
    await closed;
  }

  private accept(client: net.Socket): void {
    this.accepted += 1;
    client.on('error', () => {});
    if (this.refusing) {
      this.refused += 1;
      client.destroy();
      return;
    }
    const server = net.connect({ host: this.target.host ?? '127.0.0.1', port: this.target.port, allowHalfOpen: true });
    server.on('error', () => {});
    server.setNoDelay(true);
    client.setNoDelay(true);
    const pair: Pair = {
      client,
      server,
      up: new Pipe(server, this.state, false),
      down: new Pipe(client, this.state, true),
    };
    this.pairs.add(pair);
    this.forward(client, pair.up, pair);
    this.forward(server, pair.down, pair);
  }

  /** Feeds what `from` reads into `pipe`; an end is passed on after the data, a reset tears down both. */
  private forward(from: net.Socket, pipe: Pipe, pair: Pair): void {
    from.on('data', (data: Buffer) => pipe.push(data));
    from.on('end', () => pipe.end());
    from.on('close', (hadError) => {
      if (hadError || (pair.client.destroyed && pair.server.destroyed)) this.drop(pair);
    });
    from.on('error', () => this.drop(pair));
  }

  private drop(pair: Pair): void {
    pair.client.destroy();
    pair.server.destroy();
    this.pairs.delete(pair);
  }

  private eachPipe(act: (pipe: Pipe) => void): void {
    for (const pair of this.pairs) {
      act(pair.up);
      act(pair.down);
    }
  }
}

/** A proxy in front of `target`, closed when the test ends. */
export async function proxyFor(t: TestContext, target: ProxyTarget): Promise<FaultProxy> {
  const proxy = await FaultProxy.start(target);
  t.after(() => proxy.close());
  return proxy;
}

import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import createDebug from 'debug';
import { ConnectionError, ProtocolError, TimeoutError } from './errors.js';
import { Fifo } from './fifo.js';
import type { ResolvedOptions } from './options.js';
import { DEFAULT_MAX_BODY_BYTES, ReplyParser, type Reply } from './protocol/parser.js';
import { COMMANDS, decodeReply, request, type Request } from './protocol/commands.js';
import { ReadPacer } from './read-pacer.js';

const logConnection = createDebug('beanline:connection');
const logCommand = createDebug('beanline:command');

/** Commands issued in one tick are written together, in writes of about this size at most. */
const BATCH_BYTES = 64 * 1024;
/** One read takes at most this much; the buffer is the connection's own and reused for every read. */
const READ_BUFFER_BYTES = 64 * 1024;
/** How long a paced socket is left unread (setTimeout's smallest step). */
const HOLD_MS = 1;
/** No reply comes to it: the server closes the connection. */
const QUIT = request(COMMANDS.quit, []).head;
const CR = 13;
const LF = 10;

/** A request on its way: its promise's ends travel with it. */
interface Pending {
  readonly request: Request;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

type State = 'open' | 'closing' | 'closed';

export interface ConnectionEvents {
  /** The socket is gone; `error` is undefined after a clean `close()`. */
  close: [error: Error | undefined];
  /** Emitted only when someone listens: every command affected already rejects. */
  error: [error: Error];
}

/**
 * One socket to beanstalkd, carrying any number of pipelined commands. It knows the wire framing and
 * the order of replies, nothing about jobs: replies are matched to commands first-in first-out.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly host: string;
  readonly port: number;
  private readonly socket: net.Socket;
  private readonly parser: ReplyParser;
  private readonly commandTimeoutMs: number;
  private readonly timeoutTimer: NodeJS.Timeout | null = null;
  /** Null when reads are not paced (TLS, or `coalesceReads: false`). */
  private readonly pacer: ReadPacer | null;
  private holdTimer: NodeJS.Timeout | null = null;
  /** Issued, not yet written (waiting for the next flush or for the socket to drain). */
  private readonly unsent = new Fifo<Pending>();
  /** Written, waiting for their replies, oldest first. */
  private readonly inflight = new Fifo<Pending>();
  private state: State = 'open';
  private flushScheduled = false;
  private quitSent = false;
  /** When the oldest in-flight command started waiting for its reply (only tracked with a timeout). */
  private headSince = 0;
  private closeReason: Error | undefined;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;

  static open(options: ResolvedOptions): Promise<Connection> {
    const { host, port } = options;
    return new Promise((resolve, reject) => {
      logConnection('connecting to %s:%d%s', host, port, options.tls ? ' (tls)' : '');
      // Plain TCP reads into one buffer of the connection's own, which is also what lets a read be
      // held back (pause() stops reading only in this mode); TLS gets its chunks as 'data' events.
      // Reads start after 'connect', whose handler below creates the Connection before any arrives.
      const reader: { connection: Connection | null } = { connection: null };
      const socket =
        options.tls === null
          ? net.connect({
              host,
              port,
              onread: {
                buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
                callback: (bytes, buffer) => reader.connection?.onRead(bytes, buffer) ?? true,
              },
            })
          : tls.connect({ host, port, ...(net.isIP(host) === 0 ? { servername: host } : {}), ...options.tls });
      const readyEvent = options.tls === null ? 'connect' : 'secureConnect';
      let timer: NodeJS.Timeout | undefined;
      const settle = (error: Error | null): void => {
        clearTimeout(timer);
        socket.removeListener(readyEvent, onReady);
        socket.removeListener('error', onError);
        if (error === null) {
          reader.connection = new Connection(socket, options);
          resolve(reader.connection);
          return;
        }
        socket.destroy();
        logConnection('connect to %s:%d failed: %s', host, port, error.message);
        reject(error);
      };
      const onReady = (): void => settle(null);
      const onError = (cause: Error): void =>
        settle(new ConnectionError(`cannot connect to beanstalkd at ${host}:${port}: ${cause.message}`, { cause }));
      socket.once(readyEvent, onReady);
      socket.once('error', onError);
      if (options.connectTimeoutMs > 0) {
        timer = setTimeout(
          () =>
            settle(
              new TimeoutError(
                `cannot connect to beanstalkd at ${host}:${port}: no connection within ${options.connectTimeoutMs} ms`,
                options.connectTimeoutMs,
                'connect',
              ),
            ),
          options.connectTimeoutMs,
        );
      }
    });
  }

  private constructor(socket: net.Socket, options: ResolvedOptions) {
    super();
    this.host = options.host;
    this.port = options.port;
    this.socket = socket;
    this.commandTimeoutMs = options.commandTimeoutMs;
    this.parser = new ReplyParser(this.onReply, {
      maxBodyBytes: options.maxReplyBytes ?? Math.max(DEFAULT_MAX_BODY_BYTES, options.maxJobSize ?? 0),
    });
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.pacer = options.tls === null && options.coalesceReads ? new ReadPacer() : null;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 15_000);
    if (options.tls !== null) socket.on('data', this.onData);
    socket.on('drain', this.flush);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    if (this.commandTimeoutMs > 0) {
      const period = Math.max(5, Math.min(1000, this.commandTimeoutMs / 4));
      this.timeoutTimer = setInterval(this.checkTimeout, period).unref();
    }
    logConnection('connected to %s:%d', this.host, this.port);
  }

  /** False once the connection is closing or closed: commands then reject at once. */
  get usable(): boolean {
    return this.state === 'open';
  }

  /** Commands queued or written and not yet answered. */
  get pending(): number {
    return this.inflight.length + this.unsent.length;
  }

  /** Lets bigger data blocks through the parser, once a server is known to send them. */
  allowReplyBytes(bytes: number): void {
    this.parser.allowBodyBytes(bytes);
  }

  /**
   * Queues one request. The promise settles with the decoded reply, or rejects (server error reply,
   * or connection loss).
   */
  send<T>(request: Request<T>): Promise<T> {
    if (this.state !== 'open') {
      const name = request.command.name;
      return Promise.reject(
        new ConnectionError(`${name}: the connection is ${this.state} (it was not sent)`, {
          command: name,
          maybeApplied: false,
          cause: this.closeReason,
        }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.unsent.push({ request, resolve: resolve as (value: unknown) => void, reject });
      if (logCommand.enabled) logCommand('-> %s', request.head.trimEnd());
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the current tick's microtasks too, so a burst of awaits still goes out in one write.
        process.nextTick(this.flush);
      }
    });
  }

  /**
   * Sends `quit` after everything queued, waits for the replies in flight, then closes. A reserve
   * still waiting for a job is rejected instead of awaited (the server keeps no job for it).
   */
  close(): Promise<void> {
    if (this.state === 'open') {
      this.state = 'closing';
      logConnection('closing %s:%d with %d command(s) pending', this.host, this.port, this.pending);
      this.flush();
    }
    return this.closed;
  }

  /** Closes at once; every pending command rejects with ConnectionError. */
  destroy(reason?: Error): void {
    this.shutdown(reason ?? new ConnectionError('the connection was destroyed by the client'));
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    while (this.unsent.length > 0 && this.state !== 'closed' && !this.socket.writableNeedDrain) {
      this.writeBatch();
    }
    if (this.state === 'closing' && this.unsent.length === 0 && !this.quitSent) {
      this.quitSent = true;
      this.socket.end(QUIT);
    }
    this.releaseBlockedClose();
  };

  /** Writes the oldest unsent commands, up to BATCH_BYTES (or one larger command), in one write. */
  private writeBatch(): void {
    let bytes = 0;
    let count = 0;
    for (let next = this.unsent.at(0); next !== undefined; next = this.unsent.at(count)) {
      const { head, body } = next.request;
      const size = head.length + (body === null ? 0 : body.length + 2);
      if (count > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      count += 1;
    }
    const out = Buffer.allocUnsafe(bytes);
    let offset = 0;
    for (let i = 0; i < count; i += 1) {
      const pending = this.unsent.shift() as Pending;
      const { request } = pending;
      offset += out.write(request.head, offset, 'latin1');
      if (request.body !== null) {
        offset += request.body.copy(out, offset);
        out[offset++] = CR;
        out[offset++] = LF;
        request.body = null;
      }
      if (this.inflight.length === 0 && this.commandTimeoutMs > 0) this.headSince = Date.now();
      this.inflight.push(pending);
    }
    this.socket.write(out);
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.parser.push(chunk);
    } catch (error) {
      this.shutdown(error instanceof ProtocolError ? error : new ProtocolError('cannot read reply', { cause: error }));
    }
  };

  /** A plain TCP read; returning false pauses the socket until the hold ends. */
  private onRead(bytes: number, buffer: Uint8Array): boolean {
    const due = this.inflight.length;
    this.onData(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
    if (this.pacer === null || this.state === 'closed') return true;
    // Replies are read inside this call and commands are only written on a later tick, so the
    // difference is exactly the replies this read brought.
    const wasHolding = this.pacer.holds;
    const hold = this.pacer.afterRead(due, due - this.inflight.length, performance.now());
    if (this.pacer.holds !== wasHolding) {
      logConnection('%s:%d: reads with a deep pipeline are now %s', this.host, this.port, this.pacer.holds ? 'held' : 'free');
    }
    if (!hold) return true;
    this.holdTimer = setTimeout(this.endHold, HOLD_MS);
    return false;
  }

  private readonly endHold = (): void => {
    this.holdTimer = null;
    this.socket.resume();
  };

  private readonly onReply = (reply: Reply): void => {
    // The rest of a chunk that arrived as the connection was torn down.
    if (this.state === 'closed') return;
    const pending = this.inflight.shift();
    if (pending === undefined) {
      throw new ProtocolError(`received a ${reply.word} reply while no command was waiting`);
    }
    if (this.commandTimeoutMs > 0) this.headSince = Date.now();
    if (logCommand.enabled) logCommand('<- %s %s', reply.word, reply.args.join(' '));
    let value: unknown;
    try {
      value = decodeReply(pending.request, reply);
    } catch (error) {
      pending.reject(error as Error);
      // A reply the command cannot get means replies and commands are out of step: nothing after it can be trusted.
      if (error instanceof ProtocolError) throw error;
      return;
    }
    pending.resolve(value);
    if (this.state === 'closing') this.releaseBlockedClose();
  };

  /** During close(): a reserve at the head would wait forever for a job, holding the quit back. */
  private releaseBlockedClose(): void {
    if (this.state !== 'closing') return;
    const head = this.inflight.peek();
    if (head !== undefined && head.request.holdMs > 0) {
      // A clean close for the connection; only the waiting commands learn why they end.
      this.shutdown(undefined, undefined, new ConnectionError('the client closed the connection while the command was waiting for a job'));
    }
  }

  private readonly checkTimeout = (): void => {
    const head = this.inflight.peek()?.request;
    if (head === undefined || head.holdMs === Infinity) return;
    const limit = this.commandTimeoutMs + head.holdMs;
    if (Date.now() - this.headSince < limit) return;
    const name = head.command.name;
    this.shutdown(
      new ConnectionError(`an earlier command (${name}) timed out, so the connection was closed`),
      new TimeoutError(`${name}: no reply within ${limit} ms; the connection was closed`, limit, name),
    );
  };

  private readonly onSocketError = (error: Error): void => {
    this.shutdown(new ConnectionError(`connection to ${this.host}:${this.port} failed: ${error.message}`, { cause: error }));
  };

  private readonly onSocketClose = (): void => {
    if (this.state === 'closing' && this.pending === 0) {
      this.shutdown(undefined);
      return;
    }
    this.shutdown(new ConnectionError(`the server at ${this.host}:${this.port} closed the connection`));
  };

  /**
   * The one way out: rejects everything pending and destroys the socket. `reason` is undefined for a
   * clean close; `headError`, if given, goes to the oldest in-flight command; `pendingCause` says why
   * pending commands end when the close itself is clean.
   */
  private shutdown(reason: Error | undefined, headError?: Error, pendingCause?: Error): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    if (this.timeoutTimer !== null) clearInterval(this.timeoutTimer);
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.socket.destroy();
    const cause = reason ?? pendingCause ?? new ConnectionError('the connection was closed');
    const inflight = this.inflight.drain();
    const unsent = this.unsent.drain();
    if (reason !== undefined || inflight.length + unsent.length > 0) {
      logConnection('%s:%d closed: %s (%d in flight, %d unsent)', this.host, this.port, cause.message, inflight.length, unsent.length);
    } else {
      logConnection('%s:%d closed', this.host, this.port);
    }
    inflight.forEach((cmd, index) => cmd.reject(index === 0 && headError ? headError : lostError(cmd, cause, true)));
    for (const cmd of unsent) cmd.reject(lostError(cmd, cause, false));
    this.markClosed();
    this.emit('close', reason);
    if (reason !== undefined && this.listenerCount('error') > 0) this.emit('error', reason);
  }
}

function lostError(pending: Pending, reason: Error, written: boolean): Error {
  const name = pending.request.command.name;
  if (written && reason instanceof ProtocolError) {
    return new ProtocolError(`${name}: ${reason.message}`, { cause: reason, command: name });
  }
  const applied = written ? 'it may have been applied' : 'it was not sent';
  return new ConnectionError(`${name}: ${reason.message} (${applied})`, {
    command: name,
    maybeApplied: written,
    cause: reason,
  });
}

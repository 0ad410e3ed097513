/**
 * One client connection of the embedded server: its bytes in (command lines, job bodies, bytes to
 * throw away), its replies out, and what beanstalkd keeps per connection (conn.c): the tube in use,
 * the watch list, its reserved jobs, whether it waits in a reserve.
 *
 * Input is read as beanstalkd reads it (prot.c: conn_process_io, scan_line_end): a line ends at the
 * first CR if an LF follows it; a line that fills the 224-byte buffer without one is thrown away up
 * to the next CRLF and answered BAD_FORMAT. While a reserve waits, later commands wait unread.
 */
import type net from 'node:net';
import { LINE_MAX_BYTES } from '../protocol/command-line.js';
import { Ms } from './ms.js';
import type { Queue, QueueConn } from './queue.js';
import type { Job, State, Tube } from './state.js';

const CR = 13;
const LF = 10;
/** Replies held for one write at most: past this they go out before the next command runs. */
const OUT_BATCH_BYTES = 64 * 1024;

type InputState = 'command' | 'body' | 'discard' | 'endline' | 'wait' | 'closed';

/** What a connection asks of the server that owns it. */
export interface ConnHost {
  readonly state: State;
  readonly queue: Queue;
  /** Runs one complete command line (without CRLF). */
  dispatch(conn: Conn, line: Buffer): void;
  /** The body of a put has arrived (CRLF included, unchecked). */
  putBody(conn: Conn, body: Buffer): void;
  /** After bytes were handled: due delays and timeouts, connections woken meanwhile. */
  settle(): void;
  /**
   * Between two commands of one connection: beanstalkd answers each before it reads the next, with
   * a turn of its loop (and its tick: delays, pauses, timeouts) in between.
   */
  tick(): void;
  closed(conn: Conn): void;
}

export class Conn implements QueueConn {
  heapIndex = -1;
  tickAt = 0;
  inTimers = false;
  waiting = false;
  pendingTimeout = -1;
  readonly reserved = new Set<Job>();
  soonestJob: Job | null = null;
  readonly watch: Ms<Tube>;
  use: Tube;
  producer = false;
  worker = false;

  private input: InputState = 'command';
  /** Bytes received and not yet consumed. */
  private pending: Buffer = Buffer.alloc(0);
  /** While reading a put's body: the body so far and its full size (CRLF included). */
  private body: Buffer | null = null;
  private bodyRead = 0;
  /** Bytes still to throw away, and the reply that comes after them (JOB_TOO_BIG). */
  private discarding = 0;
  private afterDiscard = '';
  private out: (string | Buffer)[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  /**
   * The socket's buffer is full: like beanstalkd, which reads no command while a reply waits to be
   * written, stop reading and running commands until it drains, so a client that never reads its
   * replies cannot make the server hold them all.
   */
  private blocked = false;
  /** The client sent FIN: what it sent before is still run, then the connection closes. */
  private ended = false;
  private gone = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly host: ConnHost,
  ) {
    const { state } = host;
    this.watch = new Ms<Tube>(
      (tube) => {
        state.ref(tube);
        tube.watching += 1;
      },
      (tube) => {
        tube.watching -= 1;
        state.unref(tube);
      },
    );
    this.watch.append(state.defaultTube);
    this.use = state.defaultTube;
    state.ref(this.use);
    this.use.using += 1;
    state.connections += 1;
    state.totalConnections += 1;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.receive(chunk);
      host.settle();
    });
    // A client that hangs up while waiting gets TIMED_OUT (beanstalkd answers the hangup so), and
    // whatever it sent before its FIN still runs.
    socket.on('end', () => {
      this.ended = true;
      if (this.input === 'wait') this.timedOutOnHangup();
      else this.consume();
      host.settle();
    });
    socket.on('drain', () => {
      this.blocked = false;
      socket.resume();
      this.consume();
      host.settle();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }


  /** Waits in a reserve; -1: as long as it takes. */
  waitForJob(timeout: number): void {
    this.input = 'wait';
    this.host.queue.startWaiting(this, timeout);
    this.host.queue.schedule(this);
    if (this.ended) this.timedOutOnHangup();
  }

  sendReserved(job: Job): void {
    this.sendJob('RESERVED', job.id, job.body);
    this.resume();
  }

  sendWord(word: 'DEADLINE_SOON' | 'TIMED_OUT'): void {
    this.reply(`${word}\r\n`);
    this.resume();
  }

  /** A one-line reply (the connection's deadline is reconsidered after each, as beanstalkd does). */
  reply(line: string): void {
    this.out.push(line);
    this.outBytes += line.length;
    this.host.queue.schedule(this);
    this.flushSoon();
  }

  /** A reply with a data block: `<word> <id> <bytes>` or `OK <bytes>`, then the data and CRLF. */
  sendJob(word: string, id: number | null, data: Buffer | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.out.push(id === null ? `${word} ${bytes.length}\r\n` : `${word} ${id} ${bytes.length}\r\n`, bytes, '\r\n');
    this.outBytes += bytes.length + 32;
    this.host.queue.schedule(this);
    this.flushSoon();
  }

  /** Throws away the next `bytes` bytes (a body too big), then replies `line`. */
  discard(bytes: number, line: string): void {
    this.discarding = bytes;
    this.afterDiscard = line;
    this.input = 'discard';
  }

  /** Reads a put's body of `bytes` bytes (its CRLF included). */
  expectBody(bytes: number): void {
    this.body = Buffer.allocUnsafe(bytes);
    this.bodyRead = 0;
    this.input = 'body';
  }

  /** The server is closing: the socket goes at once. */
  destroy(): void {
    this.socket.destroy();
    this.close();
  }

  /** `quit`: no reply, and nothing after it is read. */
  quit(): void {
    this.close();
  }

  /** Connection gone: its reserve ends, its reserved jobs go back to ready, its tubes are let go. */
  close(): void {
    if (this.gone) return;
    this.gone = true;
    this.input = 'closed';
    this.flush();
    if (!this.socket.destroyed) this.socket.end();
    const { state, queue } = this.host;
    if (this.producer) state.producers -= 1;
    if (this.worker) state.workers -= 1;
    state.connections -= 1;
    queue.stopWaiting(this);
    queue.releaseAll(this);
    this.watch.clear();
    this.use.using -= 1;
    state.unref(this.use);
    queue.unschedule(this);
    this.host.closed(this);
  }

  private receive(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.consume();
  }

  /** After a waiting reserve was answered: the commands that queued behind it. */
  private resume(): void {
    if (this.input !== 'wait') return;
    this.input = 'command';
    setImmediate(() => {
      this.consume();
      this.host.settle();
    });
  }

  private timedOutOnHangup(): void {
    this.pendingTimeout = -1;
    this.host.queue.stopWaiting(this);
    this.sendWord('TIMED_OUT');
  }

  private consume(): void {
    let offset = 0;
    const data = this.pending;
    while (offset < data.length && !this.blocked) {
      if (this.outBytes > OUT_BATCH_BYTES) {
        this.flush();
        continue;
      }
      const used = this.step(data, offset);
      if (used === 0) break;
      offset += used;
    }
    this.pending = offset === 0 ? data : data.subarray(offset);
    if (this.ended && this.input !== 'wait' && !this.blocked) this.close();
  }

  /** Handles what it can from `data` at `offset`; returns the bytes consumed (0: wait for more). */
  private step(data: Buffer, offset: number): number {
    const available = data.length - offset;
    switch (this.input) {
      case 'command':
      case 'endline': {
        const window = Math.min(available, LINE_MAX_BYTES);
        const end = lineEnd(data, offset, window);
        if (end === -1) {
          if (window < LINE_MAX_BYTES) return 0;
          // A full buffer without CRLF: thrown away, and the line's end awaited.
          this.input = 'endline';
          return window;
        }
        const line = data.subarray(offset, offset + end);
        if (this.input === 'endline') {
          this.input = 'command';
          this.reply('BAD_FORMAT\r\n');
        } else {
          this.host.tick();
          this.host.dispatch(this, line);
        }
        return end + 2;
      }
      case 'body': {
        const body = this.body as Buffer;
        const take = Math.min(available, body.length - this.bodyRead);
        data.copy(body, this.bodyRead, offset, offset + take);
        this.bodyRead += take;
        if (this.bodyRead === body.length) {
          this.body = null;
          this.input = 'command';
          this.host.putBody(this, body);
        }
        return take;
      }
      case 'discard': {
        const take = Math.min(available, this.discarding);
        this.discarding -= take;
        if (this.discarding === 0) {
          this.input = 'command';
          this.reply(this.afterDiscard);
        }
        return take;
      }
      case 'wait':
      case 'closed':
        return 0;
    }
  }

  /** Replies of one turn go out in one write. */
  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.socket.destroyed) {
      this.out = [];
      this.outBytes = 0;
      return;
    }
    const parts = this.out.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part));
    this.out = [];
    this.outBytes = 0;
    if (!this.socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts))) {
      this.blocked = true;
      this.socket.pause();
    }
  }
}

/**
 * beanstalkd's scan_line_end over the first `size` bytes at `offset`: the first CR, if an LF follows
 * it, ends the line; otherwise there is no line yet (even if a CRLF comes later). Returns the line's
 * length without CRLF, or -1.
 */
function lineEnd(data: Buffer, offset: number, size: number): number {
  const cr = data.indexOf(CR, offset);
  if (cr === -1 || cr >= offset + size - 1) return -1;
  return data[cr + 1] === LF ? cr - offset : -1;
}

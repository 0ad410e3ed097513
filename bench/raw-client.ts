/**
 * The ceiling: a bare `net.Socket` speaking hand-written beanstalkd commands, pipelined. Commands
 * issued in one tick go out in one write; replies are matched first-in first-out by a parser that
 * knows only the few replies the benchmark needs. It checks nothing it does not have to, so no real
 * client can beat it by much: it is what the same promise-per-command interface costs at least.
 * It reads the way beanline does, into one buffer of its own (no 64 KiB allocation per read), and
 * copies what it keeps out of it; it does not hold reads back (that is a policy, not a cost).
 *
 * The benchmark parent also uses it to pre-fill tubes, drain them and read the server's stats.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface RawJob {
  id: number;
  body: Buffer;
}

/** Turns one reply (its line without CRLF, and its data block if any) into a value, or throws. */
type Decode<T> = (line: string, body: Buffer | null) => T;

interface Waiting {
  decode: Decode<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const LF = 10;
const CR = 13;
/** Answered commands are dropped from the front of the queue in slices of this many. */
const COMPACT_AFTER = 4096;
const READ_BUFFER_BYTES = 64 * 1024;

export class RawClient {
  private readonly socket: net.Socket;
  private waiting: Waiting[] = [];
  private head = 0;
  /** Commands issued this tick, written together on the next. */
  private out = Buffer.allocUnsafe(16 * 1024);
  private outLength = 0;
  private flushScheduled = false;
  /** The start of a reply whose end has not arrived yet. */
  private rest: Buffer | null = null;
  private failure: Error | null = null;

  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const reader: { client: RawClient | null } = { client: null };
    const onread = {
      buffer,
      callback: (bytes: number): boolean => {
        reader.client?.onData(buffer.subarray(0, bytes));
        return true;
      },
    };
    const socket = net.connect({ host, port, onread });
    await once(socket, 'connect');
    reader.client = new RawClient(socket);
    return reader.client;
  }

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  put(body: Uint8Array, priority = 1024): Promise<number> {
    this.append(`put ${priority} 0 60 ${body.length}\r\n`, body);
    return this.expect(decodeInserted);
  }

  /** Selects the tube later puts go to. */
  use(tube: string): Promise<string> {
    this.append(`use ${tube}\r\n`);
    return this.expect((line) => decodeWord(line, 'USING '));
  }

  /** Adds a tube to those reserve takes jobs from. */
  watch(tube: string): Promise<string> {
    this.append(`watch ${tube}\r\n`);
    return this.expect((line) => decodeWord(line, 'WATCHING '));
  }

  ignore(tube: string): Promise<string> {
    this.append(`ignore ${tube}\r\n`);
    return this.expect((line) => decodeWord(line, 'WATCHING '));
  }

  reserve(): Promise<RawJob> {
    this.append('reserve\r\n');
    return this.expect(decodeReserved);
  }

  /** With 0, answers at once: a job, or null when none is ready. */
  reserveWithTimeout(seconds: number): Promise<RawJob | null> {
    this.append(`reserve-with-timeout ${seconds}\r\n`);
    return this.expect((line, body) => (line === 'TIMED_OUT' ? null : decodeReserved(line, body)));
  }

  delete(id: number): Promise<void> {
    this.append(`delete ${id}\r\n`);
    return this.expect(decodeDeleted);
  }

  /** The server's `stats`, as raw `key: value` strings. */
  stats(): Promise<Map<string, string>> {
    this.append('stats\r\n');
    return this.expect(decodeStats);
  }

  /** One tube's `stats-tube`, as `stats` gives them. */
  statsTube(tube: string): Promise<Map<string, string>> {
    this.append(`stats-tube ${tube}\r\n`);
    return this.expect(decodeStats);
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    const closed = once(this.socket, 'close');
    this.flush();
    this.socket.end('quit\r\n');
    await closed;
  }

  private append(line: string, body?: Uint8Array): void {
    const size = line.length + (body === undefined ? 0 : body.length + 2);
    if (this.outLength + size > this.out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.outLength + size));
      this.out.copy(bigger, 0, 0, this.outLength);
      this.out = bigger;
    }
    this.outLength += this.out.write(line, this.outLength, 'latin1');
    if (body !== undefined) {
      this.out.set(body, this.outLength);
      this.outLength += body.length;
      this.out[this.outLength++] = CR;
      this.out[this.outLength++] = LF;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.outLength === 0 || this.socket.destroyed) return;
    // A copy, so that the buffer can be reused while the socket still holds the chunk.
    const chunk = Buffer.allocUnsafe(this.outLength);
    this.out.copy(chunk, 0, 0, this.outLength);
    this.outLength = 0;
    this.socket.write(chunk);
  };

  private expect<T>(decode: Decode<T>): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ decode, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private onData(chunk: Buffer): void {
    const data = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    let pos = 0;
    for (;;) {
      const lf = data.indexOf(LF, pos);
      if (lf === -1) break;
      const line = data.toString('latin1', pos, lf - 1);
      let end = lf + 1;
      let body: Buffer | null = null;
      if (line.startsWith('RESERVED ') || line.startsWith('OK ') || line.startsWith('FOUND ')) {
        const bytes = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (data.length < end + bytes + 2) break;
        // A copy: the read buffer is overwritten by the next read.
        body = Buffer.from(data.subarray(end, end + bytes));
        end += bytes + 2;
      }
      pos = end;
      this.settle(line, body);
    }
    this.rest = pos < data.length ? Buffer.from(data.subarray(pos)) : null;
  }

  private settle(line: string, body: Buffer | null): void {
    const waiting = this.waiting[this.head];
    if (waiting === undefined) {
      this.fail(new Error(`unexpected reply ${JSON.stringify(line)}`));
      return;
    }
    this.waiting[this.head] = undefined as unknown as Waiting;
    this.head += 1;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    let value: unknown;
    try {
      value = waiting.decode(line, body);
    } catch (error) {
      waiting.reject(error as Error);
      return;
    }
    waiting.resolve(value);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    for (const waiting of pending) waiting.reject(this.failure);
    this.socket.destroy();
  }
}

function unexpected(line: string): Error {
  return new Error(`unexpected reply ${JSON.stringify(line)}`);
}

function decodeInserted(line: string): number {
  if (!line.startsWith('INSERTED ')) throw unexpected(line);
  return Number(line.slice(9));
}

function decodeReserved(line: string, body: Buffer | null): RawJob {
  if (body === null || !line.startsWith('RESERVED ')) throw unexpected(line);
  return { id: Number(line.slice(9, line.indexOf(' ', 9))), body };
}

/** The argument of a one-word reply such as `USING <tube>`. */
function decodeWord(line: string, word: string): string {
  if (!line.startsWith(word)) throw unexpected(line);
  return line.slice(word.length);
}

function decodeDeleted(line: string): void {
  if (line !== 'DELETED') throw unexpected(line);
}

function decodeStats(line: string, body: Buffer | null): Map<string, string> {
  if (body === null || !line.startsWith('OK ')) throw unexpected(line);
  const stats = new Map<string, string>();
  for (const entry of body.toString('latin1').split('\n')) {
    const colon = entry.indexOf(': ');
    if (colon > 0) stats.set(entry.slice(0, colon), entry.slice(colon + 2));
  }
  return stats;
}

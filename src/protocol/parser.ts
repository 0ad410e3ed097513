import { ProtocolError } from '../errors.js';

/** One reply from the server: the words of its line, and the data block for RESERVED, FOUND and OK. */
export interface Reply {
  readonly word: string;
  readonly args: readonly string[];
  readonly body: Buffer | null;
}

export interface ParserLimits {
  /** Longest reply line accepted, CRLF included. beanstalkd's longest is `USING <200-byte tube>`. */
  maxLineBytes?: number;
  /** Largest data block accepted. A larger declared count is treated as a broken peer. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const CR = 13;
const LF = 10;
const REPLY_WORD = /^[A-Z_]+$/;
const COUNT = /^\d{1,16}$/;

/**
 * Turns the server's byte stream into replies, whatever the chunking. It never looks inside a
 * data block: the block's end is found from the byte count, so any binary body is safe. A body is
 * copied exactly once, out of the socket's chunk, so a kept job does not pin a 64 KiB read buffer.
 *
 * `push` throws ProtocolError on bytes that cannot be a reply; the parser is then unusable, and the
 * caller is expected to close the connection.
 */
export class ReplyParser {
  private readonly maxLineBytes: number;
  private maxBodyBytes: number;
  private readonly onReply: (reply: Reply) => void;

  /** Bytes of a reply line whose end has not arrived yet. */
  private partialLine: Buffer | null = null;
  /** The reply whose data block is being filled, across chunks. */
  private bodyWord = '';
  private bodyArgs: string[] = [];
  private body: Buffer | null = null;
  /** Bytes of `body` plus its trailing CRLF received so far. */
  private bodyReceived = 0;
  private failed: ProtocolError | null = null;

  constructor(onReply: (reply: Reply) => void, limits: ParserLimits = {}) {
    this.onReply = onReply;
    this.maxLineBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** Raises the body cap, e.g. once the server's max-job-size is known to exceed it. */
  allowBodyBytes(bytes: number): void {
    if (bytes > this.maxBodyBytes) this.maxBodyBytes = bytes;
  }

  /** True while part of a reply has been received and the rest has not. */
  get midReply(): boolean {
    return this.partialLine !== null || this.body !== null;
  }

  push(chunk: Buffer): void {
    if (this.failed !== null) throw this.failed;
    try {
      this.consume(chunk);
    } catch (err) {
      this.failed = err instanceof ProtocolError ? err : new ProtocolError('reply parser failed', { cause: err });
      throw this.failed;
    }
  }

  private consume(chunk: Buffer): void {
    const length = chunk.length;
    let offset = 0;
    while (offset < length) {
      if (this.body !== null) {
        offset = this.fillBody(chunk, offset);
        continue;
      }
      const lf = chunk.indexOf(LF, offset);
      if (lf === -1) {
        this.keepPartialLine(chunk.subarray(offset));
        return;
      }
      let line: Buffer;
      if (this.partialLine === null) {
        line = chunk.subarray(offset, lf + 1);
      } else {
        line = Buffer.concat([this.partialLine, chunk.subarray(offset, lf + 1)]);
        this.partialLine = null;
      }
      offset = lf + 1;
      if (line.length > this.maxLineBytes) throw this.lineTooLong(line.length, true);
      offset = this.takeLine(line, chunk, offset);
    }
  }

  private keepPartialLine(rest: Buffer): void {
    const size = (this.partialLine?.length ?? 0) + rest.length;
    if (size > this.maxLineBytes) throw this.lineTooLong(size);
    // Copy: the socket may reuse the chunk's memory, and the piece is small by the cap above.
    this.partialLine = this.partialLine === null ? Buffer.from(rest) : Buffer.concat([this.partialLine, rest]);
  }

  private lineTooLong(size: number, complete = false): ProtocolError {
    const what = complete ? `a ${size}-byte line` : `${size} bytes without CRLF`;
    return new ProtocolError(
      `reading a reply line: ${what} exceeds the ${this.maxLineBytes}-byte limit; the peer is not speaking the beanstalkd protocol`,
    );
  }

  /** Handles one complete line (ending in LF); returns the new offset in `chunk`. */
  private takeLine(line: Buffer, chunk: Buffer, offset: number): number {
    const end = line.length - 2;
    if (end < 1 || line[end] !== CR) {
      throw new ProtocolError(`reading a reply line: expected a CRLF-terminated line, got ${quote(line)}`);
    }
    const text = line.toString('latin1', 0, end);
    const words = text.split(' ');
    const word = words[0] ?? '';
    if (!REPLY_WORD.test(word)) {
      throw new ProtocolError(`reading a reply line: ${quote(line)} is not a beanstalkd reply`);
    }
    words.shift();
    if (word !== 'RESERVED' && word !== 'FOUND' && word !== 'OK') {
      this.onReply({ word, args: words, body: null });
      return offset;
    }
    const bytes = this.bodyLength(words, line);
    if (chunk.length - offset >= bytes + 2) {
      // The whole block is in this chunk: one copy out of it, then check the trailer in place.
      const body = Buffer.allocUnsafe(bytes);
      chunk.copy(body, 0, offset, offset + bytes);
      if (chunk[offset + bytes] !== CR || chunk[offset + bytes + 1] !== LF) throw this.badTrailer(word, bytes);
      this.onReply({ word, args: words, body });
      return offset + bytes + 2;
    }
    this.bodyWord = word;
    this.bodyArgs = words;
    this.body = Buffer.allocUnsafe(bytes);
    this.bodyReceived = 0;
    return offset;
  }

  private bodyLength(words: string[], line: Buffer): number {
    const count = words[words.length - 1];
    if (count === undefined || !COUNT.test(count)) {
      throw new ProtocolError(`reading a reply line: ${quote(line)} lacks a byte count`);
    }
    const bytes = Number(count);
    if (bytes > this.maxBodyBytes) {
      throw new ProtocolError(
        `reading a reply line: declared data block of ${bytes} bytes exceeds the ${this.maxBodyBytes}-byte limit`,
      );
    }
    return bytes;
  }

  /** Copies as much of the pending data block as `chunk` holds; returns the new offset. */
  private fillBody(chunk: Buffer, offset: number): number {
    const body = this.body as Buffer;
    const size = body.length;
    if (this.bodyReceived < size) {
      const n = Math.min(size - this.bodyReceived, chunk.length - offset);
      chunk.copy(body, this.bodyReceived, offset, offset + n);
      this.bodyReceived += n;
      return offset + n;
    }
    // The trailer may itself be split, so take it a byte at a time.
    const expected = this.bodyReceived === size ? CR : LF;
    if (chunk[offset] !== expected) throw this.badTrailer(this.bodyWord, size);
    this.bodyReceived += 1;
    if (expected === LF) {
      const reply: Reply = { word: this.bodyWord, args: this.bodyArgs, body };
      this.body = null;
      this.bodyArgs = [];
      this.onReply(reply);
    }
    return offset + 1;
  }

  private badTrailer(word: string, bytes: number): ProtocolError {
    return new ProtocolError(`reading the data block of ${word}: no CRLF after the declared ${bytes} bytes`);
  }
}

function quote(line: Buffer): string {
  const shown = line.subarray(0, 64).toString('latin1');
  return JSON.stringify(line.length > 64 ? `${shown}...` : shown);
}

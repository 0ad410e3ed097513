import { ProtocolError } from '../errors.js';
import { DATA_REPLY_WORDS, REPLY_WORDS } from './commands.js';
import { parseCount, type Reply } from './reply.js';

export { parseCount, type Reply } from './reply.js';

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
const SPACE = 32;
const UNDERSCORE = 95;

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
      const lineBytes = (this.partialLine?.length ?? 0) + lf + 1 - offset;
      if (lineBytes > this.maxLineBytes) throw this.lineTooLong(lineBytes, true);
      if (this.partialLine === null) {
        offset = this.takeLine(chunk, offset, lf, chunk, lf + 1);
        continue;
      }
      const line = Buffer.concat([this.partialLine, chunk.subarray(offset, lf + 1)]);
      this.partialLine = null;
      offset = this.takeLine(line, 0, line.length - 1, chunk, lf + 1);
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

  /**
   * Handles one complete line, `line[start..lf]` (lf is the index of its LF), read by indexes so that
   * the hot path makes no view of it. The data block, if any, starts at `offset` in `chunk`; returns
   * the new offset in `chunk`.
   */
  private takeLine(line: Buffer, start: number, lf: number, chunk: Buffer, offset: number): number {
    const end = lf - 1;
    if (end <= start || line[end] !== CR) {
      throw new ProtocolError(`reading a reply line: expected a CRLF-terminated line, got ${quote(line, start, lf + 1)}`);
    }
    let space = start;
    while (space < end && line[space] !== SPACE) space += 1;
    const word = replyWord(line, start, space);
    if (word === null) {
      throw new ProtocolError(`reading a reply line: ${quote(line, start, lf + 1)} is not a beanstalkd reply`);
    }
    const args = splitArgs(line, space, end);
    if (!DATA_REPLY_WORDS.has(word)) {
      this.onReply({ word, args, body: null });
      return offset;
    }
    const bytes = this.bodyLength(args, line, start, lf);
    if (chunk.length - offset >= bytes + 2) {
      // The whole block is in this chunk: one copy out of it, then check the trailer in place.
      const body = Buffer.allocUnsafe(bytes);
      chunk.copy(body, 0, offset, offset + bytes);
      if (chunk[offset + bytes] !== CR || chunk[offset + bytes + 1] !== LF) throw this.badTrailer(word, bytes);
      this.onReply({ word, args, body });
      return offset + bytes + 2;
    }
    this.bodyWord = word;
    this.bodyArgs = args;
    this.body = Buffer.allocUnsafe(bytes);
    this.bodyReceived = 0;
    return offset;
  }

  private bodyLength(args: string[], line: Buffer, start: number, lf: number): number {
    const bytes = parseCount(args[args.length - 1]);
    if (bytes === null) {
      throw new ProtocolError(`reading a reply line: ${quote(line, start, lf + 1)} lacks a byte count`);
    }
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

function quote(line: Buffer, start: number, end: number): string {
  const shown = line.toString('latin1', start, Math.min(end, start + 64));
  return JSON.stringify(end - start > 64 ? `${shown}...` : shown);
}

/**
 * The reply word of `line[start..end)`: one of the words beanstalkd sends, as a shared constant
 * string (no allocation for the replies that come by the thousand), any other run of A-Z and `_`
 * as a new string (its decoder then says it was unexpected), or null if it cannot be a reply word.
 */
function replyWord(line: Buffer, start: number, end: number): string | null {
  const length = end - start;
  if (length === 0) return null;
  const known = KNOWN_WORDS[line[start] as number];
  if (known !== undefined) {
    for (const [word, bytes] of known) {
      if (bytes.length === length && sameBytes(line, start, bytes)) return word;
    }
  }
  for (let i = start; i < end; i += 1) {
    const byte = line[i] as number;
    if ((byte < 0x41 || byte > 0x5a) && byte !== UNDERSCORE) return null;
  }
  return line.toString('latin1', start, end);
}

/** Whether `line` holds `bytes` at `start`; a loop, as Buffer#compare costs more than these few bytes. */
function sameBytes(line: Buffer, start: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i += 1) if (line[start + i] !== bytes[i]) return false;
  return true;
}

/** The space-separated words after the reply word (`line[space]` is the space, or `end` for none), as split(' ') gives them. */
function splitArgs(line: Buffer, space: number, end: number): string[] {
  const args: string[] = [];
  let from = space + 1;
  while (from <= end) {
    let to = from;
    while (to < end && line[to] !== SPACE) to += 1;
    args.push(line.toString('latin1', from, to));
    from = to + 1;
  }
  return args;
}

/** The known reply words by their first byte, each with its bytes. */
const KNOWN_WORDS: (readonly (readonly [string, Buffer])[] | undefined)[] = [];
for (const word of REPLY_WORDS) {
  const first = word.charCodeAt(0);
  KNOWN_WORDS[first] = [...(KNOWN_WORDS[first] ?? []), [word, Buffer.from(word, 'latin1')]];
}

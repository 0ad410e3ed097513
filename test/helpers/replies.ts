/**
 * Reply fixtures and chunking helpers for testing the reply parser, plus a recorder that captures
 * the raw bytes a real beanstalkd sends back for a pipelined script of commands.
 */
import { once } from 'node:events';
import net from 'node:net';
import { ReplyParser, type ParserLimits, type Reply } from '../../src/index.js';
import type { TestServer } from './server.js';

/** One reply as it appears on the wire: its line (without CRLF) and, for data replies, its body. */
export interface Fixture {
  readonly line: string;
  readonly body: Buffer | null;
}

/** Every byte value 0..255 once, in order: includes NUL, CR, LF and the high half. */
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** A 200-byte tube name (the longest allowed) using every allowed punctuation character. */
export const LONGEST_TUBE = 'a-+/;.$_()9'.repeat(18).padEnd(200, 'z');

/** The bytes of a line plus CRLF, then (if any) the body plus CRLF: replies and `put` share this framing. */
export function wireOf(line: string, body: Buffer | string | null = null): Buffer {
  const head = Buffer.from(`${line}\r\n`, 'latin1');
  if (body === null) return head;
  return Buffer.concat([head, Buffer.from(body), Buffer.from('\r\n')]);
}

/** The Reply the parser should emit for a line and body. */
export function replyOf(line: string, body: Buffer | string | null = null): Reply {
  const [word = '', ...args] = line.split(' ');
  return { word, args, body: body === null ? null : Buffer.from(body) };
}

export function fixtureWire(fixture: Fixture): Buffer {
  return wireOf(fixture.line, fixture.body);
}

export function fixtureReply(fixture: Fixture): Reply {
  return replyOf(fixture.line, fixture.body);
}

/** A data reply (`RESERVED <id>`, `FOUND <id>`, `OK`) with its byte count filled in from the body. */
export function dataFixture(head: string, body: Buffer | string): Fixture {
  const bytes = Buffer.from(body);
  return { line: `${head} ${bytes.length}`, body: bytes };
}

export const SINGLE_WORD_REPLIES = [
  'DELETED',
  'RELEASED',
  'BURIED',
  'TOUCHED',
  'KICKED',
  'PAUSED',
  'TIMED_OUT',
  'DEADLINE_SOON',
  'NOT_FOUND',
  'NOT_IGNORED',
  'OUT_OF_MEMORY',
  'INTERNAL_ERROR',
  'BAD_FORMAT',
  'UNKNOWN_COMMAND',
  'EXPECTED_CRLF',
  'JOB_TOO_BIG',
  'DRAINING',
] as const;

export const REPLIES_WITH_ARGS = ['INSERTED 5', 'BURIED 7', 'WATCHING 2', 'KICKED 3', 'USING tube', `USING ${LONGEST_TUBE}`];

/** Data replies whose bodies would trip a parser that searched for CRLF instead of counting bytes. */
export const DATA_FIXTURES: readonly Fixture[] = [
  dataFixture('RESERVED 1', 'hello'),
  dataFixture('RESERVED 18446744', ''),
  dataFixture('FOUND 42', ''),
  dataFixture('OK', ''),
  dataFixture('RESERVED 2', ALL_BYTES),
  dataFixture('FOUND 3', ALL_BYTES),
  dataFixture('OK', ALL_BYTES),
  dataFixture('RESERVED 4', '\r\n'),
  dataFixture('FOUND 5', 'RESERVED 1 2\r\n'),
  dataFixture('RESERVED 6', 'RESERVED 1 2\r\nab\r\n'),
  dataFixture('OK', '\r\n\r\nOK 5\r\n'),
  dataFixture('FOUND 7', '\r'),
  dataFixture('FOUND 8', '\n'),
  dataFixture('RESERVED 9', 'x\r'),
  dataFixture('OK', '---\nid: 1\ntube: default\n'),
];

export const FIXTURES: readonly Fixture[] = [
  ...SINGLE_WORD_REPLIES.map((line) => ({ line, body: null })),
  ...REPLIES_WITH_ARGS.map((line) => ({ line, body: null })),
  ...DATA_FIXTURES,
];

/** A short name for a fixture, for test titles. */
export function fixtureLabel(fixture: Fixture): string {
  const line = fixture.line.length > 40 ? `${fixture.line.slice(0, 40)}...` : fixture.line;
  return fixture.body === null ? line : `${line} (${JSON.stringify(fixture.body.subarray(0, 16).toString('latin1'))})`;
}

/** A parser whose replies land in `replies`. */
export function collector(limits?: ParserLimits): { parser: ReplyParser; replies: Reply[] } {
  const replies: Reply[] = [];
  const parser = new ReplyParser((reply) => replies.push(reply), limits);
  return { parser, replies };
}

/** Feeds the chunks, in order, to a fresh parser and returns the replies it emitted. */
export function parseChunks(chunks: Iterable<Buffer>, limits?: ParserLimits): Reply[] {
  const { parser, replies } = collector(limits);
  for (const chunk of chunks) parser.push(chunk);
  return replies;
}

/** Cuts `bytes` at the given positions (any order, repeats allowed) into consecutive pieces. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const positions = [...new Set(cuts)].filter((cut) => cut > 0 && cut < bytes.length).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...positions, bytes.length]) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  return pieces;
}

/** One piece per byte. */
export function bytewise(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

/** For every position i from 0 to the length: [i, [bytes[0..i], bytes[i..]]] (a piece may be empty). */
export function* twoPieceSplits(bytes: Buffer): Generator<[number, [Buffer, Buffer]]> {
  for (let i = 0; i <= bytes.length; i += 1) yield [i, [bytes.subarray(0, i), bytes.subarray(i)]];
}

/**
 * Opens a raw socket to the server, writes all the commands at once (pipelined), and collects
 * every byte until `commands.length` replies have arrived (counted by a ReplyParser over the stream).
 * Fails after `timeoutMs`, if the server closes first, or if the stream does not parse. The socket is
 * always destroyed and its close awaited.
 */
export async function recordStream(server: TestServer, commands: readonly Buffer[], timeoutMs = 5000): Promise<Buffer> {
  const socket = net.connect({ host: '127.0.0.1', port: server.port });
  const received: Buffer[] = [];
  let count = 0;
  const counter = new ReplyParser(() => {
    count += 1;
  });
  try {
    await once(socket, 'connect');
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${count} of ${commands.length} replies in ${timeoutMs} ms`)), timeoutMs);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      socket.on('data', (chunk: Buffer) => {
        received.push(Buffer.from(chunk));
        try {
          counter.push(chunk);
        } catch (error) {
          finish(error as Error);
        }
        if (count >= commands.length) finish();
      });
      socket.once('error', finish);
      socket.once('end', () => finish(new Error(`server closed after ${count} of ${commands.length} replies`)));
    });
    socket.write(Buffer.concat(commands));
    await done;
  } finally {
    socket.destroy();
    if (!socket.closed) await once(socket, 'close');
  }
  return Buffer.concat(received);
}

/**
 * The reply parser (bytes → replies, whatever the chunking) and the stats parsers, with no server:
 * real server bytes, recorded once and committed (helpers/recorded.ts), are replayed through the
 * parser under every chunking we can think of. The decoding of each command's replies is tested
 * with the command table (commands.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError, type ParserLimits, type Reply } from '../../src/index.js';
import { COMMANDS, decodeReply, request } from '../../src/protocol/commands.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/protocol/parser.js';
import { parseJobStats, parseServerStats, parseTubeList, parseTubeStats } from '../../src/protocol/stats.js';
import { thrown } from '../helpers/assertions.js';
import {
  ALL_BYTES,
  FIXTURES,
  LONGEST_TUBE,
  bytewise,
  collector,
  fixtureLabel,
  fixtureReply,
  fixtureWire,
  parseChunks,
  replyOf,
  splitAt,
  twoPieceSplits,
  wireOf,
  type Fixture,
} from '../helpers/replies.js';
import {
  EXPECTED_WORDS,
  LIST_TUBES,
  LIST_WATCHED,
  MAX_JOB_SIZE,
  PEEK,
  readRecording,
  RESERVE,
  RESERVE_EMPTY,
  STATS,
  STATS_JOB,
  STATS_TUBE,
  TUBE,
} from '../helpers/recorded.js';

// The recorded stream (see helpers/recorded.ts), as the committed bytes.
const stream = readRecording();
const recorded = parseChunks([stream]);

function recordedBody(index: number): Buffer {
  const body = recorded[index]?.body;
  assert.ok(body, `reply ${index} (${EXPECTED_WORDS[index]}) has a body`);
  return body;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function assertParses(chunks: Iterable<Buffer>, expected: readonly Reply[], message?: string): void {
  const { parser, replies } = collector();
  for (const chunk of chunks) parser.push(chunk);
  assert.deepStrictEqual(replies, expected, message);
  assert.equal(parser.midReply, false, message);
}

/**
 * For every split position: feeding the two pieces gives the expected replies, and after the first
 * piece exactly the replies wholly inside it have been emitted (none early, none held back), with
 * `midReply` true unless the cut is at a reply boundary.
 */
function assertEverySplitParses(fixtures: readonly Fixture[]): void {
  const wires = fixtures.map(fixtureWire);
  const expected = fixtures.map(fixtureReply);
  const ends: number[] = [];
  for (const wire of wires) ends.push((ends.at(-1) ?? 0) + wire.length);
  for (const [i, [head, tail]] of twoPieceSplits(Buffer.concat(wires))) {
    const { parser, replies } = collector();
    parser.push(head);
    const complete = ends.filter((end) => end <= i).length;
    assert.equal(replies.length, complete, `replies emitted after the first ${i} bytes`);
    assert.equal(parser.midReply, i !== 0 && !ends.includes(i), `midReply after ${i} bytes`);
    parser.push(tail);
    assert.deepStrictEqual(replies, expected, `split at ${i}`);
    assert.equal(parser.midReply, false);
  }
}

/** How many replies have been emitted after each piece. */
function emittedAfterEach(pieces: readonly string[]): number[] {
  const { parser, replies } = collector();
  return pieces.map((piece) => {
    parser.push(Buffer.from(piece, 'latin1'));
    return replies.length;
  });
}


interface Rejection {
  /** Pieces fed in order; strings are taken as latin1 bytes. */
  readonly chunks: readonly (string | Buffer)[];
  /** The pattern the ProtocolError's message must match (tells which check fired). */
  readonly reason: RegExp;
  /** Index of the piece that must throw; the ones before must not. Default: the last. */
  readonly failAt?: number;
  readonly limits?: ParserLimits;
}

/** The piece at `failAt` throws a ProtocolError, and the parser stays failed afterwards. */
function assertRejects({ chunks, reason, failAt = chunks.length - 1, limits }: Rejection): void {
  const { parser, replies } = collector(limits);
  const pieces = chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
  pieces.slice(0, failAt).forEach((piece, i) => assert.doesNotThrow(() => parser.push(piece), `piece ${i} is accepted`));
  const failure = thrown(() => parser.push(pieces[failAt] ?? Buffer.alloc(0)));
  assert.ok(failure instanceof ProtocolError, `expected a ProtocolError, got ${String(failure)}`);
  assert.match(failure.message, reason);
  const emitted = replies.length;
  assert.equal(thrown(() => parser.push(wireOf('DELETED'))), failure, 'a later push throws the same error');
  assert.equal(replies.length, emitted, 'nothing is emitted after the failure');
}

// ---------------------------------------------------------------------------------------------
// ReplyParser: well-formed replies under every chunking
// ---------------------------------------------------------------------------------------------

describe('ReplyParser: each reply kind', () => {
  for (const fixture of FIXTURES) {
    const label = fixtureLabel(fixture);
    const bytes = fixtureWire(fixture);
    const expected = [fixtureReply(fixture)];
    test(`${label}: one chunk`, () => assertParses([bytes], expected));
    test(`${label}: byte by byte`, () => assertParses(bytewise(bytes), expected));
    test(`${label}: split at every position`, () => assertEverySplitParses([fixture]));
  }
});

describe('ReplyParser: many replies in one stream', () => {
  const bytes = Buffer.concat(FIXTURES.map(fixtureWire));
  const expected = FIXTURES.map(fixtureReply);

  test('all kinds back to back in one chunk', () => assertParses([bytes], expected));
  test('all kinds back to back, byte by byte', () => assertParses(bytewise(bytes), expected));
  test('all kinds back to back, split at every position', () => assertEverySplitParses(FIXTURES));
  test('the same reply many times in one chunk', () => {
    const fixture = FIXTURES.at(-1) as Fixture;
    const times = 50;
    assertParses([Buffer.concat(Array<Buffer>(times).fill(fixtureWire(fixture)))], Array<Reply>(times).fill(fixtureReply(fixture)));
  });
});

describe('ReplyParser: reply words and arguments', () => {
  // Words without a data block (those with one are tested with their bodies above).
  const word = fc
    .oneof(
      fc.constantFrom('INSERTED', 'DELETED', 'USING', 'NOT_FOUND', 'KICKED', 'WATCHING', 'TIMED_OUT', 'BURIED'),
      // Words beanstalkd does not send still parse (their decoder then calls them unexpected), and
      // so do prefixes and extensions of known ones.
      fc.stringMatching(/^[A-Z_]{1,20}$/),
      fc.constantFrom('INSERTE', 'INSERTEDX', 'O', 'OKAY', 'DELETED_', 'RESERVE', 'FOUNDS'),
    )
    .filter((candidate) => !['RESERVED', 'FOUND', 'OK'].includes(candidate));
  const arg = fc.stringMatching(/^[a-z0-9.$()+;\/-]{0,12}$/);

  test('property: the word and the arguments are those of the line split at each space', () => {
    fc.assert(
      fc.property(word, fc.array(arg, { maxLength: 4 }), (head, args) => {
        const line = [head, ...args].join(' ');
        assertParses([wireOf(line)], [replyOf(line)], line);
      }),
      { numRuns: 500 },
    );
  });

  test('a known word with a byte more or less is a different word, not the known one', () => {
    assert.deepEqual(
      parseChunks([wireOf('INSERTEDX 5'), wireOf('INSERTE 5'), wireOf('INSERTED 5')]).map((reply) => reply.word),
      ['INSERTEDX', 'INSERTE', 'INSERTED'],
    );
  });
});

describe('ReplyParser: bodies', () => {
  test('a body split between its last byte and the trailing CR is emitted only when CRLF is complete', () => {
    assert.deepEqual(emittedAfterEach(['RESERVED 1 3\r\nabc', '\r', '\n']), [0, 0, 1]);
  });

  test('a body split between the trailing CR and LF is emitted only on the LF', () => {
    assert.deepEqual(emittedAfterEach(['RESERVED 1 3\r\nabc\r', '\nDELETED\r\n']), [0, 2]);
  });

  test('a 0-byte body whose CRLF arrives in later chunks', () => {
    assert.deepEqual(emittedAfterEach(['FOUND 1 0\r\n', '\r', '\n']), [0, 0, 1]);
  });

  test('a body whose bytes spell replies is not parsed as replies', () => {
    const body = Buffer.from('RESERVED 1 2\r\nab\r\nDELETED\r\nOK 1\r\nx\r\n');
    assertParses([wireOf(`OK ${body.length}`, body), wireOf('TOUCHED')], [replyOf(`OK ${body.length}`, body), replyOf('TOUCHED')]);
  });

  test('a body is a copy: overwriting the chunk after parsing leaves it intact (block in one chunk)', () => {
    const chunk = wireOf('RESERVED 1 256', ALL_BYTES);
    const [reply] = parseChunks([chunk]);
    chunk.fill(0);
    assert.deepEqual(reply?.body, ALL_BYTES);
  });

  test('a body is a copy: overwriting the chunks after parsing leaves it intact (block across chunks)', () => {
    const chunks = splitAt(wireOf('FOUND 2 256', ALL_BYTES), [5, 16, 100, 200, 271]);
    const [reply] = parseChunks(chunks);
    for (const chunk of chunks) chunk.fill(0x41);
    assert.deepEqual(reply?.body, ALL_BYTES);
  });

  test('each body has its own memory: changing one emitted body leaves the next intact', () => {
    const [first, second] = parseChunks([Buffer.concat([wireOf('OK 3', 'abc'), wireOf('OK 3', 'abc')])]);
    first?.body?.fill(0);
    assert.deepEqual(second?.body, Buffer.from('abc'));
  });
});

// ---------------------------------------------------------------------------------------------
// ReplyParser: a stream recorded from a real server
// ---------------------------------------------------------------------------------------------

describe('ReplyParser: a recorded stream from beanstalkd', () => {
  test('one reply per pipelined command, of the expected kind, in order', () => {
    assert.deepEqual(
      recorded.map((reply) => reply.word),
      EXPECTED_WORDS,
    );
  });

  test('data replies carry the bodies that were put, byte for byte', () => {
    assert.deepEqual(recorded[RESERVE], replyOf('RESERVED 1 256', ALL_BYTES));
    assert.deepEqual(recorded[PEEK], replyOf('FOUND 2 14', 'RESERVED 1 2\r\n'));
    assert.deepEqual(recorded[RESERVE_EMPTY], replyOf('RESERVED 3 0', ''));
  });

  test('byte by byte gives the same replies as one chunk', () => assertParses(bytewise(stream), recorded));

  test('property: any chunking gives the same replies as one chunk', () => {
    const cuts = fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 200 });
    fc.assert(
      fc.property(cuts, (positions) => {
        assertParses(splitAt(stream, positions), recorded);
      }),
      { numRuns: 400 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// ReplyParser: bytes that are not replies
// ---------------------------------------------------------------------------------------------

describe('ReplyParser: bytes that cannot be a reply throw ProtocolError and stay failed', () => {
  const NOT_A_REPLY = /not a beanstalkd reply/;
  const NOT_CRLF = /expected a CRLF-terminated line/;
  const NO_COUNT = /lacks a byte count/;
  const TOO_BIG = /exceeds the \d+-byte limit/;
  const BAD_TRAILER = /no CRLF after the declared/;

  const cases: Record<string, Rejection> = {
    'a lowercase garbage line': { chunks: ['hello world\r\n'], reason: NOT_A_REPLY },
    'a mixed-case reply word': { chunks: ['Deleted\r\n'], reason: NOT_A_REPLY },
    'a line starting with a space': { chunks: [' DELETED\r\n'], reason: NOT_A_REPLY },
    'garbage after a good reply in the same chunk': { chunks: ['DELETED\r\nhello\r\n'], reason: NOT_A_REPLY },
    'a line ending in LF without CR': { chunks: ['DELETED\n'], reason: NOT_CRLF },
    'a line without CR, its LF in the next chunk': { chunks: ['INSERTED 5', '\n'], reason: NOT_CRLF },
    'an empty line': { chunks: ['\r\n'], reason: NOT_CRLF },
    'a bare LF': { chunks: ['\n'], reason: NOT_CRLF },
    'an absurd byte count': { chunks: ['OK 99999999999999\r\n'], reason: TOO_BIG },
    'an absurd byte count on RESERVED': { chunks: ['RESERVED 1 99999999999999\r\n'], reason: TOO_BIG },
    'a byte count of 17 digits': { chunks: ['OK 12345678901234567\r\n'], reason: NO_COUNT },
    'a non-numeric byte count': { chunks: ['OK abc\r\n'], reason: NO_COUNT },
    'a negative byte count': { chunks: ['OK -1\r\n'], reason: NO_COUNT },
    'a fractional byte count': { chunks: ['FOUND 1 1.5\r\n'], reason: NO_COUNT },
    'a data reply with no byte count': { chunks: ['OK\r\n'], reason: NO_COUNT },
    'a data block followed by XY instead of CRLF, in one chunk': { chunks: ['OK 3\r\nabcXY'], reason: BAD_TRAILER },
    'a data block longer than declared': { chunks: ['RESERVED 1 2\r\nabc\r\n'], reason: BAD_TRAILER },
    'a data block whose CR is wrong, across chunks': { chunks: ['OK 3\r\nab', 'cX\n'], reason: BAD_TRAILER },
    'a data block whose LF is wrong, split after the CR': { chunks: ['OK 3\r\nabc\r', 'X'], reason: BAD_TRAILER },
    'a 0-byte block followed by XY': { chunks: ['FOUND 1 0\r\nXY'], reason: BAD_TRAILER },
  };
  for (const [name, rejection] of Object.entries(cases)) test(name, () => assertRejects(rejection));
});

describe('ReplyParser: the line length cap', () => {
  test(`a line with no CRLF, in 16-byte chunks, fails on the chunk that passes ${DEFAULT_MAX_LINE_BYTES} bytes`, () => {
    const failAt = Math.floor(DEFAULT_MAX_LINE_BYTES / 16);
    const chunks = Array<Buffer>(failAt + 1).fill(Buffer.alloc(16, 'A'));
    assertRejects({ chunks, failAt, reason: /without CRLF exceeds the 1024-byte limit/ });
  });

  test('a line with no CRLF, byte by byte, fails on the byte that passes a custom cap', () => {
    assertRejects({ chunks: bytewise(Buffer.alloc(51, 'A')), limits: { maxLineBytes: 50 }, reason: /50-byte limit/ });
  });

  test('a too-long line that does end in CRLF fails in one chunk', () => {
    assertRejects({ chunks: [`USING ${'a'.repeat(2000)}\r\n`], reason: /1024-byte limit/ });
  });

  test('a too-long line split so that each piece is under the cap fails once its end arrives', () => {
    // The first piece is kept (20 bytes, no CRLF yet); only the whole line, 22 bytes, passes the cap.
    const chunks = [`USING ${'a'.repeat(14)}`, '\r\n'];
    assertRejects({ chunks, limits: { maxLineBytes: 20 }, reason: /a 22-byte line exceeds the 20-byte limit/ });
  });

  test('a line of exactly the cap (CRLF included) is accepted, one byte more is not', () => {
    const limits = { maxLineBytes: 20 };
    const atCap = wireOf(`USING ${'a'.repeat(12)}`);
    assert.equal(atCap.length, 20);
    assert.deepEqual(parseChunks([atCap], limits), [replyOf(`USING ${'a'.repeat(12)}`)]);
    assert.deepEqual(parseChunks(bytewise(atCap), limits), [replyOf(`USING ${'a'.repeat(12)}`)]);
    assertRejects({ chunks: [wireOf(`USING ${'a'.repeat(13)}`)], limits, reason: /20-byte limit/ });
  });

  test('the longest real reply line (USING a 200-byte tube) fits the default cap', () => {
    assertParses([wireOf(`USING ${LONGEST_TUBE}`)], [replyOf(`USING ${LONGEST_TUBE}`)]);
  });
});

describe('ReplyParser: the body cap', () => {
  const limits = { maxBodyBytes: 10 };
  const block = (bytes: number): Buffer => wireOf(`OK ${bytes}`, Buffer.alloc(bytes, 'b'));

  test('a block of exactly maxBodyBytes is accepted', () => {
    assert.equal(parseChunks([block(10)], limits).length, 1);
  });

  test('a block declared one byte over maxBodyBytes is refused', () => {
    assertRejects({ chunks: [block(11)], limits, reason: /11 bytes exceeds the 10-byte limit/ });
  });

  test('allowBodyBytes raises the cap', () => {
    const { parser, replies } = collector(limits);
    parser.allowBodyBytes(11);
    parser.push(block(11));
    assert.deepEqual(replies, [replyOf('OK 11', Buffer.alloc(11, 'b'))]);
    assertRejects({ chunks: [block(12)], limits: { maxBodyBytes: 11 }, reason: /12 bytes exceeds the 11-byte limit/ });
  });

  test('allowBodyBytes never lowers the cap', () => {
    const { parser, replies } = collector(limits);
    parser.allowBodyBytes(5);
    parser.push(block(10));
    assert.equal(replies.length, 1);
  });
});


// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

/** `key: value` pairs of a flat stats body, split at the first `: ` (what the parsers must do too). */
function statsLines(body: Buffer): [string, string][] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '' && line !== '---')
    .map((line) => {
      const colon = line.indexOf(': ');
      return [line.slice(0, colon), line.slice(colon + 2)];
    });
}

function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A hand-made `stats` body: the real one with some values replaced. */
function statsBodyWith(values: Record<string, string>): Buffer {
  const lines = statsLines(recordedBody(STATS)).map(([key, value]) => `${key}: ${values[key] ?? value}`);
  return Buffer.from(`---\n${lines.join('\n')}\n`);
}

const SERVER_STRING_FIELDS = new Set(['version', 'id', 'hostname', 'os', 'platform']);

describe('stats parsing', () => {
  test('the real stats body: every field kept under its camelCase key, numbers as numbers', () => {
    const stats = parseServerStats(recordedBody(STATS)) as unknown as Record<string, unknown>;
    const lines = statsLines(recordedBody(STATS));
    assert.ok(lines.length >= 50, `a real stats body has 50-odd fields, got ${lines.length}`);
    assert.deepEqual(Object.keys(stats).sort(), lines.map(([key]) => camel(key)).sort());
    for (const [key, raw] of lines) {
      if (SERVER_STRING_FIELDS.has(key) || key === 'draining') continue;
      assert.equal(stats[camel(key)], Number(raw), key);
    }
  });

  test('the real stats body: values a caller can rely on', () => {
    const stats = parseServerStats(recordedBody(STATS));
    const os = statsLines(recordedBody(STATS)).find(([key]) => key === 'os')?.[1];
    assert.equal(stats.version, '1.12');
    assert.equal(stats.draining, false);
    assert.equal(stats.maxJobSize, MAX_JOB_SIZE);
    assert.ok(Number.isInteger(stats.pid) && stats.pid > 0);
    assert.equal(stats.cmdReserveWithTimeout, 1);
    assert.equal(stats.cmdPut, 6);
    assert.equal(stats.currentJobsReady, 0);
    assert.equal(typeof stats.rusageUtime, 'number');
    assert.equal(typeof stats.os, 'string');
    assert.equal(stats.os, os);
    assert.match(stats.id, /^[0-9a-f]+$/);
  });

  test("the stats command's decoder on the recorded reply gives the same as parseServerStats", () => {
    const reply = recorded[STATS] as Reply;
    assert.deepEqual(decodeReply(request(COMMANDS.stats, []), reply), parseServerStats(recordedBody(STATS)));
  });

  test('values that are not YAML-safe are kept verbatim as strings', () => {
    const stats = parseServerStats(
      statsBodyWith({ os: '#1 SMP PREEMPT_DYNAMIC @0', hostname: 'box: with colon', version: '"1.12"', draining: 'true' }),
    );
    assert.equal(stats.os, '#1 SMP PREEMPT_DYNAMIC @0');
    assert.equal(stats.hostname, 'box: with colon');
    assert.equal(stats.version, '1.12');
    assert.equal(stats.draining, true);
  });

  test('a string field that looks like a number stays a string', () => {
    const stats = parseServerStats(statsBodyWith({ id: '1234', hostname: '42', os: '0' }));
    assert.deepEqual([stats.id, stats.hostname, stats.os], ['1234', '42', '0']);
  });

  test('unknown fields are kept as strings under a camelCase key', () => {
    const stats = parseServerStats(Buffer.from('---\nfuture-count: 12\nnew-thing: yes please\n')) as unknown as Record<string, unknown>;
    assert.equal(stats['futureCount'], '12');
    assert.equal(stats['newThing'], 'yes please');
  });

  const notNumbers: readonly (readonly [string, string])[] = [
    ['pid', 'abc'],
    ['pid', ''],
    ['uptime', '12s'],
    ['rusage-utime', 'NaN'],
    ['max-job-size', 'Infinity'],
    ['draining', 'yes'],
    ['draining', '1'],
    // Number() reads the next three as numbers, but beanstalkd only ever prints decimal digits (and
    // a decimal point for rusage); a whitespace-only value would silently become 0.
    ['pid', ' '],
    ['current-jobs-ready', '0x10'],
    ['total-jobs', '1e3'],
  ];
  for (const [key, value] of notNumbers) {
    test(`stats field ${key}: ${JSON.stringify(value)} is a ProtocolError`, () => {
      assert.throws(() => parseServerStats(statsBodyWith({ [key]: value })), ProtocolError);
    });
  }

  test('a line without ": " is a ProtocolError', () => {
    assert.throws(() => parseServerStats(Buffer.from('---\npid 5\n')), ProtocolError);
    assert.throws(() => parseJobStats(Buffer.from('---\n: 5\n')), ProtocolError);
  });

  test('the real stats-job body', () => {
    const stats = parseJobStats(recordedBody(STATS_JOB));
    assert.equal(stats.id, 1);
    assert.equal(stats.tube, TUBE);
    assert.equal(stats.state, 'reserved');
    assert.equal(stats.pri, 0);
    assert.equal(stats.ttr, 60);
    assert.equal(stats.reserves, 1);
    assert.equal(typeof stats.timeLeft, 'number');
  });

  test('a negative time-left (a reserved job past its TTR that the server kept) is read as a number', () => {
    const body = recordedBody(STATS_JOB).toString('utf8').replace(/time-left: \d+/, 'time-left: -3');
    assert.equal(parseJobStats(Buffer.from(body)).timeLeft, -3);
  });

  test('the real stats-tube body', () => {
    const stats = parseTubeStats(recordedBody(STATS_TUBE));
    assert.equal(stats.name, TUBE);
    assert.equal(stats.totalJobs, 4);
    assert.equal(stats.currentJobsReady, 3);
    assert.equal(stats.currentJobsReserved, 1);
    assert.equal(stats.currentWatching, 1);
    assert.equal(stats.pauseTimeLeft, 0);
  });

  test('the real tube lists', () => {
    assert.deepEqual(parseTubeList(recordedBody(LIST_TUBES)).sort(), ['default', TUBE].sort());
    assert.deepEqual(parseTubeList(recordedBody(LIST_WATCHED)), [TUBE]);
  });

  test('hand-made tube lists', () => {
    assert.deepEqual(parseTubeList(Buffer.from('---\n- default\n')), ['default']);
    assert.deepEqual(parseTubeList(Buffer.from(`---\n- ${LONGEST_TUBE}\n- a\n`)), [LONGEST_TUBE, 'a']);
    assert.deepEqual(parseTubeList(Buffer.from('---\n')), []);
  });

  test('a tube list line without "- " is a ProtocolError', () => {
    assert.throws(() => parseTubeList(Buffer.from('---\n- default\nother\n')), ProtocolError);
  });
});

/**
 * How job bodies are shown to an operator (src/observe/body.ts), with no server: printable text,
 * a beanline envelope, binary as a hex dump, and long bodies cut with a note.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyJson, bodyLines, bodySummary, describeBody, formatBody } from '../../src/observe/body.js';
import { withFailure, type JobEnvelope } from '../../src/jobs/envelope.js';

const ENVELOPE: JobEnvelope = {
  jid: 'j-1',
  type: 'SendMail',
  args: { to: 'ann@example.com' },
  tube: 'mail',
  createdAt: '2026-01-01T00:00:00.000Z',
  enqueuedAt: '2026-01-01T00:00:00.000Z',
  retry: 5,
  priority: 1024,
  ttr: 60,
  custom: { traceId: 'abc' },
  schedule: { id: 'nightly', tick: '2026-01-01T00:00:00.000Z' },
};

test('printable UTF-8 is shown as text, line by line', () => {
  const body = Buffer.from('héllo\nwörld\ttab');
  const view = describeBody(body);
  assert.equal(view.kind, 'text');
  assert.deepEqual(bodyLines(view), [`body: text, ${body.length} bytes`, 'héllo', 'wörld\ttab']);
});

test('an empty body says so', () => {
  assert.equal(formatBody(Buffer.alloc(0)), 'body: empty');
});

test('JSON that is not an envelope is text', () => {
  assert.equal(describeBody(Buffer.from('{"a":1}')).kind, 'text');
});

test('an envelope shows its type, args, custom and schedule', () => {
  const lines = formatBody(Buffer.from(JSON.stringify(ENVELOPE))).split('\n');
  assert.match(lines[0] ?? '', /^body: beanline job, \d+ bytes$/);
  assert.ok(lines.includes('type: SendMail'));
  assert.ok(lines.includes('args: {'));
  assert.ok(lines.includes('  "to": "ann@example.com"'));
  assert.ok(lines.includes('custom: {'));
  assert.ok(lines.includes('  "traceId": "abc"'));
  assert.ok(lines.includes('schedule: nightly, tick 2026-01-01T00:00:00.000Z'));
  assert.ok(!lines.some((line) => line.startsWith('failure:')), 'no failure yet');
});

test("an envelope's failure shows message, error type, retry count and backtrace", () => {
  const failed = withFailure(ENVELOPE, new TypeError('no such mailbox'), new Date('2026-01-02T00:00:00.000Z'));
  const lines = formatBody(Buffer.from(JSON.stringify(failed))).split('\n');
  assert.ok(lines.includes('failure: no such mailbox'));
  assert.ok(lines.includes('  error type: TypeError'));
  assert.ok(lines.includes('  retry count: 1'));
  assert.ok(lines.includes('  failed at: 2026-01-02T00:00:00.000Z'));
  const at = lines.indexOf('  backtrace:');
  assert.ok(at > 0, 'a backtrace heading');
  assert.match(lines[at + 1] ?? '', /^ {4}at /);
});

test('binary bodies are a hex dump with offsets and ASCII', () => {
  const body = Buffer.from([0x00, 0x01, 0x41, 0x42, ...Array<number>(14).fill(0xff)]);
  assert.deepEqual(bodyLines(describeBody(body)), [
    'body: binary, 18 bytes',
    '00000000  00 01 41 42 ff ff ff ff ff ff ff ff ff ff ff ff  |..AB............|',
    '00000010  ff ff                                            |..|',
  ]);
});

test('invalid UTF-8 and control characters are binary', () => {
  assert.equal(describeBody(Buffer.from([0xc3, 0x28])).kind, 'binary');
  assert.equal(describeBody(Buffer.from('bell\u0007')).kind, 'binary');
});

test('long text is cut on a character boundary, with a note', () => {
  const body = Buffer.from('é'.repeat(10)); // 20 bytes, 2 per character
  const view = describeBody(body, { maxTextBytes: 5 });
  assert.ok(view.kind === 'text');
  assert.equal(view.text, 'éé');
  assert.equal(view.cutBytes, 16);
  assert.deepEqual(bodyLines(view).at(-1), '... 16 more bytes not shown (the body is 20 bytes)');
});

test('long binary is cut after maxHexBytes, with a note', () => {
  const lines = formatBody(Buffer.alloc(100, 0xfe), { maxHexBytes: 32 }).split('\n');
  assert.equal(lines.length, 1 + 2 + 1);
  assert.equal(lines.at(-1), '... 68 more bytes not shown (the body is 100 bytes)');
});

test('long envelope args are cut, with a note', () => {
  const big = { ...ENVELOPE, args: 'x'.repeat(100) };
  const lines = formatBody(Buffer.from(JSON.stringify(big)), { maxJsonChars: 20 }).split('\n');
  assert.ok(lines.includes(`args: ${JSON.stringify('x'.repeat(100)).slice(0, 20)}`));
  assert.ok(lines.includes('... 82 more characters of args not shown'));
});

test('a one-line summary: the type and failure of an envelope, the start of text, the size of binary', () => {
  const failed = withFailure(ENVELOPE, new Error('SMTP\nrefused <b>'), new Date('2026-01-01T00:00:00Z'));
  assert.equal(bodySummary(Buffer.from(JSON.stringify(ENVELOPE))), 'SendMail');
  assert.equal(bodySummary(Buffer.from(JSON.stringify(failed))), 'SendMail: SMTP refused <b>');
  assert.equal(bodySummary(Buffer.from('line one\n  line two')), 'line one line two');
  assert.equal(bodySummary(Buffer.from('x'.repeat(100)), 10), `${'x'.repeat(9)}…`);
  assert.equal(bodySummary(Buffer.alloc(0)), '(empty)');
  assert.equal(bodySummary(Buffer.from([0, 1, 2])), '(binary, 3 bytes)');
});

test('bodies for JSON output are whole: an envelope as itself, text uncut, binary as base64', () => {
  assert.deepEqual(bodyJson(Buffer.from(JSON.stringify(ENVELOPE))), { kind: 'envelope', bytes: JSON.stringify(ENVELOPE).length, envelope: ENVELOPE });
  const long = 'y'.repeat(10_000);
  assert.deepEqual(bodyJson(Buffer.from(long)), { kind: 'text', bytes: 10_000, text: long });
  assert.deepEqual(bodyJson(Buffer.from([0, 255])), { kind: 'binary', bytes: 2, base64: 'AP8=' });
});

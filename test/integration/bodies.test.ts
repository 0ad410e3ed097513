/**
 * Job bodies are bytes: whatever goes in with `put` comes back intact from `reserve` and `peek`,
 * up to the server's max-job-size, which is enforced on both sides.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Client, JobTooBigError } from '../../src/index.js';
import { connectOnTube, rejectsAsInvalid, rejectsWithReply } from '../helpers/assertions.js';
import { serverForFile, sharedServer, uniqueTube, type TestServer } from '../helpers/server.js';

const LIMIT = 4096;
const LARGE = 1_000_000;
const shared = await sharedServer();
const limited = await serverForFile({ maxJobSize: LIMIT });
const roomy = await serverForFile({ maxJobSize: 2_000_000 });

type Body = Buffer | Uint8Array | string;

/** The bytes the server should hold for a body: strings go as UTF-8. */
function bytesOf(body: Body): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
}

/** A body whose every byte depends on its position, so a shifted or truncated copy shows. */
function pattern(size: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
}

const larger = Buffer.from('....a window into a larger buffer....');

const samples: { name: string; body: Body; server: TestServer }[] = [
  { name: 'an empty Buffer', body: Buffer.alloc(0), server: shared },
  { name: 'an empty string', body: '', server: shared },
  { name: 'all 256 byte values', body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), server: shared },
  { name: 'CRLFs and text that looks like replies', body: 'RESERVED 1 5\r\nhello\r\n\r\nFOUND 2 0\r\n\r\nINSERTED 9\r\n', server: shared },
  { name: 'lone CR, lone LF and NUL bytes', body: '\r\0\n\0\r\r\n\n', server: shared },
  { name: 'a UTF-8 string', body: 'Grüße, 世界 — ✓ 🎉', server: shared },
  { name: 'a Uint8Array', body: new Uint8Array([0, 1, 2, 253, 254, 255, 13, 10]), server: shared },
  { name: 'a Uint8Array view into a larger buffer', body: new Uint8Array(larger.buffer, larger.byteOffset + 4, 24), server: shared },
  { name: `exactly max-job-size (${LIMIT} bytes)`, body: pattern(LIMIT), server: limited },
  { name: `about 1 MB (${LARGE} bytes)`, body: randomBytes(LARGE), server: roomy },
];

type Reader = (client: Client, id: number) => Promise<Buffer>;

/** How a job comes back: by reserving it, or by peeking at it. */
const readers = {
  reserve: async (client, id) => {
    const job = await client.reserveWithTimeout(1);
    assert.equal(job?.id, id);
    return job.body;
  },
  peek: async (client, id) => {
    const job = await client.peek(id);
    assert.equal(job?.id, id);
    return job.body;
  },
} satisfies Record<string, Reader>;

function assertSameBytes(actual: Buffer, expected: Buffer, label: string): void {
  assert.ok(Buffer.isBuffer(actual), `${label}: the body is a Buffer`);
  assert.equal(actual.length, expected.length, `${label}: length`);
  assert.ok(actual.equals(expected), `${label}: bytes differ (first at ${actual.findIndex((b, i) => b !== expected[i])})`);
}

for (const { name, body, server } of samples) {
  for (const [via, read] of Object.entries(readers)) {
    test(`${name} round-trips through put and ${via}`, async () => {
      await using client = await connectOnTube(server.url, uniqueTube());
      const id = await client.put(body);
      assertSameBytes(await read(client, id), bytesOf(body), name);
      await client.delete(id);
    });
  }
}

test('bodies pipelined back to back keep their boundaries', async () => {
  const bodies = samples.filter((sample) => sample.server === shared).map((sample) => sample.body);
  await using client = await connectOnTube(shared.url, uniqueTube());
  const ids = await Promise.all(bodies.map((body) => client.put(body)));
  const jobs = await Promise.all(ids.map((id) => client.peek(id)));
  jobs.forEach((job, i) => assertSameBytes(job?.body as Buffer, bytesOf(bodies[i] as Body), `body ${i}`));
  const reserved = await Promise.all(ids.map(() => client.reserveWithTimeout(0)));
  assert.deepEqual(reserved.map((job) => job?.id), ids, 'reserved in the order put');
  await Promise.all(ids.map((id) => client.delete(id)));
});

test(`one byte over max-job-size is refused by the client with InvalidArgumentError`, async () => {
  await using client = await connectOnTube(limited.url, uniqueTube());
  await rejectsAsInvalid(() => client.put(pattern(LIMIT + 1)), 'body');
  const id = await client.put(pattern(LIMIT));
  assertSameBytes(await readers.peek(client, id), pattern(LIMIT), 'after the refusal');
  await client.delete(id);
});

test('one byte over max-job-size: JobTooBigError from the server when the client is told a larger size', async () => {
  const tube = uniqueTube();
  await using client = await connectOnTube({ host: limited.host, port: limited.port, maxJobSize: 2 * LIMIT }, tube);
  // The server reads and drops the whole body, so the next command is read correctly.
  await rejectsWithReply(client, client.put(pattern(LIMIT + 1)), JobTooBigError, 'JOB_TOO_BIG', 'put');
  const id = await client.put(pattern(LIMIT));
  assertSameBytes(await readers.reserve(client, id), pattern(LIMIT), 'after JOB_TOO_BIG');
  assert.equal((await client.statsTube(tube)).totalJobs, 1, 'the refused job was not stored');
  await client.delete(id);
});

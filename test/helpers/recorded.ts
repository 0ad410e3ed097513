/**
 * A stream of replies recorded from a real beanstalkd: a fixed script of pipelined commands sent to a
 * fresh server (so job ids are 1, 2, 3, ...) started with -z 4096 (so JOB_TOO_BIG is cheap to
 * provoke). The bytes are committed (test/fixtures/recorded-replies.bin) so the parser's tests run
 * with no server; test/integration/recorded-replies.test.ts records them again from the beanstalkd
 * on the machine and compares, so a server that answers differently is noticed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Reply } from '../../src/index.js';
import { ALL_BYTES, parseChunks, recordStream, wireOf } from './replies.js';
import type { TestServer } from './server.js';

export const MAX_JOB_SIZE = 4096;
export const TUBE = 'recorded';

/** Compiled tests run from dist/test/helpers/; the fixture lives in the source tree. */
const FILE = new URL('../../../test/fixtures/recorded-replies.bin', import.meta.url);

const script: { command: Buffer; word: string }[] = [];

/** Adds raw command bytes to the script; returns the index of their reply. */
function sendRaw(command: Buffer, word: string): number {
  script.push({ command, word });
  return script.length - 1;
}

function send(line: string, word: string): number {
  return sendRaw(wireOf(line), word);
}

function put(body: Buffer | string, word = 'INSERTED'): number {
  return sendRaw(wireOf(`put 0 0 60 ${Buffer.byteLength(body)}`, body), word);
}

send(`use ${TUBE}`, 'USING');
send(`watch ${TUBE}`, 'WATCHING');
send('ignore default', 'WATCHING');
put(ALL_BYTES); // job 1
put('RESERVED 1 2\r\n'); // job 2
put(''); // job 3
put('\r\n'); // job 4
export const RESERVE = send('reserve', 'RESERVED'); // job 1
export const PEEK = send('peek 2', 'FOUND');
send('peek-ready', 'FOUND');
export const STATS_JOB = send('stats-job 1', 'OK');
export const STATS_TUBE = send(`stats-tube ${TUBE}`, 'OK');
export const LIST_TUBES = send('list-tubes', 'OK');
export const LIST_WATCHED = send('list-tubes-watched', 'OK');
send('list-tube-used', 'USING');
send('peek 999', 'NOT_FOUND');
send('delete 999', 'NOT_FOUND');
send('use -bad', 'BAD_FORMAT');
send('frobnicate', 'UNKNOWN_COMMAND');
send(`ignore ${TUBE}`, 'NOT_IGNORED');
send('release 1 0 0', 'RELEASED');
export const RESERVE_EMPTY = send('reserve-job 3', 'RESERVED');
send('touch 3', 'TOUCHED');
send('bury 3 0', 'BURIED');
send('kick 10', 'KICKED');
send('kick-job 999', 'NOT_FOUND');
send(`pause-tube ${TUBE} 0`, 'PAUSED');
for (const id of [1, 2, 3, 4]) send(`delete ${id}`, 'DELETED');
send('reserve-with-timeout 0', 'TIMED_OUT');
sendRaw(Buffer.from('put 0 0 60 3\r\nabcXY'), 'EXPECTED_CRLF');
put('x'.repeat(MAX_JOB_SIZE + 1), 'JOB_TOO_BIG');
export const STATS = send('stats', 'OK');

/** The reply word each command of the script gets. */
export const EXPECTED_WORDS: readonly string[] = script.map((step) => step.word);

/** The committed recording. */
export function readRecording(): Buffer {
  return readFileSync(FILE);
}

/** Records the script's replies from `server`, which must be fresh and started with `-z MAX_JOB_SIZE`. */
export function recordFrom(server: TestServer): Promise<Buffer> {
  return recordStream(server, script.map((step) => step.command));
}

export function writeRecording(stream: Buffer): void {
  writeFileSync(FILE, stream);
}

/** Replies whose bodies are stats: their values (pid, uptime, ...) change from run to run, their fields do not. */
const STATS_REPLIES = new Set([STATS, STATS_JOB, STATS_TUBE]);

/**
 * What a recording says that must not change between servers of the same version: every reply's
 * word and arguments, every body, except that stats bodies are reduced to their field names.
 */
export function shapeOf(stream: Buffer): readonly unknown[] {
  return parseChunks([stream]).map((reply: Reply, index) => {
    if (!STATS_REPLIES.has(index)) return { word: reply.word, args: reply.args, body: reply.body?.toString('latin1') ?? null };
    const fields = (reply.body as Buffer)
      .toString('latin1')
      .split('\n')
      .filter((line) => line.includes(': '))
      .map((line) => line.slice(0, line.indexOf(': ')));
    return { word: reply.word, fields };
  });
}

/**
 * Command lines as beanstalkd 1.12 reads them (the server's side of the command table), with no
 * server: one row per line, quirks included. The differential tests hold the same reading to a
 * real beanstalkd; these rows say, in one place, what that reading is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS, type Command } from '../../src/protocol/commands.js';
import { parseLine, replyLine, validTube } from '../../src/protocol/command-line.js';

type Expected = readonly [Command, readonly (number | string)[]] | 'BAD_FORMAT' | 'UNKNOWN_COMMAND' | readonly ['BAD_FORMAT counted', Command];

const ROWS: readonly (readonly [string, Expected, string])[] = [
  ['put 1 2 3 4', [COMMANDS.put, [1, 2, 3]], 'a put line'],
  ['put  1  2 3   4', [COMMANDS.put, [1, 2, 3]], 'spaces before numbers are skipped'],
  ['put 4294967296 0 1 1', 'BAD_FORMAT', 'a priority over 2^32-1'],
  ['put -1 0 1 1', 'BAD_FORMAT', 'a sign'],
  ['put 1 2 3', 'BAD_FORMAT', 'no byte count'],
  ['delete 5', [COMMANDS.delete, [5]], 'an id'],
  ['delete 05', [COMMANDS.delete, [5]], 'leading zeros'],
  ['delete 5 ', 'BAD_FORMAT', 'a space after the last number'],
  ['delete 18446744073709551615', [COMMANDS.delete, [18446744073709551615]], 'the largest id'],
  ['delete 18446744073709551616', 'BAD_FORMAT', 'an id over 2^64-1'],
  ['delete', 'UNKNOWN_COMMAND', 'no space: not the prefix "delete "'],
  ['release 1 2 3', [COMMANDS.release, [1, 2, 3]], 'three numbers'],
  ['bury 1 2 3', 'BAD_FORMAT', 'one number too many'],
  ['reserve', [COMMANDS.reserve, []], 'reserve'],
  ['reserves', 'BAD_FORMAT', 'a command without arguments takes nothing after it'],
  ['reserve-with-timeout 5', [COMMANDS.reserveWithTimeout, [5]], 'a timeout'],
  ['reserve-with-timeout -3', [COMMANDS.reserveWithTimeout, [-3]], 'strtol: a negative timeout (waits as long as it takes)'],
  ['reserve-with-timeout x', [COMMANDS.reserveWithTimeout, [0]], 'strtol: no digits reads as 0'],
  ['reserve-with-timeout 7abc', [COMMANDS.reserveWithTimeout, [7]], 'strtol: anything after the number is ignored'],
  ['reserve-with-timeout 4294967296', [COMMANDS.reserveWithTimeout, [0]], 'strtol: cut to 32 bits'],
  ['reserve-with-timeout 99999999999999999999', 'BAD_FORMAT', 'strtol: out of range'],
  ['kick 10', [COMMANDS.kick, [10]], 'a bound'],
  ['kick -1', [COMMANDS.kick, [4294967295]], 'strtoul: a negative bound wraps'],
  ['kick x', 'BAD_FORMAT', 'strtoul: digits required'],
  ['kick 3 and more', [COMMANDS.kick, [3]], 'strtoul: anything after the number is ignored'],
  ['kick-job 3', [COMMANDS.kickJob, [3]], 'kick-job is not kick'],
  ['stats', [COMMANDS.stats, []], 'stats'],
  ['stats-job 1', [COMMANDS.statsJob, [1]], 'stats-job, not stats'],
  ['stats-job', 'BAD_FORMAT', 'read as stats, with something after it'],
  ['stats-tube a(b)', [COMMANDS.statsTube, ['a(b)']], 'a tube name'],
  ['use -x', 'BAD_FORMAT', 'a name starting with -'],
  ['use  x', 'BAD_FORMAT', 'the rest of the line is the name, its leading space included'],
  [`use ${'x'.repeat(200)}`, [COMMANDS.use, ['x'.repeat(200)]], 'a 200-byte name'],
  [`use ${'x'.repeat(201)}`, 'BAD_FORMAT', 'a 201-byte name'],
  ['watch a b', 'BAD_FORMAT', 'a space inside the name'],
  ['pause-tube t 5', [COMMANDS.pauseTube, ['t', 5]], 'a name and seconds'],
  ['pause-tubet 5', [COMMANDS.pauseTube, ['t', 5]], 'the prefix has no space: the name starts at once'],
  ['pause-tube -t 5', ['BAD_FORMAT counted', COMMANDS.pauseTube], 'a bad name is found after the command is counted'],
  ['pause-tube t', 'BAD_FORMAT', 'no seconds'],
  ['list-tubes', [COMMANDS.listTubes, []], 'list-tubes'],
  ['list-tubes-watched', [COMMANDS.listTubesWatched, []], 'list-tubes-watched, not list-tubes'],
  ['list-tube-used', [COMMANDS.listTubeUsed, []], 'list-tube-used'],
  ['quit', [COMMANDS.quit, []], 'quit'],
  ['quit now', [COMMANDS.quit, []], 'quit takes anything after it'],
  ['frobnicate', 'UNKNOWN_COMMAND', 'no such command'],
  ['PUT 1 2 3 4', 'UNKNOWN_COMMAND', 'commands are lower case'],
];

for (const [line, expected, what] of ROWS) {
  test(`"${line.length > 40 ? `${line.slice(0, 40)}...` : line}": ${what}`, () => {
    const parsed = parseLine(line);
    if (expected === 'UNKNOWN_COMMAND') {
      assert.equal(parsed.kind, 'unknown');
    } else if (expected === 'BAD_FORMAT') {
      assert.deepEqual(parsed, { kind: 'bad-format', counted: null });
    } else if (expected[0] === 'BAD_FORMAT counted') {
      assert.deepEqual(parsed, { kind: 'bad-format', counted: expected[1] });
    } else {
      assert.equal(parsed.kind, 'command');
      if (parsed.kind !== 'command') return;
      assert.equal(parsed.command, expected[0]);
      assert.deepEqual(parsed.args, expected[1]);
    }
  });
}

test('put: the byte count, and whether anything trails it (BAD_FORMAT, once the size fits)', () => {
  assert.deepEqual(parseLine('put 1 2 3 4'), { kind: 'command', command: COMMANDS.put, args: [1, 2, 3], put: { bodyBytes: 4, trailing: false } });
  const trailing = parseLine('put 1 2 3 4 x');
  assert.equal(trailing.kind === 'command' && trailing.put?.trailing, true);
});

test('tube names: 1 to 200 of letters, digits and - + / ; . $ _ ( ), not starting with -', () => {
  for (const good of ['a', 'default', 'a-+/;.$_()9', 'x'.repeat(200)]) assert.equal(validTube(good), true, good);
  for (const bad of ['', '-a', 'a b', 'x'.repeat(201), 'é', 'a\tb']) assert.equal(validTube(bad), false, bad);
});

test('replyLine: only replies the table lists for the command, with their arguments', () => {
  assert.equal(replyLine(COMMANDS.put, 'INSERTED', [7]), 'INSERTED 7\r\n');
  assert.equal(replyLine(COMMANDS.delete, 'NOT_FOUND'), 'NOT_FOUND\r\n');
  assert.equal(replyLine(COMMANDS.stats, 'BAD_FORMAT'), 'BAD_FORMAT\r\n');
  assert.throws(() => replyLine(COMMANDS.delete, 'INSERTED', [7]), /cannot answer/);
  assert.throws(() => replyLine(COMMANDS.put, 'INSERTED'), /cannot answer/);
});

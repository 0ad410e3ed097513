/**
 * The command table with no server: for every command, the exact bytes it sends for given
 * arguments, the value of every reply it can get, the error class of every error reply, a
 * ProtocolError for a reply it cannot get, and the check of every argument. One row per command
 * below holds everything about it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BadFormatError,
  BeanstalkError,
  BuriedError,
  DeadlineSoonError,
  DrainingError,
  ExpectedCrlfError,
  InternalError,
  InvalidArgumentError,
  JobTooBigError,
  NotFoundError,
  NotIgnoredError,
  OutOfMemoryError,
  ProtocolError,
  UnknownCommandError,
  type Reply,
  type ServerErrorCode,
} from '../../src/index.js';
import {
  COMMANDS,
  COMMANDS_BY_WIRE_NAME,
  DATA_REPLY_WORDS,
  decodeReply,
  request,
  type Command,
  type CommandName,
} from '../../src/protocol/commands.js';
import { thrown } from '../helpers/assertions.js';
import { ALL_BYTES, dataFixture, fixtureReply, LONGEST_TUBE, replyOf } from '../helpers/replies.js';

type ErrorClass = new (...args: never[]) => BeanstalkError;

const job = (id: number, body: Buffer | string): { id: number; body: Buffer } => ({ id, body: Buffer.from(body) });
const ok = (body: string): Reply => fixtureReply(dataFixture('OK', body));

interface Row {
  /** Arguments as a caller gives them, and the line they make (CRLF added by the test). */
  readonly args: readonly unknown[];
  readonly line: string;
  readonly body?: Buffer;
  /** Replies that are values, with the value. */
  readonly values: readonly (readonly [Reply, unknown])[];
  /** Error replies of this command (besides the four every command can get), with their class. */
  readonly errors: readonly (readonly [Reply, ErrorClass])[];
  /** Replies this command cannot get: a ProtocolError (the stream is out of step). */
  readonly impossible: readonly Reply[];
}

/** The whole protocol, by table key; the test below checks that every command has a row. */
const ROWS: Record<CommandName, Row> = {
  put: {
    args: [5, 0, 60],
    body: Buffer.from('hi\r\n'),
    line: 'put 5 0 60 4',
    values: [[replyOf('INSERTED 5'), 5]],
    errors: [
      [replyOf('BURIED 12'), BuriedError],
      [replyOf('EXPECTED_CRLF'), ExpectedCrlfError],
      [replyOf('JOB_TOO_BIG'), JobTooBigError],
      [replyOf('DRAINING'), DrainingError],
    ],
    impossible: [replyOf('WATCHING 1'), replyOf('NOT_FOUND'), replyOf('DEADLINE_SOON'), replyOf('INSERTED'), replyOf('INSERTED x'), replyOf('BURIED')],
  },
  use: {
    args: [LONGEST_TUBE],
    line: `use ${LONGEST_TUBE}`,
    values: [[replyOf(`USING ${LONGEST_TUBE}`), LONGEST_TUBE]],
    errors: [],
    impossible: [replyOf('USING'), replyOf('WATCHING 1')],
  },
  reserve: {
    args: [],
    line: 'reserve',
    values: [[replyOf('RESERVED 7 256', ALL_BYTES), job(7, ALL_BYTES)]],
    errors: [[replyOf('DEADLINE_SOON'), DeadlineSoonError]],
    // beanstalkd 1.12 never answers reserve with NOT_FOUND or TIMED_OUT.
    impossible: [replyOf('TIMED_OUT'), replyOf('NOT_FOUND')],
  },
  reserveWithTimeout: {
    args: [3],
    line: 'reserve-with-timeout 3',
    values: [
      [replyOf('RESERVED 9007199254740991 2', '\r\n'), job(Number.MAX_SAFE_INTEGER, '\r\n')],
      [replyOf('TIMED_OUT'), null],
    ],
    errors: [[replyOf('DEADLINE_SOON'), DeadlineSoonError]],
    impossible: [replyOf('NOT_FOUND')],
  },
  reserveJob: {
    args: [8],
    line: 'reserve-job 8',
    values: [[replyOf('RESERVED 8 0', ''), job(8, '')]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    // prot.c: reserve-job never answers DEADLINE_SOON.
    impossible: [replyOf('TIMED_OUT'), replyOf('DEADLINE_SOON')],
  },
  delete: {
    args: [9],
    line: 'delete 9',
    values: [[replyOf('DELETED'), undefined]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    impossible: [replyOf('NOT_IGNORED'), replyOf('DELETED 5'), replyOf('TIMED_OUT')],
  },
  release: {
    args: [9, 4294967295, 10],
    line: 'release 9 4294967295 10',
    values: [[replyOf('RELEASED'), undefined]],
    errors: [
      [replyOf('BURIED'), BuriedError],
      [replyOf('NOT_FOUND'), NotFoundError],
    ],
    impossible: [replyOf('DELETED')],
  },
  bury: {
    args: [9, 0],
    line: 'bury 9 0',
    values: [[replyOf('BURIED'), undefined]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    impossible: [replyOf('BURIED 5')],
  },
  touch: {
    args: [9],
    line: 'touch 9',
    values: [[replyOf('TOUCHED'), undefined]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    impossible: [replyOf('DELETED')],
  },
  watch: {
    args: ['a(b)'],
    line: 'watch a(b)',
    values: [[replyOf('WATCHING 2'), 2]],
    errors: [],
    impossible: [replyOf('WATCHING'), replyOf('NOT_IGNORED')],
  },
  ignore: {
    args: ['default'],
    line: 'ignore default',
    values: [[replyOf('WATCHING 1'), 1]],
    errors: [[replyOf('NOT_IGNORED'), NotIgnoredError]],
    impossible: [replyOf('IGNORED')],
  },
  peek: {
    args: [3],
    line: 'peek 3',
    values: [
      [replyOf('FOUND 3 5', 'hello'), job(3, 'hello')],
      [replyOf('NOT_FOUND'), null],
    ],
    errors: [],
    impossible: [replyOf('TIMED_OUT'), replyOf('DEADLINE_SOON'), replyOf('RESERVED 1 0', '')],
  },
  peekReady: {
    args: [],
    line: 'peek-ready',
    values: [
      [replyOf('FOUND 1 0', ''), job(1, '')],
      [replyOf('NOT_FOUND'), null],
    ],
    errors: [],
    impossible: [replyOf('RESERVED 1 0', '')],
  },
  peekDelayed: {
    args: [],
    line: 'peek-delayed',
    values: [[replyOf('NOT_FOUND'), null]],
    errors: [],
    impossible: [replyOf('TIMED_OUT')],
  },
  peekBuried: {
    args: [],
    line: 'peek-buried',
    values: [[replyOf('FOUND 2 2', '\r\n'), job(2, '\r\n')]],
    errors: [],
    impossible: [replyOf('BURIED')],
  },
  kick: {
    args: [100],
    line: 'kick 100',
    values: [[replyOf('KICKED 3'), 3]],
    errors: [],
    impossible: [replyOf('KICKED')],
  },
  kickJob: {
    args: [4],
    line: 'kick-job 4',
    values: [[replyOf('KICKED'), undefined]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    impossible: [replyOf('KICKED 3')],
  },
  stats: {
    args: [],
    line: 'stats',
    values: [[ok('---\ncurrent-jobs-ready: 3\nversion: "1.12"\n'), { currentJobsReady: 3, version: '1.12' }]],
    errors: [],
    impossible: [replyOf('OK'), replyOf('NOT_FOUND')],
  },
  statsJob: {
    args: [4],
    line: 'stats-job 4',
    values: [[ok('---\nid: 4\nstate: buried\n'), { id: 4, state: 'buried' }]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    impossible: [replyOf('FOUND 1 0', '')],
  },
  statsTube: {
    args: ['t'],
    line: 'stats-tube t',
    values: [[ok('---\nname: t\npause: 0\n'), { name: 't', pause: 0 }]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    impossible: [replyOf('USING t')],
  },
  listTubes: {
    args: [],
    line: 'list-tubes',
    values: [[ok('---\n- default\n- a(b)\n'), ['default', 'a(b)']]],
    errors: [],
    impossible: [replyOf('NOT_FOUND')],
  },
  listTubeUsed: {
    args: [],
    line: 'list-tube-used',
    values: [[replyOf('USING default'), 'default']],
    errors: [],
    impossible: [replyOf('OK 0', '')],
  },
  listTubesWatched: {
    args: [],
    line: 'list-tubes-watched',
    values: [[ok('---\n- default\n'), ['default']]],
    errors: [],
    impossible: [replyOf('WATCHING 1')],
  },
  pauseTube: {
    args: ['t', 30],
    line: 'pause-tube t 30',
    values: [[replyOf('PAUSED'), undefined]],
    errors: [[replyOf('NOT_FOUND'), NotFoundError]],
    impossible: [replyOf('DRAINING')],
  },
  quit: {
    args: [],
    line: 'quit',
    values: [],
    errors: [],
    impossible: [replyOf('OK 0', '')],
  },
};

const GENERIC: readonly (readonly [string, ErrorClass])[] = [
  ['OUT_OF_MEMORY', OutOfMemoryError],
  ['INTERNAL_ERROR', InternalError],
  ['BAD_FORMAT', BadFormatError],
  ['UNKNOWN_COMMAND', UnknownCommandError],
];


function label(reply: Reply): string {
  return [reply.word, ...reply.args].join(' ');
}

test('the table has every command of beanstalkd 1.12, and a row here for each', () => {
  assert.deepEqual(
    [...COMMANDS_BY_WIRE_NAME.keys()].sort(),
    [
      'bury', 'delete', 'ignore', 'kick', 'kick-job', 'list-tube-used', 'list-tubes', 'list-tubes-watched', 'pause-tube',
      'peek', 'peek-buried', 'peek-delayed', 'peek-ready', 'put', 'quit', 'release', 'reserve', 'reserve-job',
      'reserve-with-timeout', 'stats', 'stats-job', 'stats-tube', 'touch', 'use', 'watch',
    ],
  );
  assert.deepEqual(Object.keys(ROWS).sort(), Object.keys(COMMANDS).sort());
});

test('the replies with a data block, which the parser reads by count, are RESERVED, FOUND and OK', () => {
  assert.deepEqual([...DATA_REPLY_WORDS].sort(), ['FOUND', 'OK', 'RESERVED']);
});

test('flags: reserve blocks until a job, reserve-with-timeout for its seconds; use, watch, ignore change tubes', () => {
  const flagged = Object.values(COMMANDS)
    .filter((entry: Command) => entry.blocks !== 'no' || entry.tube !== null)
    .map((entry: Command) => `${entry.name}: ${entry.blocks} ${entry.tube}`);
  assert.deepEqual(flagged.sort(), [
    'ignore: no ignore',
    'kick: no used',
    'list-tube-used: no used',
    'peek-buried: no used',
    'peek-delayed: no used',
    'peek-ready: no used',
    'put: no used',
    'reserve-with-timeout: timeout null',
    'reserve: forever null',
    'use: no use',
    'watch: no watch',
  ]);
  assert.equal(request(COMMANDS.reserve, []).holdMs, Infinity);
  assert.equal(request(COMMANDS.reserveWithTimeout, [3]).holdMs, 3000);
  assert.equal(request(COMMANDS.delete, [1]).holdMs, 0);
});

for (const [key, row] of Object.entries(ROWS) as [CommandName, Row][]) {
  const command: Command = COMMANDS[key];
  describe(`${command.name}`, () => {
    const sent = request(command, row.args, row.body ?? null);

    test(`sends "${row.line}" and its body byte for byte`, () => {
      assert.equal(sent.head, `${row.line}\r\n`);
      assert.deepEqual(sent.body, row.body ?? null);
    });

    for (const [reply, value] of row.values) {
      test(`${label(reply)} is ${JSON.stringify(value)}`, () => {
        assert.deepStrictEqual(decodeReply(sent, reply), value);
      });
    }

    for (const [reply, type] of [...row.errors, ...GENERIC.map(([word, type]) => [replyOf(word), type] as const)]) {
      test(`${label(reply)} is a ${type.name}`, () => {
        const error = thrown(() => decodeReply(sent, reply));
        assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
        assert.ok(error instanceof BeanstalkError);
        assert.equal(error.code, reply.word as ServerErrorCode);
        assert.equal(error.command, command.name);
      });
    }

    for (const reply of row.impossible) {
      test(`${label(reply)} is a ProtocolError: it cannot answer ${command.name}`, () => {
        const error = thrown(() => decodeReply(sent, reply));
        assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
        assert.equal(error.command, command.name);
      });
    }

    command.args.forEach((spec, index) => {
      const bad: readonly unknown[] =
        spec.kind === 'tube'
          ? ['', '-starts-with-dash', 'has space', 'x'.repeat(201), 'é', 7, null]
          : spec.kind === 'id'
            ? [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, '1', null, Number.NaN]
            : [-1, 1.5, 4294967296, '1', null, Number.NaN, Infinity];
      test(`argument ${spec.name} (${spec.kind}): refused before anything is built, naming it`, () => {
        for (const value of bad) {
          const args = [...row.args];
          args[index] = value;
          const error = thrown(() => request(command, args, row.body ?? null));
          assert.ok(error instanceof InvalidArgumentError, `${spec.name} = ${String(value)}: got ${String(error)}`);
          assert.equal(error.argument, spec.name);
        }
      });
    });
  });
}

test("put's BURIED <id> names the new job; release's BURIED the job released", () => {
  const put = thrown(() => decodeReply(request(COMMANDS.put, [0, 0, 1], Buffer.from('x')), replyOf('BURIED 12')));
  assert.equal((put as BuriedError).id, 12);
  const released = thrown(() => decodeReply(request(COMMANDS.release, [9, 0, 0]), replyOf('BURIED')));
  assert.equal((released as BuriedError).id, 9);
});

test('the edges of every number kind are accepted: 0 and 2^32-1, ids 1 and 2^53-1', () => {
  assert.equal(request(COMMANDS.put, [0, 4294967295, 0], Buffer.alloc(0)).head, 'put 0 4294967295 0 0\r\n');
  assert.equal(request(COMMANDS.delete, [Number.MAX_SAFE_INTEGER]).head, `delete ${Number.MAX_SAFE_INTEGER}\r\n`);
  assert.equal(request(COMMANDS.peek, [1]).head, 'peek 1\r\n');
});

test('every error class is a BeanstalkError, and a ProtocolError is not', () => {
  const classes: ErrorClass[] = [
    OutOfMemoryError,
    InternalError,
    BadFormatError,
    UnknownCommandError,
    ExpectedCrlfError,
    JobTooBigError,
    DrainingError,
    BuriedError,
    NotFoundError,
    DeadlineSoonError,
    NotIgnoredError,
  ];
  for (const type of classes) assert.ok(type.prototype instanceof BeanstalkError, type.name);
  assert.ok(!(new ProtocolError('x') instanceof BeanstalkError));
});

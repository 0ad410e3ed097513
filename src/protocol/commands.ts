/**
 * The beanstalkd protocol, one entry per command: the command line, the replies it can get, what its
 * success means, whether it blocks, and what it does to the connection's tubes. Everything else in
 * beanline that speaks the protocol reads this table: the client checks and encodes commands and
 * decodes replies with it, the reply parser learns from it which replies carry a data block.
 *
 * Reading an entry: `<id>`, `<count>` and `<bytes>` are decimal numbers; `<bytes>` as the last word
 * means a data block of that many bytes follows the line (for `put`, the job body; in a reply, the
 * job or the YAML). Every command may also get OUT_OF_MEMORY, INTERNAL_ERROR, BAD_FORMAT and
 * UNKNOWN_COMMAND.
 */
import {
  BadFormatError,
  BuriedError,
  DeadlineSoonError,
  DrainingError,
  ExpectedCrlfError,
  InternalError,
  JobTooBigError,
  NotFoundError,
  NotIgnoredError,
  OutOfMemoryError,
  ProtocolError,
  UnknownCommandError,
  type BeanstalkError,
  type ServerErrorCode,
} from '../errors.js';
import { parseCount, type Reply } from './reply.js';
import {
  parseJobStats,
  parseServerStats,
  parseTubeList,
  parseTubeStats,
  type JobStats,
  type ServerStats,
  type TubeStats,
} from './stats.js';
import { checkId, checkTube, checkUint32 } from './validate.js';

/** beanstalkd's defaults, which the protocol leaves to the client: a put must say them. */
export const DEFAULT_PRIORITY = 1024;
export const DEFAULT_TTR = 60;
export const DEFAULT_DELAY = 0;

/** A job as the server hands it over. */
export interface Job {
  readonly id: number;
  readonly body: Buffer;
}

/**
 * What a command does to the connection's tubes: `use`, `watch` and `ignore` change them; `used`
 * commands act on the tube in use (put, peek-ready/-delayed/-buried, kick, list-tube-used).
 */
export type TubeEffect = 'use' | 'watch' | 'ignore' | 'used' | null;

/** `forever`: reserve waits until a job comes; `timeout`: reserve-with-timeout waits its seconds. */
export type Blocking = 'no' | 'forever' | 'timeout';

/** How an argument of a command line is checked: a tube name, an unsigned 32-bit number, a job id. */
export type ArgKind = 'tube' | 'uint32' | 'id';

export interface ArgSpec {
  /** The name the caller knows it by, used in InvalidArgumentError. */
  readonly name: string;
  readonly kind: ArgKind;
}

/** One reply a command can get: its word, the names of the words after it, and whether a data block follows. */
export interface ReplySpec {
  readonly word: string;
  readonly args: readonly string[];
  readonly data: boolean;
}

export type ArgValue = string | number;

/**
 * How beanstalkd reads a number that it does not read strictly: `strtol` (reserve-with-timeout: a
 * sign, no digits at all as 0, anything after the number ignored, the result cut to 32 bits) and
 * `strtoul` (kick: a sign, anything after ignored, cut to 32 bits, but digits required).
 */
export type Leniency = 'strtol' | 'strtoul';

export interface Command<T = unknown> {
  readonly name: string;
  /**
   * What a line must start with for beanstalkd to take it as this command: the name, and a space
   * when arguments follow. beanstalkd tries the longest first, so `stats-tube x` is not `stats`.
   */
  readonly prefix: string;
  /** Set where beanstalkd reads the command's one number loosely (see Leniency). */
  readonly lenient: Leniency | null;
  readonly args: readonly ArgSpec[];
  /** True for put: a body follows the line, and the line ends with its length. */
  readonly body: boolean;
  /** Replies that mean the command did its work (a miss that is a value, such as peek's NOT_FOUND, is one). */
  readonly ok: ReadonlyMap<string, ReplySpec>;
  /** Replies that refuse the command, besides the four every command can get. */
  readonly errors: ReadonlyMap<string, ReplySpec>;
  readonly blocks: Blocking;
  readonly tube: TubeEffect;
  /** The value of an `ok` reply whose shape has been checked. */
  value(reply: Reply, sent: Request<T>): T;
}

/** A command ready to go: checked arguments, its line, its body. */
export interface Request<T = unknown> {
  readonly command: Command<T>;
  readonly args: readonly ArgValue[];
  /** The command line with its CRLF, ASCII only (tube names are checked). */
  readonly head: string;
  /** The job body of a put, dropped once written. */
  body: Buffer | null;
  /** How long the server may rightly hold the reply back: 0, reserve-with-timeout's wait, Infinity for reserve. */
  readonly holdMs: number;
  /** For a command on the used tube: the tube it must run in; the link sends `use` first if need be. */
  readonly tube: string | null;
}

// ---------------------------------------------------------------------------------------------
// The values of success replies
// ---------------------------------------------------------------------------------------------

function count(reply: Reply, index: number, command: string): number {
  const value = parseCount(reply.args[index]);
  if (value === null) throw unexpected(reply, command);
  return value;
}

const nothing = (): void => undefined;
const firstCount = (reply: Reply, sent: Request): number => count(reply, 0, sent.command.name);
const tubeName = (reply: Reply): string => reply.args[0] as string;
const job = (reply: Reply, sent: Request): Job => ({ id: count(reply, 0, sent.command.name), body: reply.body as Buffer });
/** peek's NOT_FOUND and reserve-with-timeout's TIMED_OUT are answers, not failures. */
const jobOrNull = (reply: Reply, sent: Request): Job | null => (reply.body === null ? null : job(reply, sent));
const yaml =
  <T>(parse: (body: Buffer) => T) =>
  (reply: Reply): T =>
    parse(reply.body as Buffer);

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/** How each argument name of the table is checked. */
const ARG_KINDS: Readonly<Record<string, ArgKind>> = {
  tube: 'tube',
  id: 'id',
  priority: 'uint32',
  delay: 'uint32',
  ttr: 'uint32',
  seconds: 'uint32',
  bound: 'uint32',
};

const JOB = 'RESERVED <id> <bytes>';
const FOUND = 'FOUND <id> <bytes>';
const YAML = 'OK <bytes>';

export const COMMANDS = {
  put: command('put <priority> <delay> <ttr> <bytes>', ['INSERTED <id>'], ['BURIED <id>', 'EXPECTED_CRLF', 'JOB_TOO_BIG', 'DRAINING'], firstCount, { tube: 'used' }),
  use: command('use <tube>', ['USING <tube>'], [], tubeName, { tube: 'use' }),
  reserve: command('reserve', [JOB], ['DEADLINE_SOON'], job, { blocks: 'forever' }),
  reserveWithTimeout: command('reserve-with-timeout <seconds>', [JOB, 'TIMED_OUT'], ['DEADLINE_SOON'], jobOrNull, { blocks: 'timeout', lenient: 'strtol' }),
  reserveJob: command('reserve-job <id>', [JOB], ['NOT_FOUND'], job),
  delete: command('delete <id>', ['DELETED'], ['NOT_FOUND'], nothing),
  release: command('release <id> <priority> <delay>', ['RELEASED'], ['BURIED', 'NOT_FOUND'], nothing),
  bury: command('bury <id> <priority>', ['BURIED'], ['NOT_FOUND'], nothing),
  touch: command('touch <id>', ['TOUCHED'], ['NOT_FOUND'], nothing),
  watch: command('watch <tube>', ['WATCHING <count>'], [], firstCount, { tube: 'watch' }),
  ignore: command('ignore <tube>', ['WATCHING <count>'], ['NOT_IGNORED'], firstCount, { tube: 'ignore' }),
  peek: command('peek <id>', [FOUND, 'NOT_FOUND'], [], jobOrNull),
  peekReady: command('peek-ready', [FOUND, 'NOT_FOUND'], [], jobOrNull, { tube: 'used' }),
  peekDelayed: command('peek-delayed', [FOUND, 'NOT_FOUND'], [], jobOrNull, { tube: 'used' }),
  peekBuried: command('peek-buried', [FOUND, 'NOT_FOUND'], [], jobOrNull, { tube: 'used' }),
  kick: command('kick <bound>', ['KICKED <count>'], [], firstCount, { tube: 'used', lenient: 'strtoul' }),
  kickJob: command('kick-job <id>', ['KICKED'], ['NOT_FOUND'], nothing),
  stats: command('stats', [YAML], [], yaml<ServerStats>(parseServerStats)),
  statsJob: command('stats-job <id>', [YAML], ['NOT_FOUND'], yaml<JobStats>(parseJobStats)),
  statsTube: command('stats-tube <tube>', [YAML], ['NOT_FOUND'], yaml<TubeStats>(parseTubeStats)),
  listTubes: command('list-tubes', [YAML], [], yaml<string[]>(parseTubeList)),
  listTubeUsed: command('list-tube-used', ['USING <tube>'], [], tubeName, { tube: 'used' }),
  listTubesWatched: command('list-tubes-watched', [YAML], [], yaml<string[]>(parseTubeList)),
  // beanstalkd matches `pause-tube` without the space: `pause-tubefoo 5` pauses tube foo.
  pauseTube: command('pause-tube <tube> <seconds>', ['PAUSED'], ['NOT_FOUND'], nothing, { prefix: 'pause-tube' }),
  /** The server closes the connection; there is no reply. */
  quit: command('quit', [], [], nothing),
} as const;

export type CommandName = keyof typeof COMMANDS;

/** Every command, by its name on the wire. */
export const COMMANDS_BY_WIRE_NAME: ReadonlyMap<string, Command> = new Map(
  Object.values(COMMANDS).map((entry: Command) => [entry.name, entry]),
);

/** The reply words followed by a data block, from the table: what the reply parser must read by count. */
export const DATA_REPLY_WORDS: ReadonlySet<string> = new Set(
  Object.values(COMMANDS).flatMap((entry: Command) => [...entry.ok.values()].filter((reply) => reply.data).map((reply) => reply.word)),
);

/** The error replies every command can get. */
export const GENERIC_ERRORS = ['OUT_OF_MEMORY', 'INTERNAL_ERROR', 'BAD_FORMAT', 'UNKNOWN_COMMAND'] as const;

/** Every word a reply can start with. */
export const REPLY_WORDS: readonly string[] = [
  ...new Set([
    ...Object.values(COMMANDS).flatMap((entry: Command) => [...entry.ok.keys(), ...entry.errors.keys()]),
    ...GENERIC_ERRORS,
  ]),
];

// ---------------------------------------------------------------------------------------------
// Building entries, requests, and decoding replies
// ---------------------------------------------------------------------------------------------

function command<T>(
  line: string,
  ok: readonly string[],
  errors: readonly string[],
  value: (reply: Reply, sent: Request<T>) => T,
  options: { blocks?: Blocking; tube?: TubeEffect; prefix?: string; lenient?: Leniency } = {},
): Command<T> {
  const [name = '', ...words] = line.split(' ');
  const body = words.at(-1) === '<bytes>';
  const args = (body ? words.slice(0, -1) : words).map((word): ArgSpec => {
    const argName = word.slice(1, -1);
    const kind = ARG_KINDS[argName];
    if (kind === undefined) throw new Error(`commands: unknown argument ${word} in "${line}"`);
    return { name: argName, kind };
  });
  return {
    name,
    prefix: options.prefix ?? (words.length > 0 ? `${name} ` : name),
    lenient: options.lenient ?? null,
    args,
    body,
    ok: replySpecs(ok),
    errors: replySpecs(errors),
    blocks: options.blocks ?? 'no',
    tube: options.tube ?? null,
    value,
  };
}

function replySpecs(lines: readonly string[]): ReadonlyMap<string, ReplySpec> {
  return new Map(
    lines.map((line) => {
      const [word = '', ...args] = line.split(' ');
      const names = args.map((arg) => arg.slice(1, -1));
      return [word, { word, args: names, data: names.at(-1) === 'bytes' }];
    }),
  );
}

/**
 * Checks `args` against the command's arguments (InvalidArgumentError, naming the argument, for one
 * the server would refuse) and builds the request. `body` only for put; `tube` only for commands
 * on the used tube.
 */
export function request<T>(command: Command<T>, args: readonly unknown[], body: Buffer | null = null, tube: string | null = null): Request<T> {
  const specs = command.args;
  let head = command.name;
  for (let i = 0; i < specs.length; i += 1) head += ` ${checkArg(specs[i] as ArgSpec, args[i])}`;
  if (body !== null) head += ` ${body.length}`;
  head += '\r\n';
  const holdMs = command.blocks === 'forever' ? Infinity : command.blocks === 'timeout' ? (args[0] as number) * 1000 : 0;
  return { command, args: args as readonly ArgValue[], head, body, holdMs, tube };
}

function checkArg(spec: ArgSpec, value: unknown): ArgValue {
  switch (spec.kind) {
    case 'uint32':
      return checkUint32(value, spec.name);
    case 'id':
      return checkId(value, spec.name);
    case 'tube':
      return checkTube(value, spec.name);
  }
}

/**
 * The value of the reply to `sent`. Throws the BeanstalkError of an error reply the command can get,
 * and a ProtocolError for a reply it cannot get (the stream is out of step with the commands).
 */
export function decodeReply<T>(sent: Request<T>, reply: Reply): T {
  const { command } = sent;
  const shape = command.ok.get(reply.word);
  if (shape !== undefined && shape.args.length === reply.args.length) return command.value(reply, sent);
  throw refusal(sent, reply);
}

function refusal(sent: Request, reply: Reply): BeanstalkError | ProtocolError {
  const { command } = sent;
  const name = command.name;
  const shape = command.errors.get(reply.word);
  const known = shape !== undefined || (GENERIC_ERRORS as readonly string[]).includes(reply.word);
  if (!known || reply.args.length !== (shape?.args.length ?? 0)) return unexpected(reply, name);
  switch (reply.word as ServerErrorCode) {
    case 'OUT_OF_MEMORY':
      return new OutOfMemoryError(name);
    case 'INTERNAL_ERROR':
      return new InternalError(name);
    case 'BAD_FORMAT':
      return new BadFormatError(name);
    case 'UNKNOWN_COMMAND':
      return new UnknownCommandError(name);
    case 'NOT_FOUND':
      return new NotFoundError(name);
    case 'DEADLINE_SOON':
      return new DeadlineSoonError(name);
    case 'NOT_IGNORED':
      return new NotIgnoredError(name);
    case 'EXPECTED_CRLF':
      return new ExpectedCrlfError(name);
    case 'JOB_TOO_BIG':
      return new JobTooBigError(name);
    case 'DRAINING':
      return new DrainingError(name);
    case 'BURIED':
      // put's BURIED names the new job; release's is about the job released.
      return new BuriedError(name, reply.args.length > 0 ? count(reply, 0, name) : (sent.args[0] as number));
  }
}

function unexpected(reply: Reply, command: string): ProtocolError {
  const line = [reply.word, ...reply.args].join(' ');
  return new ProtocolError(`${command}: unexpected reply ${JSON.stringify(line.slice(0, 80))}`, { command });
}

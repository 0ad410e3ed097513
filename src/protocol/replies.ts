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
import { parseCount, type Reply } from './parser.js';
import {
  parseJobStats,
  parseServerStats,
  parseTubeList,
  parseTubeStats,
  type JobStats,
  type ServerStats,
  type TubeStats,
} from './stats.js';

/** A job as the server hands it over. */
export interface Job {
  readonly id: number;
  readonly body: Buffer;
}

/**
 * Turns the reply to one command into its value. Throws a BeanstalkError for an error reply the
 * command can get, and a ProtocolError for a reply it cannot get (the stream is out of step).
 */
export type Decoder<T> = (reply: Reply, command: string) => T;

/** Error replies every command can get; the rest are listed with the commands that can get them. */
function serverError(reply: Reply, command: string, extra: readonly ServerErrorCode[]): BeanstalkError {
  switch (reply.word) {
    case 'OUT_OF_MEMORY':
      return new OutOfMemoryError(command);
    case 'INTERNAL_ERROR':
      return new InternalError(command);
    case 'BAD_FORMAT':
      return new BadFormatError(command);
    case 'UNKNOWN_COMMAND':
      return new UnknownCommandError(command);
  }
  if ((extra as readonly string[]).includes(reply.word)) {
    switch (reply.word) {
      case 'NOT_FOUND':
        return new NotFoundError(command);
      case 'DEADLINE_SOON':
        return new DeadlineSoonError(command);
      case 'NOT_IGNORED':
        return new NotIgnoredError(command);
      case 'EXPECTED_CRLF':
        return new ExpectedCrlfError(command);
      case 'JOB_TOO_BIG':
        return new JobTooBigError(command);
      case 'DRAINING':
        return new DrainingError(command);
    }
  }
  throw unexpected(reply, command);
}

function unexpected(reply: Reply, command: string): ProtocolError {
  const line = [reply.word, ...reply.args].join(' ');
  return new ProtocolError(`${command}: unexpected reply ${JSON.stringify(line.slice(0, 80))}`, { command });
}

function integer(reply: Reply, index: number, command: string): number {
  const value = parseCount(reply.args[index]);
  if (value === null) throw unexpected(reply, command);
  return value;
}

/** A decoder for replies that are a single word with nothing to return. */
function word(success: string, errors: readonly ServerErrorCode[]): Decoder<void> {
  return (reply, command) => {
    if (reply.word !== success || reply.args.length !== 0) throw serverError(reply, command, errors);
  };
}

export const decodeInserted: Decoder<number> = (reply, command) => {
  if (reply.word === 'INSERTED') return integer(reply, 0, command);
  if (reply.word === 'BURIED') throw new BuriedError(command, integer(reply, 0, command));
  throw serverError(reply, command, ['EXPECTED_CRLF', 'JOB_TOO_BIG', 'DRAINING']);
};

export const decodeUsing: Decoder<string> = (reply, command) => {
  const tube = reply.args[0];
  if (reply.word !== 'USING' || tube === undefined) throw serverError(reply, command, []);
  return tube;
};

function watching(errors: readonly ServerErrorCode[]): Decoder<number> {
  return (reply, command) => {
    if (reply.word === 'WATCHING' && reply.args.length === 1) return integer(reply, 0, command);
    throw serverError(reply, command, errors);
  };
}

export const decodeWatched = watching([]);
export const decodeIgnored = watching(['NOT_IGNORED']);

function job(reply: Reply, command: string): Job {
  if (reply.args.length !== 2) throw unexpected(reply, command);
  return { id: integer(reply, 0, command), body: reply.body as Buffer };
}

function reserved(errors: readonly ServerErrorCode[], timedOut: boolean): Decoder<Job | null> {
  return (reply, command) => {
    if (reply.word === 'RESERVED') return job(reply, command);
    if (timedOut && reply.word === 'TIMED_OUT') return null;
    throw serverError(reply, command, errors);
  };
}

export const decodeReserved = reserved(['DEADLINE_SOON'], false) as Decoder<Job>;
export const decodeReservedOrTimeout = reserved(['DEADLINE_SOON'], true);
/** reserve-job can find no such job, and never answers DEADLINE_SOON. */
export const decodeReservedJob = reserved(['NOT_FOUND'], false) as Decoder<Job>;

export const decodeFound: Decoder<Job | null> = (reply, command) => {
  if (reply.word === 'FOUND') return job(reply, command);
  if (reply.word === 'NOT_FOUND') return null;
  throw serverError(reply, command, []);
};

export const decodeKicked: Decoder<number> = (reply, command) => {
  if (reply.word === 'KICKED' && reply.args.length === 1) return integer(reply, 0, command);
  throw serverError(reply, command, []);
};

export const decodeDeleted = word('DELETED', ['NOT_FOUND']);
export const decodeBuried = word('BURIED', ['NOT_FOUND']);
export const decodeTouched = word('TOUCHED', ['NOT_FOUND']);
export const decodeKickedJob = word('KICKED', ['NOT_FOUND']);
export const decodePaused = word('PAUSED', ['NOT_FOUND']);

/** `release` answers BURIED when the server could not grow its queue; the id is the released job's. */
export function decodeReleased(id: number): Decoder<void> {
  return (reply, command) => {
    if (reply.word === 'RELEASED') return;
    if (reply.word === 'BURIED') throw new BuriedError(command, id);
    throw serverError(reply, command, ['NOT_FOUND']);
  };
}

function ok<T>(parse: (body: Buffer) => T, errors: readonly ServerErrorCode[]): Decoder<T> {
  return (reply, command) => {
    if (reply.word === 'OK' && reply.body !== null) return parse(reply.body);
    throw serverError(reply, command, errors);
  };
}

export const decodeServerStats: Decoder<ServerStats> = ok(parseServerStats, []);
export const decodeJobStats: Decoder<JobStats> = ok(parseJobStats, ['NOT_FOUND']);
export const decodeTubeStats: Decoder<TubeStats> = ok(parseTubeStats, ['NOT_FOUND']);
export const decodeTubeList: Decoder<string[]> = ok(parseTubeList, []);

/**
 * Every error beanline raises. Server replies map to one class each, so callers branch with
 * `instanceof` (or `.code`) and never on message text.
 */

/** The reply words beanstalkd uses to refuse a command. */
export type ServerErrorCode =
  | 'OUT_OF_MEMORY'
  | 'INTERNAL_ERROR'
  | 'BAD_FORMAT'
  | 'UNKNOWN_COMMAND'
  | 'EXPECTED_CRLF'
  | 'JOB_TOO_BIG'
  | 'DRAINING'
  | 'BURIED'
  | 'NOT_FOUND'
  | 'DEADLINE_SOON'
  | 'NOT_IGNORED';

/** A command the server answered with an error reply. The connection stays usable. */
export class BeanstalkError extends Error {
  override name = 'BeanstalkError';
  /** The reply word, e.g. `NOT_FOUND`. */
  readonly code: ServerErrorCode;
  /** The command that got the reply, e.g. `delete`. */
  readonly command: string;

  constructor(code: ServerErrorCode, command: string, message?: string) {
    super(message ?? `${command}: server replied ${code}`);
    this.code = code;
    this.command = command;
  }
}

export class OutOfMemoryError extends BeanstalkError {
  override name = 'OutOfMemoryError';
  constructor(command: string) {
    super('OUT_OF_MEMORY', command, `${command}: the server is out of memory`);
  }
}

export class InternalError extends BeanstalkError {
  override name = 'InternalError';
  constructor(command: string) {
    super('INTERNAL_ERROR', command, `${command}: the server reported an internal error (a beanstalkd bug)`);
  }
}

export class BadFormatError extends BeanstalkError {
  override name = 'BadFormatError';
  constructor(command: string) {
    super('BAD_FORMAT', command, `${command}: the server rejected the command line as badly formed`);
  }
}

export class UnknownCommandError extends BeanstalkError {
  override name = 'UnknownCommandError';
  constructor(command: string) {
    super('UNKNOWN_COMMAND', command, `${command}: the server does not know this command`);
  }
}

export class ExpectedCrlfError extends BeanstalkError {
  override name = 'ExpectedCrlfError';
  constructor(command: string) {
    super('EXPECTED_CRLF', command, `${command}: the job body was not followed by CRLF`);
  }
}

export class JobTooBigError extends BeanstalkError {
  override name = 'JobTooBigError';
  constructor(command: string) {
    super('JOB_TOO_BIG', command, `${command}: the job body is larger than the server's max-job-size`);
  }
}

export class DrainingError extends BeanstalkError {
  override name = 'DrainingError';
  constructor(command: string) {
    super('DRAINING', command, `${command}: the server is in drain mode and takes no new jobs`);
  }
}

/**
 * `put` or `release` whose job the server buried because it ran out of memory for its
 * priority queue. The job exists (buried) under `id`.
 */
export class BuriedError extends BeanstalkError {
  override name = 'BuriedError';
  readonly id: number;
  constructor(command: string, id: number) {
    super('BURIED', command, `${command}: the server buried job ${id} (out of memory for its priority queue)`);
    this.id = id;
  }
}

export class NotFoundError extends BeanstalkError {
  override name = 'NotFoundError';
  constructor(command: string, what?: string) {
    super('NOT_FOUND', command, `${command}: ${what ?? 'not found'}`);
  }
}

/** A reserve refused because a job this connection holds is within a second of its TTR. */
export class DeadlineSoonError extends BeanstalkError {
  override name = 'DeadlineSoonError';
  constructor(command: string) {
    super(
      'DEADLINE_SOON',
      command,
      `${command}: a job reserved by this connection is about to reach its TTR; touch, delete or release it`,
    );
  }
}

export class NotIgnoredError extends BeanstalkError {
  override name = 'NotIgnoredError';
  constructor(command: string) {
    super('NOT_IGNORED', command, `${command}: cannot ignore the last watched tube`);
  }
}

export interface ConnectionErrorOptions extends ErrorOptions {
  command?: string;
  /** True when the command's bytes were written, so the server may have applied it. */
  maybeApplied?: boolean;
}

/**
 * The connection is closed, was reset, or could not be opened. `maybeApplied` says whether the
 * command had been written: a `put` with `maybeApplied` may have created a job.
 */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  readonly command: string | undefined;
  readonly maybeApplied: boolean;
  constructor(message: string, options: ConnectionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.command = options.command;
    this.maybeApplied = options.maybeApplied ?? false;
  }
}

/** A command (or the connect) took longer than its configured bound. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly command: string | undefined;
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, command?: string, options?: ErrorOptions) {
    super(message, options);
    this.timeoutMs = timeoutMs;
    this.command = command;
  }
}

/** The peer sent bytes that are not a beanstalkd reply; the connection is closed. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  readonly command: string | undefined;
  constructor(message: string, options: { cause?: unknown; command?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.command = options.command;
  }
}

/** An argument that beanstalkd would reject; raised before anything is sent. */
export class InvalidArgumentError extends TypeError {
  override name = 'InvalidArgumentError';
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(message);
    this.argument = argument;
  }
}

export type UnhandledJobReason = 'malformed' | 'unknown-type';

/** A reserved job the worker cannot run: its body is not a beanline envelope, or no definition has its type. */
export class UnhandledJobError extends Error {
  override name = 'UnhandledJobError';
  readonly id: number;
  readonly reason: UnhandledJobReason;
  constructor(id: number, reason: UnhandledJobReason, detail: string) {
    super(`job ${id}: ${detail}; it was buried`);
    this.id = id;
    this.reason = reason;
  }
}

/** The worker ran a job but could not record the outcome as planned; `cause` is the server's answer. */
export class JobOutcomeError extends Error {
  override name = 'JobOutcomeError';
  readonly id: number;
  constructor(id: number, detail: string, cause: unknown) {
    super(`job ${id}: ${detail}`, { cause });
    this.id = id;
  }
}

export { Client, DEFAULT_PRIORITY, DEFAULT_TTR } from './client.js';
export type { ClientEvents, PutOptions, ReleaseOptions } from './client.js';
export { Connection } from './connection.js';
export type { ConnectionEvents } from './connection.js';
export { DEFAULT_HOST, DEFAULT_PORT, parseUrl } from './options.js';
export type { ConnectOptions } from './options.js';
export {
  BadFormatError,
  BeanstalkError,
  BuriedError,
  ConnectionError,
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
  TimeoutError,
  UnknownCommandError,
} from './errors.js';
export type { ConnectionErrorOptions, ServerErrorCode } from './errors.js';
export { ReplyParser } from './protocol/parser.js';
export type { ParserLimits, Reply } from './protocol/parser.js';
export type { Job } from './protocol/replies.js';
export type { JobState, JobStats, ServerStats, TubeStats } from './protocol/stats.js';
export { MAX_TUBE_NAME_BYTES, MAX_UINT32 } from './protocol/validate.js';

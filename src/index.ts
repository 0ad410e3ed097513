export { Client, DEFAULT_PRIORITY, DEFAULT_TTR } from './client.js';
export type { ClientEvents, ReleaseOptions } from './client.js';
export type { ClientState, ReconnectingInfo } from './link.js';
export type { JobRef, Producer, PutOptions } from './producer.js';
export type { RetryPolicy } from './retry.js';
export { Connection } from './connection.js';
export type { ConnectionEvents } from './connection.js';
export { DEFAULT_HOST, DEFAULT_PORT, parseUrl } from './options.js';
export type { ConnectOptions, ReconnectOptions } from './options.js';
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
  JobOutcomeError,
  JobTooBigError,
  NotFoundError,
  NotIgnoredError,
  OutOfMemoryError,
  ProtocolError,
  TimeoutError,
  UnhandledJobError,
  UnknownCommandError,
} from './errors.js';
export type { ConnectionErrorOptions, ServerErrorCode, UnhandledJobReason } from './errors.js';
export { ReplyParser } from './protocol/parser.js';
export type { ParserLimits, Reply } from './protocol/parser.js';
export { COMMANDS, DEFAULT_DELAY } from './protocol/commands.js';
export type { Command, Job, Request } from './protocol/commands.js';
export type { JobState, JobStats, ServerStats, TubeStats } from './protocol/stats.js';
export { MAX_TUBE_NAME_BYTES, MAX_UINT32 } from './protocol/validate.js';
export { Pool, resetTubes } from './pool.js';
export type { PoolOptions, PoolPutOptions } from './pool.js';
export { Cluster } from './cluster/cluster.js';
export type { ClusterEvents, ServerStatus } from './cluster/cluster.js';
export type { ClusterOptions } from './cluster/options.js';
export type { ClusterStats, ClusterTubeStats, ServerAnswer } from './cluster/stats.js';
export type { DrainOptions, DrainProgress, DrainResult, MovableState } from './cluster/drain.js';
export { DEFAULT_RETRY, defaultBackoff, defineJob, enqueue } from './jobs/define.js';
export type {
  AnyJobDefinition,
  Enqueued,
  EnqueueOptions,
  JobContext,
  JobDefinition,
  JobDefinitionOptions,
  JobLogger,
} from './jobs/define.js';
export { parseEnvelope } from './jobs/envelope.js';
export type { EnvelopeResult, JobEnvelope, JobFailure, JsonValue, ScheduleTick } from './jobs/envelope.js';
export type { JsonShaped } from './jobs/json.js';
export { Worker } from './worker/worker.js';
export type { StopOptions, WorkerOptions } from './worker/worker.js';
export type { BuryReason, JobEventInfo, WorkerEvents } from './worker/events.js';
export type { RawHandler } from './worker/run-job.js';
export { DEFAULT_LEASE_TTR, DEFAULT_LOCK_TUBE, Scheduler } from './schedule/scheduler.js';
export type { SchedulerOptions } from './schedule/scheduler.js';
export { DEFAULT_MISFIRE_LIMIT } from './schedule/schedules.js';
export type { AnySchedule, Schedule, ScheduleEnqueueOptions, SchedulesChecked } from './schedule/schedules.js';
export type { MisfirePolicy } from './schedule/due.js';
export type { LastTick, MisfireInfo, SchedulerEvents, ScheduleStatus, TickInfo } from './schedule/events.js';

/**
 * Recurring jobs: every scheduler process runs one, and the one holding the lease enqueues each
 * tick, exactly once while no scheduler dies. See lease.ts for how one leader is chosen through
 * beanstalkd alone, store.ts for the record of last ticks that outlives every process, due.ts for
 * the cron and misfire maths, and leader.ts for the order of a round and its failure window.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import createDebug from 'debug';
import { InvalidArgumentError } from '../errors.js';
import { parseUrl, type ConnectOptions, type ReconnectOptions } from '../options.js';
import { checkTube, MAX_TUBE_NAME_BYTES } from '../protocol/validate.js';
import { pause, retryDelay, type RetryPolicy } from '../retry.js';
import { nextTick } from './due.js';
import type { MisfireInfo, ScheduleStatus, SchedulerEvents, TickInfo } from './events.js';
import { EMPTY, mergeLastTicks, type LastTicks } from './record.js';
import { checkSchedules, type AnySchedule, type CheckedSchedule, type SchedulesChecked } from './schedules.js';
import { Session, type SessionHost } from './session.js';

const log = createDebug('beanline:scheduler');

export const DEFAULT_LOCK_TUBE = 'beanline.schedules';
/** Seconds: a frozen leader is replaced after at most this long. */
export const DEFAULT_LEASE_TTR = 10;
const MIN_LEASE_TTR = 2;
const MAX_LEASE_TTR = 3600;
/** The record of last ticks lives in the lock tube's name plus this. */
export const RECORD_SUFFIX = '.ticks';
/**
 * How late a takeover may find the oldest due tick and still fire it as a handover rather than
 * apply the misfire policy: two lease TTRs (a frozen leader's lease, and a follower's poll and
 * check when the server keeps that lease stuck, see lease.ts) plus this, the creation delay and
 * the new leader's first round trips.
 */
const HANDOVER_SLACK_MS = 3000;

export interface SchedulerOptions<S extends readonly AnySchedule[] = readonly AnySchedule[]> {
  /** As for `Client.connect`: a URL or options. Default `$BEANSTALKD_URL`, else 127.0.0.1:11300. */
  connection?: string | ConnectOptions;
  /** Each schedule's `args` is checked against its own job's argument type. */
  schedules: S & SchedulesChecked<S>;
  /** The tube of the lease; the record of last ticks goes in `<lockTube>.ticks`. Default `beanline.schedules`. */
  lockTube?: string;
  /** Seconds a leader that stops touching its lease keeps it: the takeover bound. 2 to 3600, default 10. */
  leaseTtr?: number;
  /** Recorded with each tick this scheduler enqueues. Default `<hostname>:<pid>`. */
  name?: string;
  /** Waits between reconnects after the server is lost (exponential, with jitter). Default 100 ms .. 5 s. */
  reconnect?: Pick<ReconnectOptions, 'minDelayMs' | 'maxDelayMs'>;
}

/**
 * Enqueues jobs on cron schedules. Run one in as many processes as you like: they elect one leader
 * through beanstalkd, and only the leader enqueues.
 */
export class Scheduler<const S extends readonly AnySchedule[] = readonly AnySchedule[]> extends EventEmitter<SchedulerEvents> {
  readonly name: string;
  readonly lockTube: string;
  readonly leaseTtr: number;
  private readonly recordTube: string;
  private readonly schedules: readonly CheckedSchedule[];
  private readonly connection: ConnectOptions;
  private readonly retry: RetryPolicy;
  private readonly abort = new AbortController();
  private session: Session | null = null;
  private running: Promise<void> | null = null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private leading = false;
  /** The record as this scheduler last wrote or read it. */
  private record: LastTicks = EMPTY;

  constructor(options: SchedulerOptions<S>) {
    super();
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'new Scheduler needs an options object');
    this.schedules = checkSchedules(options.schedules);
    this.lockTube = checkLockTube(options.lockTube ?? DEFAULT_LOCK_TUBE);
    this.recordTube = `${this.lockTube}${RECORD_SUFFIX}`;
    this.leaseTtr = options.leaseTtr ?? DEFAULT_LEASE_TTR;
    if (!Number.isInteger(this.leaseTtr) || this.leaseTtr < MIN_LEASE_TTR || this.leaseTtr > MAX_LEASE_TTR) {
      throw new InvalidArgumentError('leaseTtr', `leaseTtr must be a whole number of seconds from ${MIN_LEASE_TTR} to ${MAX_LEASE_TTR}, got ${String(options.leaseTtr)}`);
    }
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    if (typeof this.name !== 'string' || this.name === '') throw new InvalidArgumentError('name', 'name must be a non-empty string');
    this.connection = schedulerConnection(options.connection, this.leaseTtr);
    const lent = typeof options.connection === 'object' && typeof options.connection.reconnect === 'object' ? options.connection.reconnect : {};
    this.retry = {
      minDelayMs: options.reconnect?.minDelayMs ?? lent.minDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? lent.maxDelayMs ?? 5000,
    };
  }

  /** True while this scheduler holds the lease (and so is the one enqueuing). */
  get leader(): boolean {
    return this.leading;
  }

  /**
   * Connects (rejecting if the server cannot be reached), then follows or leads in the background:
   * `leader` events tell which. Later connection losses are retried, with an `error` event.
   */
  start(): Promise<void> {
    if (this.starting !== null) return Promise.reject(new Error('scheduler: start() was already called'));
    if (this.stopping !== null) return Promise.reject(new Error('scheduler: start() after stop()'));
    this.starting = Session.open(this.connection, this.lockTube, this.recordTube, this.host()).then((session) => {
      this.running = this.run(session);
    });
    return this.starting;
  }

  /**
   * Stops: a leader finishes the round under way (its ticks recorded), then releases the lease so a
   * follower takes over at once; a follower stops waiting. Then every connection is closed.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /**
   * Each schedule's next tick, last tick enqueued and by whom, and misfire policy. The leader
   * answers from memory; a follower reads the newest record in beanstalkd.
   */
  async list(): Promise<ScheduleStatus[]> {
    if (!this.leading && this.session !== null) {
      const read = await this.session.peek().catch(() => null);
      if (read !== null) this.record = mergeLastTicks(this.record, read);
    }
    const now = new Date();
    return this.schedules.map((schedule) => {
      const entry = this.record.schedules.get(schedule.id);
      return {
        id: schedule.id,
        cron: schedule.cron.expression,
        timezone: schedule.cron.timezone,
        misfire: schedule.misfire,
        next: nextTick(schedule.cron, entry?.handled ?? null, now),
        last: entry?.last ?? null,
      };
    });
  }

  private async shutdown(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.abort.abort();
    this.session?.interrupt();
    await this.running;
    log('%s stopped', this.name);
  }

  /** Sessions one after the other until stop(): a lost connection opens a new one after a backoff. */
  private async run(first: Session): Promise<void> {
    let session: Session | null = first;
    let attempt = 0;
    let reported = false;
    while (!this.abort.signal.aborted) {
      if (session === null) {
        try {
          session = await Session.open(this.connection, this.lockTube, this.recordTube, this.host());
          log('%s reconnected', this.name);
        } catch (error) {
          if (!reported) this.report(error as Error);
          reported = true;
          await pause(retryDelay(this.retry, (attempt += 1)), this.abort.signal);
          continue;
        }
      }
      this.session = session;
      try {
        await session.run();
        await session.close();
      } catch (error) {
        session.destroy();
        if (this.abort.signal.aborted) break;
        if (!reported) this.report(error as Error);
        reported = true;
        await pause(retryDelay(this.retry, (attempt += 1)), this.abort.signal);
        continue;
      } finally {
        this.session = null;
        session = null;
      }
      attempt = 0;
      reported = false;
    }
    session?.destroy();
  }

  private host(): SessionHost {
    const scheduler = this;
    return {
      schedules: this.schedules,
      name: this.name,
      leaseTtr: this.leaseTtr,
      graceMs: 2 * this.leaseTtr * 1000 + HANDOVER_SLACK_MS,
      lease: { tube: this.lockTube, ttr: this.leaseTtr, pollSeconds: Math.max(1, Math.floor(this.leaseTtr / 2)) },
      stopping: () => scheduler.abort.signal.aborted,
      leading: (value) => scheduler.setLeading(value),
      recorded: (record) => {
        scheduler.record = record;
      },
      tick: (info: TickInfo) => scheduler.emit('tick', info),
      missed: (info: MisfireInfo) => scheduler.emit('misfire', info),
      error: (error) => scheduler.report(error),
    };
  }

  private setLeading(value: boolean): void {
    if (this.leading === value) return;
    this.leading = value;
    log('%s %s', this.name, value ? 'leads' : 'no longer leads');
    this.emit('leader', value);
  }

  /** To `error` listeners; without one, a process warning rather than a crash. */
  private report(error: Error): void {
    log('%s: %s', this.name, error.message);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error);
  }
}

function checkLockTube(tube: unknown): string {
  const name = checkTube(tube, 'lockTube');
  if (name === 'default') throw new InvalidArgumentError('lockTube', 'lockTube cannot be default: its jobs would be taken for leases');
  if (name.length + RECORD_SUFFIX.length > MAX_TUBE_NAME_BYTES) {
    throw new InvalidArgumentError('lockTube', `lockTube must be at most ${MAX_TUBE_NAME_BYTES - RECORD_SUFFIX.length} bytes: ${RECORD_SUFFIX} is added for the record`);
  }
  return name;
}

/**
 * The session's connections do not reconnect by themselves: a lost connection is a lost lease, and
 * the scheduler starts over. A command that hangs a whole lease TTR means the server is gone for us.
 */
function schedulerConnection(connection: string | ConnectOptions | undefined, leaseTtr: number): ConnectOptions {
  const given: ConnectOptions = typeof connection === 'string' ? parseUrl(connection) : (connection ?? {});
  return { ...given, reconnect: false, commandTimeoutMs: given.commandTimeoutMs ?? leaseTtr * 1000 };
}

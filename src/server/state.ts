/**
 * What the embedded server keeps: jobs, tubes and their counters, as beanstalkd 1.12 keeps them
 * (job.c, tube.c, the counters of prot.c). Times are nanoseconds on a monotonic clock, as there.
 */
import { Heap, type Placed } from './heap.js';
import { Ms } from './ms.js';

/** Jobs below this priority count as urgent. */
export const URGENT_THRESHOLD = 1024;
export const NS_PER_SECOND = 1_000_000_000;

export type JobState = 'ready' | 'reserved' | 'buried' | 'delayed' | 'invalid';

/** The connection side of a reservation, as a job needs it. */
export interface Reserver {
  readonly reserved: Set<Job>;
  /**
   * beanstalkd's cache of the reserved job whose TTR ends first (conn.c: soonest_job): null when
   * unknown, then found again by a walk of the reserved jobs. Kept with its quirk: a job reserved
   * while it is unknown becomes it, whatever the others' deadlines.
   */
  soonestJob: Job | null;
}

export interface Job extends Placed {
  readonly id: number;
  pri: number;
  /** The delay of the last put or release, in ns (stats-job shows it, not what is left). */
  delay: number;
  readonly ttr: number;
  /** The body without its CRLF; empty while a put's body is still arriving. */
  body: Buffer;
  readonly tube: Tube;
  state: JobState;
  readonly createdAt: number;
  /** When a delayed job becomes ready, or a reserved one goes back. */
  deadlineAt: number;
  reserver: Reserver | null;
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

export function now(): number {
  return performance.now() * 1e6;
}

/** Ready order: most urgent first, then FIFO by id. */
export const byPriority = (a: Job, b: Job): boolean => a.pri < b.pri || (a.pri === b.pri && a.id < b.id);
const byDeadline = (a: Job, b: Job): boolean => a.deadlineAt < b.deadlineAt || (a.deadlineAt === b.deadlineAt && a.id < b.id);

export class Tube {
  readonly ready = new Heap<Job>(byPriority);
  readonly delay = new Heap<Job>(byDeadline);
  /** Oldest first: kick takes from the front. */
  readonly buried = new Set<Job>();
  readonly waiting = new Ms<WaitingConn>();
  /** References from connections (use, watch), jobs, and the server for `default`. */
  refs = 0;
  using = 0;
  watching = 0;
  urgent = 0;
  reserved = 0;
  buriedCount = 0;
  totalJobs = 0;
  deletes = 0;
  pauses = 0;
  /** The pause asked for, in ns; 0 when not paused. */
  pause = 0;
  unpauseAt = 0;

  constructor(readonly name: string) {}
}

/** A connection as a tube's waiting list holds it. */
export type WaitingConn = object;

/** Everything the server counts, and its jobs and tubes. */
export class State {
  readonly tubes = new Ms<Tube>();
  readonly jobs = new Map<number, Job>();
  readonly defaultTube: Tube;
  private nextId = 1;
  readyCount = 0;
  urgent = 0;
  reserved = 0;
  buried = 0;
  waiting = 0;
  totalJobs = 0;
  timeouts = 0;
  readonly commands = new Map<string, number>();
  connections = 0;
  totalConnections = 0;
  producers = 0;
  workers = 0;
  draining = false;
  readonly startedAt = now();

  constructor(readonly maxJobSize: number) {
    this.defaultTube = this.tube('default');
    // The server holds `default` for good, so it never goes away.
    this.ref(this.defaultTube);
  }

  count(command: string): void {
    this.commands.set(command, (this.commands.get(command) ?? 0) + 1);
  }

  find(name: string): Tube | undefined {
    for (const tube of this.tubes) if (tube.name === name) return tube;
    return undefined;
  }

  /** The tube named, made if need be. A new tube is unreferenced: the caller takes a reference. */
  tube(name: string): Tube {
    const found = this.find(name);
    if (found !== undefined) return found;
    const made = new Tube(name);
    this.tubes.append(made);
    return made;
  }

  ref(tube: Tube): void {
    tube.refs += 1;
  }

  /** A tube nobody uses, watches or holds a job in is gone. */
  unref(tube: Tube): void {
    tube.refs -= 1;
    if (tube.refs < 1) this.tubes.remove(tube);
  }

  makeJob(pri: number, delay: number, ttr: number, body: Buffer, tube: Tube): Job {
    const job: Job = {
      id: this.nextId++,
      pri,
      delay,
      ttr,
      body,
      tube,
      state: 'invalid',
      createdAt: now(),
      deadlineAt: 0,
      reserver: null,
      reserves: 0,
      timeouts: 0,
      releases: 0,
      buries: 0,
      kicks: 0,
      heapIndex: -1,
    };
    this.jobs.set(job.id, job);
    this.ref(tube);
    return job;
  }

  freeJob(job: Job): void {
    job.state = 'invalid';
    this.jobs.delete(job.id);
    this.unref(job.tube);
  }

  delayedCount(): number {
    let count = 0;
    for (const tube of this.tubes) count += tube.delay.length;
    return count;
  }
}

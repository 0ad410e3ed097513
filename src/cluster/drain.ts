/**
 * Moving every job off one server, for `Cluster.drainServer`.
 *
 * The protocol cannot list jobs, so the drain finds them the two ways a connection can take them:
 *
 * - Ready jobs are reserved, with `reserve-with-timeout 0`, on a connection of the drain's own that
 *   watches every tube. A reservation is exclusive: a job the drain holds cannot be taken by a
 *   worker, and a job a worker holds is not taken by the drain (it is being handled where it is). So
 *   no ready job is moved twice, or moved while it runs.
 * - Delayed and buried jobs are not reservable, so no worker competes for them: each tube is walked
 *   with `peek-delayed` and `peek-buried` (and `peek-ready` for a paused tube, which reserve skips),
 *   taking the job at the head each time until none is left.
 *
 * Every job is copied before its original is deleted: its copy is stored on another server (same
 * tube, priority and TTR; a delayed one with its remaining delay; a buried one buried) and only once
 * that server has answered is the original deleted. A crash in between leaves the job twice, never
 * nowhere; a reservation the drain held ends with its connection, so that original goes back to
 * ready. Should a worker take an original between the look and the delete (a delayed job whose delay
 * just ended, a held job whose TTR ran out), the delete fails and the copy is deleted again; a copy
 * that a worker took meanwhile is counted as `duplicated`.
 *
 * Rounds repeat until the server reports no ready, delayed or buried job (jobs that workers release
 * or bury meanwhile are taken by a later round), or until rounds stop finding anything. Reserved jobs
 * cannot be moved: they are counted, and a later drain moves those the workers give back.
 */
import { buryParked, PARKED_DELAY } from '../buried-copy.js';
import { Client } from '../client.js';
import { DeadlineSoonError, NotFoundError } from '../errors.js';
import type { ConnectOptions } from '../options.js';
import type { JobRef } from '../producer.js';
import type { Job } from '../protocol/commands.js';
import type { JobStats, ServerStats } from '../protocol/stats.js';

/** The states a job can be moved in. */
export type MovableState = 'ready' | 'delayed' | 'buried';

/** A job to store on another server, in the state it had. */
export interface JobCopy {
  readonly body: Buffer;
  readonly tube: string;
  readonly priority: number;
  readonly ttr: number;
  readonly state: MovableState;
  /** Seconds before a delayed copy becomes ready; 0 otherwise. */
  readonly delay: number;
}

export interface DrainProgress {
  /** Jobs moved so far. */
  readonly moved: number;
  /** Ready, delayed and buried jobs on the server when the drain began (jobs given back by workers may add to it). */
  readonly total: number;
  /** The tube and state of the job just moved. */
  readonly tube: string;
  readonly state: MovableState;
}

export interface DrainOptions {
  /** Called after each job moved. */
  onProgress?: (progress: DrainProgress) => void;
}

export interface DrainResult {
  /** Jobs moved to other servers. */
  readonly moved: number;
  /** Of those, by the state they were in, and are in again on their new server. */
  readonly byState: { readonly ready: number; readonly delayed: number; readonly buried: number };
  /**
   * Jobs still reserved by workers on the drained server when the drain ended: they cannot be moved.
   * A worker that finishes one deletes it; one it releases or buries stays on the server until the
   * next `drainServer`.
   */
  readonly reserved: number;
  /** Ready, delayed or buried jobs left on the server: 0 unless something kept putting there. */
  readonly remaining: number;
  /** Originals a worker took while their copy was being stored, whose copy a worker also took. */
  readonly duplicated: number;
}

/** Where copies go: chosen and stored by the cluster. */
export interface DrainHost {
  /** Stores a copy on another server, in its state; resolves once that server has it. */
  place(copy: JobCopy): Promise<JobRef>;
  /** Deletes a copy again; false when it could not be (a worker has it). */
  withdraw(ref: JobRef): Promise<boolean>;
}

/** Ready jobs held at once: enough for one write, few enough to stay clear of any TTR. */
const BATCH = 64;
/** Tube walks (delayed, buried, paused ready) run this many at a time on the drain's connection. */
const WALKERS = 8;
/** Rounds in a row that move nothing before the drain settles for what is left. */
const IDLE_ROUNDS = 3;

/**
 * A delayed copy's delay: time-left is whole seconds, cut down, so one more second makes the copy
 * never ready before the original would have been (at most a second later).
 */
export function remainingDelay(stats: JobStats): number {
  return stats.state === 'delayed' ? stats.timeLeft + 1 : 0;
}

/** Moves every ready, delayed and buried job of the server at `source` to the host's other servers. */
export async function drainJobs(source: ConnectOptions, host: DrainHost, options: DrainOptions = {}): Promise<DrainResult> {
  const connection = await Client.connect(source);
  try {
    return await new Drain(connection, host, options).run();
  } finally {
    // Reservations still held (after a failure) end here, and those jobs go back to ready.
    connection.destroy();
  }
}

class Drain {
  private moved = 0;
  private readonly byState = { ready: 0, delayed: 0, buried: 0 };
  private duplicated = 0;
  private total = 0;
  private readonly watched = new Set<string>(['default']);

  constructor(
    private readonly source: Client,
    private readonly host: DrainHost,
    private readonly options: DrainOptions,
  ) {}

  async run(): Promise<DrainResult> {
    this.total = movable(await this.source.stats());
    let idle = 0;
    for (;;) {
      const before = this.moved;
      const tubes = await this.source.listTubes();
      await Promise.all(tubes.filter((tube) => !this.watched.has(tube)).map((tube) => this.watch(tube)));
      await this.takeReady();
      await this.walk(await this.walks(tubes));
      const left = await this.source.stats();
      idle = this.moved === before ? idle + 1 : 0;
      if (movable(left) === 0 || idle >= IDLE_ROUNDS) {
        return {
          moved: this.moved,
          byState: { ...this.byState },
          reserved: left.currentJobsReserved,
          remaining: movable(left),
          duplicated: this.duplicated,
        };
      }
    }
  }

  private async watch(tube: string): Promise<void> {
    await this.source.watch(tube);
    this.watched.add(tube);
  }

  /** Reserves ready jobs a batch at a time and moves them, until none is ready. */
  private async takeReady(): Promise<void> {
    for (;;) {
      let cut = false;
      const reserving = Array.from({ length: BATCH }, () =>
        this.source.reserveWithTimeout(0).catch((error: unknown) => {
          // The connection holds a job near its TTR: move what it holds first, then reserve again.
          if (!(error instanceof DeadlineSoonError)) throw error;
          cut = true;
          return null;
        }),
      );
      const held = (await Promise.all(reserving)).filter((job): job is Job => job !== null);
      await settleAll(held.map((job) => this.moveHeld(job)));
      if (held.length < BATCH && !cut) return;
    }
  }

  private async moveHeld(job: Job): Promise<void> {
    const stats = await this.source.statsJob(job.id);
    await this.move(job, stats, 'ready');
  }

  /** The walks this round: delayed and buried jobs of every tube, and ready ones of paused tubes. */
  private async walks(tubes: readonly string[]): Promise<Array<[string, MovableState]>> {
    const paused = await Promise.all(
      tubes.map((tube) => this.source.statsTube(tube).then((stats) => stats.pauseTimeLeft > 0, ignoreNotFound(false))),
    );
    return tubes.flatMap((tube, index): Array<[string, MovableState]> => [
      [tube, 'delayed'],
      [tube, 'buried'],
      ...(paused[index] === true ? [[tube, 'ready'] as [string, MovableState]] : []),
    ]);
  }

  private async walk(walks: Array<[string, MovableState]>): Promise<void> {
    const queue = walks.values();
    const walker = async (): Promise<void> => {
      for (const [tube, state] of queue) await this.walkTube(tube, state);
    };
    await settleAll(Array.from({ length: Math.min(WALKERS, walks.length) }, walker));
  }

  /** Moves the job at the head of one tube's `state` until there is none. */
  private async walkTube(tube: string, state: MovableState): Promise<void> {
    for (;;) {
      // Issued together: the peek runs on the tube of the `use` before it, whatever other walks do.
      this.source.use(tube).catch(() => undefined);
      const job = await (state === 'ready' ? this.source.peekReady() : state === 'delayed' ? this.source.peekDelayed() : this.source.peekBuried());
      if (job === null) return;
      const stats = await this.source.statsJob(job.id).catch(ignoreNotFound(null));
      // Gone, or reserved by a worker since the peek: not ours to move.
      if (stats === null || stats.state === 'reserved') continue;
      await this.move(job, stats, stats.state);
    }
  }

  /** Stores the copy, then deletes the original. */
  private async move(job: Job, stats: JobStats, state: MovableState): Promise<void> {
    const copy: JobCopy = {
      body: job.body,
      tube: stats.tube,
      priority: stats.pri,
      ttr: stats.ttr,
      state,
      delay: state === 'delayed' ? remainingDelay(stats) : 0,
    };
    const ref = await this.host.place(copy);
    try {
      await this.source.delete(job.id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      // A worker has the original: it runs there, so the copy must not run too.
      if (!(await this.host.withdraw(ref))) this.duplicated += 1;
      return;
    }
    this.moved += 1;
    this.byState[state] += 1;
    this.options.onProgress?.({ moved: this.moved, total: this.total, tube: copy.tube, state });
  }
}

function movable(stats: ServerStats): number {
  return stats.currentJobsReady + stats.currentJobsDelayed + stats.currentJobsBuried;
}

function ignoreNotFound<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof NotFoundError) return value;
    throw error;
  };
}

/** Waits for every step to end (none is left half-done behind a failure), then throws the first failure. */
async function settleAll(steps: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(steps);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}

/**
 * A buried job cannot be put buried: the copy is put delayed, reserved by id and buried (as a worker
 * buries a dead job's copy). If the connection drops in between, the copy stays delayed an hour, or
 * goes back to ready if it was reserved; the original is kept, since no copy was confirmed.
 */
export async function storeCopy(client: Client, copy: JobCopy): Promise<number> {
  const { body, tube, priority, ttr } = copy;
  if (copy.state !== 'buried') return client.put(body, { tube, priority, ttr, delay: copy.delay });
  const id = await client.put(body, { tube, priority, ttr, delay: PARKED_DELAY });
  await buryParked(client, id, priority);
  return id;
}

/**
 * How jobs move between states and reach waiting connections, as beanstalkd 1.12 does it
 * (prot.c: enqueue_job, bury_job, kick_*, process_queue, conn_timeout, prottick; conn.c: the
 * reservation and its deadline).
 */
import { Heap } from './heap.js';
import { byPriority, now, NS_PER_SECOND, URGENT_THRESHOLD, type Job, type Reserver, type State, type Tube } from './state.js';

/** A reserve that is about to time out (or whose job's TTR is within this) ends with DEADLINE_SOON. */
const SAFETY_MARGIN = NS_PER_SECOND;
/** The longest beanstalkd sleeps between ticks. */
const MAX_PERIOD = 3600 * NS_PER_SECOND;

/** What the queue needs of a connection. */
export interface QueueConn extends Reserver {
  heapIndex: number;
  /** When this connection next needs attention (a TTR, a DEADLINE_SOON, a reserve timeout); 0 for never. */
  tickAt: number;
  inTimers: boolean;
  waiting: boolean;
  /** reserve-with-timeout's seconds while it waits; -1 otherwise. */
  pendingTimeout: number;
  readonly watch: Iterable<Tube> & { readonly length: number };
  /** Hands over a job reserved for this waiting connection. */
  sendReserved(job: Job): void;
  /** A one-word reply to a waiting connection (DEADLINE_SOON, TIMED_OUT). */
  sendWord(word: 'DEADLINE_SOON' | 'TIMED_OUT'): void;
}

export class Queue {
  /** Connections with something due, soonest first. */
  private readonly timers = new Heap<QueueConn>((a, b) => a.tickAt < b.tickAt);

  constructor(readonly state: State) {}

  /** Into the ready (or, with a delay, delayed) set of its tube; then waiting connections get their jobs. */
  enqueue(job: Job, delay: number): void {
    job.reserver = null;
    if (delay > 0) {
      job.deadlineAt = now() + delay;
      job.tube.delay.insert(job);
      job.state = 'delayed';
    } else {
      this.addReady(job);
    }
    this.processQueue();
  }

  bury(job: Job): void {
    job.tube.buried.add(job);
    this.state.buried += 1;
    job.tube.buriedCount += 1;
    job.state = 'buried';
    job.reserver = null;
    job.buries += 1;
  }

  /** Kicks up to `bound` jobs of `tube`: its buried ones if it has any, else its delayed ones. */
  kick(tube: Tube, bound: number): number {
    let kicked = 0;
    if (tube.buried.size > 0) {
      for (; kicked < bound && tube.buried.size > 0; kicked += 1) this.kickBuried(tube.buried.values().next().value as Job);
    } else {
      for (; kicked < bound && tube.delay.length > 0; kicked += 1) this.kickDelayed(tube.delay.peek() as Job);
    }
    return kicked;
  }

  kickBuried(job: Job): void {
    this.removeBuried(job);
    job.kicks += 1;
    this.enqueue(job, 0);
  }

  kickDelayed(job: Job): void {
    job.tube.delay.remove(job);
    job.kicks += 1;
    this.enqueue(job, 0);
  }

  removeReady(job: Job): void {
    job.tube.ready.remove(job);
    this.state.readyCount -= 1;
    if (job.pri < URGENT_THRESHOLD) {
      this.state.urgent -= 1;
      job.tube.urgent -= 1;
    }
  }

  removeBuried(job: Job): void {
    job.tube.buried.delete(job);
    this.state.buried -= 1;
    job.tube.buriedCount -= 1;
  }

  /** Takes a job out of whatever set holds it (not reserved ones: see removeReserved). */
  removeUnreserved(job: Job): boolean {
    switch (job.state) {
      case 'ready':
        this.removeReady(job);
        return true;
      case 'buried':
        this.removeBuried(job);
        return true;
      case 'delayed':
        job.tube.delay.remove(job);
        return true;
      default:
        return false;
    }
  }

  reserve(conn: QueueConn, job: Job): void {
    job.tube.reserved += 1;
    job.reserves += 1;
    job.deadlineAt = now() + job.ttr;
    job.state = 'reserved';
    conn.reserved.add(job);
    job.reserver = conn;
    conn.pendingTimeout = -1;
    if (conn.soonestJob === null || job.deadlineAt < conn.soonestJob.deadlineAt) conn.soonestJob = job;
  }

  /** A reserved job leaves its connection (deleted, released, buried, or its TTR ran out). */
  removeReserved(conn: QueueConn, job: Job): void {
    conn.reserved.delete(job);
    this.state.reserved -= 1;
    job.tube.reserved -= 1;
    job.reserver = null;
    conn.soonestJob = null;
  }

  /** The reserved job of `conn` whose TTR ends first. */
  soonest(conn: QueueConn): Job | undefined {
    if (conn.soonestJob === null) {
      for (const job of conn.reserved) if (conn.soonestJob === null || job.deadlineAt < conn.soonestJob.deadlineAt) conn.soonestJob = job;
    }
    return conn.soonestJob ?? undefined;
  }

  /** True when a job `conn` holds is within a second of its TTR. */
  deadlineSoon(conn: QueueConn): boolean {
    const job = this.soonest(conn);
    return job !== undefined && now() >= job.deadlineAt - SAFETY_MARGIN;
  }

  /** True when a tube `conn` watches has a ready job (paused or not). */
  readyFor(conn: QueueConn): boolean {
    for (const tube of conn.watch) if (tube.ready.length > 0) return true;
    return false;
  }

  startWaiting(conn: QueueConn, timeout: number): void {
    conn.waiting = true;
    this.state.waiting += 1;
    for (const tube of conn.watch) {
      tube.waiting.append(conn);
    }
    conn.pendingTimeout = timeout;
  }

  stopWaiting(conn: QueueConn): void {
    if (!conn.waiting) return;
    conn.waiting = false;
    this.state.waiting -= 1;
    for (const tube of conn.watch) tube.waiting.remove(conn);
  }

  /** Hands ready jobs to waiting connections, most urgent job first, while both last. */
  processQueue(): void {
    const at = now();
    for (let job = this.nextAwaited(at); job !== undefined; job = this.nextAwaited(at)) {
      this.removeReady(job);
      const conn = job.tube.waiting.take() as QueueConn;
      this.state.reserved += 1;
      this.stopWaiting(conn);
      this.reserve(conn, job);
      conn.sendReserved(job);
    }
  }

  private nextAwaited(at: number): Job | undefined {
    let best: Job | undefined;
    for (const tube of this.state.tubes) {
      if (tube.pause > 0) {
        if (tube.unpauseAt > at) continue;
        tube.pause = 0;
      }
      const candidate = tube.ready.peek();
      if (tube.waiting.length > 0 && candidate !== undefined) {
        if (best === undefined || byPriority(candidate, best)) best = candidate;
      }
    }
    return best;
  }

  /** Puts `conn` where its next deadline says (conn.c: connsched). */
  schedule(conn: QueueConn): void {
    if (conn.inTimers) {
      this.timers.remove(conn);
      conn.inTimers = false;
    }
    conn.tickAt = this.tickAt(conn);
    if (conn.tickAt !== 0) {
      this.timers.insert(conn);
      conn.inTimers = true;
    }
  }

  unschedule(conn: QueueConn): void {
    if (conn.inTimers) this.timers.remove(conn);
    conn.inTimers = false;
  }

  private tickAt(conn: QueueConn): number {
    const margin = conn.waiting ? SAFETY_MARGIN : 0;
    let due = Infinity;
    let should = false;
    const soonest = this.soonest(conn);
    if (soonest !== undefined) {
      due = soonest.deadlineAt - now() - margin;
      should = true;
    }
    if (conn.pendingTimeout >= 0) {
      due = Math.min(due, conn.pendingTimeout * NS_PER_SECOND);
      should = true;
    }
    return should ? now() + due : 0;
  }

  /** Delays that ended, pauses that ended, TTRs and reserve timeouts: the ns until the next one. */
  tick(): number {
    const at = now();
    let period = MAX_PERIOD;
    for (let job = this.soonestDelayed(); job !== undefined; job = this.soonestDelayed()) {
      const left = job.deadlineAt - at;
      if (left > 0) {
        period = Math.min(period, left);
        break;
      }
      job.tube.delay.remove(job);
      this.enqueue(job, 0);
    }
    for (const tube of this.state.tubes) {
      const left = tube.unpauseAt - at;
      if (tube.pause > 0 && left <= 0) {
        tube.pause = 0;
        this.processQueue();
      } else if (left > 0) {
        period = Math.min(period, left);
      }
    }
    for (let conn = this.timers.peek(); conn !== undefined; conn = this.timers.peek()) {
      const left = conn.tickAt - at;
      if (left > 0) {
        period = Math.min(period, left);
        break;
      }
      this.timers.remove(conn);
      conn.inTimers = false;
      this.timeOut(conn);
    }
    return period;
  }

  private soonestDelayed(): Job | undefined {
    let soonest: Job | undefined;
    for (const tube of this.state.tubes) {
      const job = tube.delay.peek();
      if (job !== undefined && (soonest === undefined || job.deadlineAt < soonest.deadlineAt)) soonest = job;
    }
    return soonest;
  }

  /** A connection whose time came: TTRs that ran out, then DEADLINE_SOON or TIMED_OUT for its reserve. */
  private timeOut(conn: QueueConn): void {
    const deadlineSoon = conn.waiting && this.deadlineSoon(conn);
    for (let job = this.soonest(conn); job !== undefined && job.deadlineAt < now(); job = this.soonest(conn)) {
      this.state.timeouts += 1;
      job.timeouts += 1;
      this.removeReserved(conn, job);
      this.enqueue(job, 0);
      this.schedule(conn);
    }
    if (deadlineSoon) {
      this.stopWaiting(conn);
      conn.sendWord('DEADLINE_SOON');
    } else if (conn.waiting && conn.pendingTimeout >= 0) {
      conn.pendingTimeout = -1;
      this.stopWaiting(conn);
      conn.sendWord('TIMED_OUT');
    }
  }

  /** A closing connection's reserved jobs go back to ready. */
  releaseAll(conn: QueueConn): void {
    for (const job of [...conn.reserved]) {
      this.removeReserved(conn, job);
      this.enqueue(job, 0);
    }
  }

  private addReady(job: Job): void {
    job.tube.ready.insert(job);
    job.state = 'ready';
    this.state.readyCount += 1;
    if (job.pri < URGENT_THRESHOLD) {
      this.state.urgent += 1;
      job.tube.urgent += 1;
    }
  }
}

export type { Tube };

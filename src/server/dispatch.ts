/**
 * What each command does on the embedded server, after prot.c's dispatch_cmd: the table reads the
 * line (protocol/command-line.ts), this applies it to the queue and picks the reply, which the
 * table must list for the command.
 */
import { COMMANDS, type Command } from '../protocol/commands.js';
import { parseLine, replyLine } from '../protocol/command-line.js';
import type { Conn } from './conn.js';
import type { Queue } from './queue.js';
import { now, NS_PER_SECOND, type Job, type State } from './state.js';
import { jobStats, serverStats, tubeList, tubeStats, type Identity } from './stats.js';

const NUL = 0;
const EMPTY = Buffer.alloc(0);


export class Dispatcher {
  /**
   * A put whose body is on its way: beanstalkd makes the job (and spends its id) when it reads the
   * line, so the job exists, in state invalid, while the body arrives.
   */
  private readonly puts = new Map<Conn, Job>();

  constructor(
    private readonly state: State,
    private readonly queue: Queue,
    private readonly who: Identity,
  ) {}

  /** A connection closed: a put whose body was still arriving is dropped, and its job with it. */
  forget(conn: Conn): void {
    const job = this.puts.get(conn);
    if (job === undefined) return;
    this.puts.delete(conn);
    this.state.freeJob(job);
  }

  /** One command line, CRLF cut off. */
  line(conn: Conn, bytes: Buffer): void {
    // A NUL inside the line: beanstalkd reads it as a C string and calls the line malformed.
    if (bytes.includes(NUL)) {
      conn.reply('BAD_FORMAT\r\n');
      return;
    }
    const parsed = parseLine(bytes.toString('latin1'));
    if (parsed.kind === 'unknown') {
      conn.reply('UNKNOWN_COMMAND\r\n');
      return;
    }
    if (parsed.kind === 'bad-format') {
      if (parsed.counted !== null) this.state.count(parsed.counted.name);
      conn.reply('BAD_FORMAT\r\n');
      return;
    }
    const { command, args } = parsed;
    if (command === COMMANDS.quit) {
      conn.quit();
      return;
    }
    this.state.count(command.name);
    if (command === COMMANDS.put) {
      this.putLine(conn, args as number[], parsed.put as { bodyBytes: number; trailing: boolean });
      return;
    }
    this.run(conn, command, args);
  }

  /** A put's body, its CRLF included. */
  body(conn: Conn, body: Buffer): void {
    const job = this.puts.get(conn) as Job;
    this.puts.delete(conn);
    const size = body.length - 2;
    if (body[size] !== 13 || body[size + 1] !== 10) {
      this.state.freeJob(job);
      conn.reply(replyLine(COMMANDS.put, 'EXPECTED_CRLF'));
      return;
    }
    if (this.state.draining) {
      this.state.freeJob(job);
      conn.reply(replyLine(COMMANDS.put, 'DRAINING'));
      return;
    }
    job.body = body.subarray(0, size);
    this.queue.enqueue(job, job.delay);
    this.state.totalJobs += 1;
    job.tube.totalJobs += 1;
    conn.reply(replyLine(COMMANDS.put, 'INSERTED', [job.id]));
  }

  private putLine(conn: Conn, [pri, delay, ttr]: number[], put: { bodyBytes: number; trailing: boolean }): void {
    if (put.bodyBytes > this.state.maxJobSize) {
      conn.discard(put.bodyBytes + 2, replyLine(COMMANDS.put, 'JOB_TOO_BIG'));
      return;
    }
    if (put.trailing) {
      conn.reply('BAD_FORMAT\r\n');
      return;
    }
    if (!conn.producer) {
      conn.producer = true;
      this.state.producers += 1;
    }
    // A TTR under a second is raised to one.
    const ttrNs = Math.max(NS_PER_SECOND, (ttr as number) * NS_PER_SECOND);
    this.puts.set(conn, this.state.makeJob(pri as number, (delay as number) * NS_PER_SECOND, ttrNs, EMPTY, conn.use));
    conn.expectBody(put.bodyBytes + 2);
  }

  private run(conn: Conn, command: Command, args: readonly (number | string)[]): void {
    const { state, queue } = this;
    const reply = (word: string, replyArgs: readonly (string | number)[] = []): void => conn.reply(replyLine(command, word, replyArgs));
    const found = (word: 'FOUND' | 'RESERVED', job: Job | undefined): void => {
      if (job === undefined) reply('NOT_FOUND');
      else conn.sendJob(word, job.id, job.body);
    };
    switch (command) {
      case COMMANDS.peekReady:
        return found('FOUND', conn.use.ready.peek());
      case COMMANDS.peekDelayed:
        return found('FOUND', conn.use.delay.peek());
      case COMMANDS.peekBuried:
        return found('FOUND', conn.use.buried.values().next().value);
      case COMMANDS.peek:
        return found('FOUND', state.jobs.get(args[0] as number));
      case COMMANDS.reserve:
      case COMMANDS.reserveWithTimeout:
        return this.reserve(conn, command === COMMANDS.reserve ? -1 : (args[0] as number));
      case COMMANDS.reserveJob:
        return this.reserveJob(conn, state.jobs.get(args[0] as number));
      case COMMANDS.delete: {
        const job = state.jobs.get(args[0] as number);
        if (job === undefined || !this.takeOut(conn, job)) return reply('NOT_FOUND');
        job.tube.deletes += 1;
        state.freeJob(job);
        return reply('DELETED');
      }
      case COMMANDS.release: {
        const job = this.reservedBy(conn, args[0] as number);
        if (job === undefined) return reply('NOT_FOUND');
        queue.removeReserved(conn, job);
        job.pri = args[1] as number;
        job.delay = (args[2] as number) * NS_PER_SECOND;
        job.releases += 1;
        queue.enqueue(job, job.delay);
        return reply('RELEASED');
      }
      case COMMANDS.bury: {
        const job = this.reservedBy(conn, args[0] as number);
        if (job === undefined) return reply('NOT_FOUND');
        queue.removeReserved(conn, job);
        job.pri = args[1] as number;
        queue.bury(job);
        return reply('BURIED');
      }
      case COMMANDS.kick:
        return reply('KICKED', [queue.kick(conn.use, args[0] as number)]);
      case COMMANDS.kickJob: {
        const job = state.jobs.get(args[0] as number);
        if (job?.state === 'buried') queue.kickBuried(job);
        else if (job?.state === 'delayed') queue.kickDelayed(job);
        else return reply('NOT_FOUND');
        return reply('KICKED');
      }
      case COMMANDS.touch: {
        const job = this.reservedBy(conn, args[0] as number);
        if (job === undefined) return reply('NOT_FOUND');
        job.deadlineAt = now() + job.ttr;
        conn.soonestJob = null;
        return reply('TOUCHED');
      }
      case COMMANDS.stats:
        return conn.sendJob('OK', null, serverStats(state, this.who));
      case COMMANDS.statsJob: {
        const job = state.jobs.get(args[0] as number);
        return job === undefined ? reply('NOT_FOUND') : conn.sendJob('OK', null, jobStats(job));
      }
      case COMMANDS.statsTube: {
        const tube = state.find(args[0] as string);
        return tube === undefined ? reply('NOT_FOUND') : conn.sendJob('OK', null, tubeStats(tube));
      }
      case COMMANDS.listTubes:
        return conn.sendJob('OK', null, tubeList(state.tubes));
      case COMMANDS.listTubeUsed:
        return reply('USING', [conn.use.name]);
      case COMMANDS.listTubesWatched:
        return conn.sendJob('OK', null, tubeList(conn.watch));
      case COMMANDS.use: {
        const tube = state.tube(args[0] as string);
        state.ref(tube);
        conn.use.using -= 1;
        state.unref(conn.use);
        conn.use = tube;
        tube.using += 1;
        return reply('USING', [tube.name]);
      }
      case COMMANDS.watch: {
        const tube = state.tube(args[0] as string);
        // Held while it is looked up, as beanstalkd does: a new tube not watched after all goes away.
        state.ref(tube);
        if (!conn.watch.contains(tube)) conn.watch.append(tube);
        state.unref(tube);
        return reply('WATCHING', [conn.watch.length]);
      }
      case COMMANDS.ignore: {
        const tube = [...conn.watch].find((watched) => watched.name === args[0]);
        if (tube !== undefined && conn.watch.length < 2) return reply('NOT_IGNORED');
        if (tube !== undefined) conn.watch.remove(tube);
        return reply('WATCHING', [conn.watch.length]);
      }
      case COMMANDS.pauseTube: {
        const tube = state.find(args[0] as string);
        if (tube === undefined) return reply('NOT_FOUND');
        // Always a positive pause, so that waiting clients wake when it ends.
        const pause = Math.max(1, (args[1] as number) * NS_PER_SECOND);
        tube.unpauseAt = now() + pause;
        tube.pause = pause;
        tube.pauses += 1;
        return reply('PAUSED');
      }
    }
  }

  private reserve(conn: Conn, timeout: number): void {
    const { queue } = this;
    this.markWorker(conn);
    if (queue.deadlineSoon(conn) && !queue.readyFor(conn)) {
      conn.reply(replyLine(COMMANDS.reserve, 'DEADLINE_SOON'));
      return;
    }
    conn.waitForJob(timeout);
    queue.processQueue();
  }

  private reserveJob(conn: Conn, job: Job | undefined): void {
    const { state, queue } = this;
    if (job === undefined || job.state === 'reserved' || job.state === 'invalid') {
      conn.reply(replyLine(COMMANDS.reserveJob, 'NOT_FOUND'));
      return;
    }
    queue.removeUnreserved(job);
    this.markWorker(conn);
    state.reserved += 1;
    queue.reserve(conn, job);
    conn.sendJob('RESERVED', job.id, job.body);
  }

  /** A connection that reserves counts once among the server's workers. */
  private markWorker(conn: Conn): void {
    if (conn.worker) return;
    conn.worker = true;
    this.state.workers += 1;
  }

  private reservedBy(conn: Conn, id: number): Job | undefined {
    const job = this.state.jobs.get(id);
    return job !== undefined && job.reserver === conn && job.state === 'reserved' ? job : undefined;
  }

  /** For delete: a job reserved by this connection, or one not reserved at all. */
  private takeOut(conn: Conn, job: Job): boolean {
    if (job.reserver === conn && job.state === 'reserved') {
      this.queue.removeReserved(conn, job);
      return true;
    }
    return this.queue.removeUnreserved(job);
  }
}

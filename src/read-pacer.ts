/**
 * Decides when a connection should leave its socket unread for a moment.
 *
 * beanstalkd writes every reply on its own. A client that reads each one as it lands pays a wake-up,
 * an epoll round and a read per reply, and each of those wake-ups costs the server too (its write
 * has a sleeping reader to wake). With many commands in flight, leaving the socket unread for about
 * a millisecond lets replies pile up in the kernel, so one read takes hundreds, and the commands
 * those replies free go out together as well.
 *
 * Whether that is faster depends on the machine: a hold pays off while the server would not have
 * answered the whole pipeline within it anyway. So the pacer measures instead of guessing. Time is
 * cut into epochs; an epoch counts only if the pipeline stayed deep and the reads kept coming
 * throughout (the server, not the application, set the pace), and its replies per millisecond are
 * the score of the mode it ran in.
 * The pacer holds unless reading freely is clearly faster, and tries the other mode for a short run
 * now and then, so a change in load or machine is noticed.
 */
export class ReadPacer {
  /**
   * Replies due before holding is considered. A hold lasts at least a millisecond, so a shallower
   * pipeline would run dry during it on a fast server; and below this the client already takes
   * several replies per read once it is busy. Measured here: 100 puts in flight ran 15-25% slower
   * held, 1,000 1.2 to 1.8 times faster.
   */
  static readonly MIN_DEPTH = 256;
  static readonly EPOCH_MS = 25;
  /** Reads further apart than this are not a server working through a queue (a hold is ~1 ms). */
  static readonly MAX_GAP_MS = 10;
  /** Epochs a mode runs before it is judged. */
  static readonly MIN_RUN = 4;
  /** Epochs the better mode runs before the other one is tried again. */
  static readonly EXPLORE_AFTER = 40;
  /**
   * Reading freely must be this much faster to be chosen. At these depths holding was the faster
   * in every run here, and it costs half the CPU; single epochs swing widely (a GC pause lets
   * replies pile up as a hold would), so a near tie is noise, not a reason to give that up.
   */
  static readonly HOLD_BIAS = 1.2;

  private holding = true;
  private epochStart = 0;
  private epochReplies = 0;
  private lastRead = -Infinity;
  /** Deep epochs since the mode last changed, and the sum of their rates (replies per ms). */
  private runEpochs = 0;
  private runRateSum = 0;
  /** The mean rate of the other mode's latest run; -1 before it has had one. */
  private otherRate = -1;

  /**
   * After a read that found `due` replies due and brought `answered` of them, at `nowMs` (any
   * monotonic clock): whether to hold the socket unread now. The depth is taken before the read:
   * after a hold the read may well empty the pipeline, which the application then refills.
   */
  afterRead(due: number, answered: number, nowMs: number): boolean {
    const deep = due >= ReadPacer.MIN_DEPTH;
    // A shallow pipeline or a pause between reads means the application set the pace: start over.
    if (!deep || nowMs - this.lastRead > ReadPacer.MAX_GAP_MS) {
      this.startEpoch(nowMs);
    } else {
      this.epochReplies += answered;
      if (nowMs - this.epochStart >= ReadPacer.EPOCH_MS) this.endEpoch(nowMs);
    }
    this.lastRead = nowMs;
    return this.holding && deep;
  }

  /** Whether holds are on; for tests and debug output. */
  get holds(): boolean {
    return this.holding;
  }

  private startEpoch(nowMs: number): void {
    this.epochStart = nowMs;
    this.epochReplies = 0;
  }

  private endEpoch(nowMs: number): void {
    this.runEpochs += 1;
    this.runRateSum += this.epochReplies / (nowMs - this.epochStart);
    this.startEpoch(nowMs);
    // Single epochs on a shared machine vary by half: judge a mode by a run of them.
    if (this.runEpochs < ReadPacer.MIN_RUN) return;
    const ownRate = this.runRateSum / this.runEpochs;
    if (this.otherRate >= 0) {
      const holdRate = this.holding ? ownRate : this.otherRate;
      const freeRate = this.holding ? this.otherRate : ownRate;
      const holdingIsBetter = holdRate * ReadPacer.HOLD_BIAS >= freeRate;
      // Otherwise a run of the other mode now and then, so the comparison stays current.
      if (holdingIsBetter === this.holding && this.runEpochs < ReadPacer.EXPLORE_AFTER) return;
    }
    this.otherRate = ownRate;
    this.holding = !this.holding;
    this.runEpochs = 0;
    this.runRateSum = 0;
  }
}

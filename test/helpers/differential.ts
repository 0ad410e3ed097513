/**
 * Differential testing: the same sequence of raw protocol steps against two servers (a real
 * beanstalkd 1.12 and the embedded one, or two real ones to check the machinery), step by step in
 * lockstep, every reply compared.
 *
 * Determinism rules the design (the sequence side of it is the Planner's, in differential-model.ts):
 * - A step writes on one connection and reads every reply the framing model says must come, before
 *   the next step starts. So the servers see the same commands in the same order, whatever their
 *   speed.
 * - A reserve that may wait is only ever the last command of a write, right after a command whose
 *   reply proves the server took both. Whether it still waits is then asked of the server: an
 *   observer connection sends `stats` and reads `current-waiting`; that many of the connections
 *   that might wait do, the others' replies are on their way and are read. The count is part of
 *   the step's output, so it is compared too.
 * - Time: every delay, TTR, timeout and pause is whole seconds after some step, so no step starts
 *   within GUARD_MS of a whole number of seconds after an earlier one; the runner waits instead.
 *   After a whole second has passed, every quiet connection is nudged first (see TargetRun.nudge:
 *   beanstalkd can lose a TTR timer otherwise).
 * - Replies are compared exactly, except what legitimately differs between two servers: in
 *   `stats`, the pid, host, id, uptime, rusage, version, os, platform and binlog fields; in
 *   stats-job and stats-tube, age, time-left and pause-time-left within one second.
 */
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReplyParser, type Reply } from '../../src/protocol/parser.js';
import { checkSequence, InvalidSequence, Planner, SETTLE_MS, type Plan, type Sequence, type Step } from './differential-model.js';
import { startTarget, type Target, type TargetKind } from './differential-servers.js';

export * from './differential-model.js';
export type { TargetKind } from './differential-servers.js';

/** No step starts closer than this to a whole number of seconds after an earlier step. */
const GUARD_MS = 200;
/** Seconds after a step at which something it started may happen (a sequence lasts less). */
const HORIZON_SECONDS = 10;
/** How long a reply that must come may take before the runner calls it missing. */
const PROMPT_MS = 3000;
/** Strict mode: how long to watch for replies the model did not expect, after each step. */
const STRICT_MS = 15;
const SYNC = Buffer.from('list-tube-used\r\n');

// ---------------------------------------------------------------------------------------------
// Wires: raw sockets whose replies are framed as they come
// ---------------------------------------------------------------------------------------------

/** Wakes whoever waits for any reply or end on any of a target's sockets. */
class Signal {
  private waiters: (() => void)[] = [];

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves true once `test()` holds, false if `deadline` (performance.now()) passes first. */
  async until(test: () => boolean, deadline: number): Promise<boolean> {
    while (!test()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }
}

class Wire {
  readonly replies: Reply[] = [];
  eof = false;
  /** Why no more replies can be read (a stream that does not parse, a socket error). */
  broken: string | null = null;

  private constructor(
    private readonly socket: net.Socket,
    signal: Signal,
  ) {
    const parser = new ReplyParser((reply) => this.replies.push(reply));
    socket.on('data', (chunk: Buffer) => {
      if (this.broken !== null) return;
      try {
        parser.push(chunk);
      } catch (error) {
        this.broken = `reply stream does not parse: ${(error as Error).message}`;
      }
      signal.notify();
    });
    socket.on('end', () => {
      this.eof = true;
      signal.notify();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A server that closes with input unread makes the kernel reset the connection, and whether
      // beanstalkd resets or ends depends on how much it had read: closed, either way. (Replies not
      // yet sent can be lost to a reset, so the Planner lets nothing follow a quit in a write.)
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') this.eof = true;
      else this.broken ??= `socket error: ${error.message}`;
      signal.notify();
    });
    socket.on('close', () => {
      this.eof = true;
      signal.notify();
    });
  }

  static async open(port: number, signal: Signal): Promise<Wire> {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.setNoDelay(true);
    await once(socket, 'connect');
    return new Wire(socket, signal);
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Half-close: FIN, reading on. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Outcomes: what one step brought back from one server
// ---------------------------------------------------------------------------------------------

export interface Entry {
  /** `c0`..`c3` for the sequence's connections, `probe`/`observer` for the runner's own. */
  readonly who: string;
  readonly replies: readonly Reply[];
  /** The server closed the connection (after these replies). */
  readonly eof: boolean;
  /** Replies the model said must come that did not within PROMPT_MS (a machinery or server fault). */
  readonly missing: number;
  readonly note?: string;
}

export interface Outcome {
  readonly entries: readonly Entry[];
}

interface Slot {
  wire: Wire | null;
  /** Replies expected on this connection so far, all told. */
  expected: number;
  /** The index of a reserve's reply that may still be waiting, or -1. */
  waitingAt: number;
  /** The connection closes after its expected replies (quit, or the client hung up). */
  ends: boolean;
  hungUp: boolean;
  /** Replies handed out in outcomes so far. */
  taken: number;
  eofTaken: boolean;
}

/** One server running one sequence. */
class TargetRun {
  private readonly signal = new Signal();
  private readonly slots: Slot[] = [];
  private observer: Wire | null = null;
  private observerTaken = 0;

  constructor(readonly target: Target) {}

  async open(connections: number): Promise<Outcome> {
    this.observer = await Wire.open(this.target.port, this.signal);
    for (let i = 0; i < connections; i += 1) {
      this.slots.push({ wire: null, expected: 0, waitingAt: -1, ends: false, hungUp: false, taken: 0, eofTaken: false });
    }
    // Each connection's first reply proves the server has accepted it.
    const observerSync = this.ask([SYNC]);
    await Promise.all(this.slots.map((_, i) => this.connect(i)));
    const entries = [...(await this.settle()).entries];
    entries.unshift({ who: 'observer', replies: await observerSync, eof: false, missing: 0 });
    return { entries };
  }

  private async connect(index: number): Promise<void> {
    const slot = this.slots[index] as Slot;
    slot.wire?.destroy();
    slot.wire = await Wire.open(this.target.port, this.signal);
    Object.assign(slot, { expected: 1, waitingAt: -1, ends: false, hungUp: false, taken: 0, eofTaken: false });
    slot.wire.write(SYNC);
  }

  async run(step: Step, plan: Plan): Promise<Outcome> {
    switch (step.kind) {
      case 'sleep':
        return this.settle();
      case 'drain':
        this.target.drain();
        return this.settle();
      case 'reconnect': {
        // The model has the old connection closed, but it may still wait in a reserve with a quit
        // queued behind: hang it up and read it out first, so that its close is not a race.
        const slot = this.slots[step.conn] as Slot;
        let before: readonly Entry[] = [];
        if (slot.wire !== null && !slot.wire.eof) {
          slot.hungUp = true;
          slot.ends = true;
          slot.wire.end();
          before = (await this.settle()).entries;
        }
        await this.connect(step.conn);
        return { entries: [...before, ...(await this.settle()).entries] };
      }
      default:
        break;
    }
    const slot = this.slots[step.conn] as Slot;
    const wire = slot.wire as Wire;
    if (step.kind === 'hangup') {
      slot.hungUp = true;
      slot.ends = true;
      wire.end();
      return this.settle();
    }
    if (step.kind === 'reserve') {
      // A reserve behind one that still waits would wait in turn, unseen: both servers skip it alike.
      if (this.waiting(slot)) return this.settle(`c${step.conn}: reserve step skipped, connection still waits`);
      wire.write(Buffer.concat([step.sync, step.line]));
      slot.expected += 2;
      slot.waitingAt = slot.expected - 1;
      return this.settle();
    }
    wire.write(Buffer.concat(step.items));
    slot.expected += plan.replies;
    if (plan.closes) slot.ends = true;
    return this.settle();
  }

  /**
   * `list-tube-used` on every quiet connection. beanstalkd 1.12 can lose the TTR timer of a
   * connection (prottick pops it when the clock reads the deadline's very microsecond, conn_timeout
   * finds nothing expired since it tests deadline_at >= now, and the connection is not scheduled
   * again), and the job then stays reserved until that connection sends something. A command from
   * each connection after every whole second reschedules any such timer; both servers get the same.
   */
  async nudge(clean: (conn: number) => boolean): Promise<Outcome> {
    this.slots.forEach((slot, conn) => {
      if (slot.wire === null || slot.ends || this.waiting(slot) || !clean(conn)) return;
      slot.wire.write(SYNC);
      slot.expected += 1;
    });
    return this.settle();
  }

  /** The end: a sentinel on every quiet connection, then the server's counters and tubes. */
  async finish(clean: (conn: number) => boolean): Promise<Outcome> {
    this.slots.forEach((slot, conn) => {
      if (slot.wire === null || slot.ends || this.waiting(slot) || !clean(conn)) return;
      slot.wire.write(Buffer.from('list-tubes-watched\r\nlist-tube-used\r\n'));
      slot.expected += 2;
    });
    const settled = await this.settle();
    const [stats, tubes] = await this.ask([Buffer.from('stats\r\nlist-tubes\r\n')], 2);
    const entries = [...settled.entries, { who: 'observer', replies: [stats, tubes].filter((r): r is Reply => r !== undefined), eof: false, missing: 0 }];
    return { entries };
  }

  /** stats-tube for each name, on the observer. */
  async tubeStats(names: readonly string[]): Promise<Outcome> {
    if (names.length === 0) return { entries: [] };
    const replies = await this.ask([Buffer.from(names.map((name) => `stats-tube ${name}\r\n`).join(''), 'latin1')], names.length);
    return { entries: [{ who: 'observer', replies, eof: false, missing: names.length - replies.length }] };
  }

  /** Replies that arrived beyond what the model expects (strict mode). */
  extras(): string[] {
    const found: string[] = [];
    this.slots.forEach((slot, conn) => {
      const wire = slot.wire;
      if (wire === null) return;
      const due = slot.expected;
      if (wire.replies.length > due) found.push(`c${conn}: ${wire.replies.length - due} more replies than the model expects`);
      if (wire.eof && !slot.ends && !slot.hungUp) found.push(`c${conn}: closed by the server unexpectedly`);
    });
    return found;
  }

  async close(): Promise<void> {
    this.observer?.destroy();
    for (const slot of this.slots) slot.wire?.destroy();
    await this.target.stop();
  }

  // --- reading -----------------------------------------------------------------------------------

  /**
   * Whether the connection may still wait in a reserve. This changes only at the end of a settle,
   * where what has arrived is the same on both servers, never by when a reply happens to arrive.
   */
  private waiting(slot: Slot): boolean {
    return slot.waitingAt >= 0 && !slot.hungUp;
  }

  /** Replies (and whether the end) that must come now, without waiting on a reserve. */
  private due(slot: Slot): { replies: number; eof: boolean } {
    if (this.waiting(slot)) return { replies: slot.waitingAt, eof: false };
    return { replies: slot.expected, eof: slot.ends };
  }

  private satisfied(slot: Slot): boolean {
    const wire = slot.wire;
    if (wire === null || wire.eof || wire.broken !== null) return true;
    const due = this.due(slot);
    return wire.replies.length >= due.replies && !due.eof;
  }

  /** A waiting slot whose reserve has been answered, and everything queued behind it too. */
  private answered(slot: Slot): boolean {
    const wire = slot.wire as Wire;
    if (wire.replies.length <= slot.waitingAt && !wire.eof && wire.broken === null) return false;
    return wire.eof || wire.broken !== null || (wire.replies.length >= slot.expected && !slot.ends);
  }

  /** Reads what must come, asks the server who still waits, reads what the others got; hands it all out. */
  private async settle(note?: string): Promise<Outcome> {
    const slots = this.slots.filter((slot) => slot.wire !== null);
    await this.signal.until(() => slots.every((slot) => this.satisfied(slot)), performance.now() + PROMPT_MS);
    const entries: Entry[] = [];
    const mayWait = slots.filter((slot) => this.waiting(slot));
    if (mayWait.length > 0) {
      const [stats] = await this.ask([Buffer.from('stats\r\n')]);
      const waiting = stats === undefined ? 0 : statsField(stats, 'current-waiting');
      const woken = mayWait.length - waiting;
      await this.signal.until(() => mayWait.filter((slot) => this.answered(slot)).length >= woken, performance.now() + PROMPT_MS);
      for (const slot of mayWait) {
        const wire = slot.wire as Wire;
        if (wire.replies.length > slot.waitingAt || wire.eof) slot.waitingAt = -1;
      }
      // Only its current-waiting counts: a connection just woken may still be running commands it had
      // queued, before or after the probe, so the other counters are not yet the same on both.
      const probe: Reply = { word: 'current-waiting:', args: [String(waiting)], body: null };
      entries.push({ who: 'probe', replies: stats === undefined ? [] : [probe], eof: false, missing: stats === undefined ? 1 : 0 });
    }
    const own: Entry[] = [];
    this.slots.forEach((slot, conn) => {
      const wire = slot.wire;
      if (wire === null) return;
      const due = this.due(slot);
      const upTo = Math.min(wire.replies.length, due.replies);
      const replies = wire.replies.slice(slot.taken, upTo);
      const missing = wire.eof || wire.broken !== null ? 0 : Math.max(0, due.replies - upTo);
      slot.taken = Math.max(slot.taken, upTo);
      let eof = false;
      if (wire.eof && !slot.eofTaken && slot.taken === wire.replies.length) {
        eof = true;
        slot.eofTaken = true;
      }
      const broken = wire.broken !== null && slot.taken === wire.replies.length ? wire.broken : undefined;
      if (replies.length > 0 || eof || missing > 0 || broken !== undefined) {
        own.push({ who: `c${conn}`, replies, eof, missing, ...(broken === undefined ? {} : { note: broken }) });
      }
    });
    const all = [...own, ...entries];
    if (note !== undefined) all.push({ who: 'runner', replies: [], eof: false, missing: 0, note });
    return { entries: all };
  }

  /** Writes on the observer and reads `count` replies. */
  private async ask(writes: readonly Buffer[], count = 1): Promise<Reply[]> {
    const observer = this.observer as Wire;
    for (const bytes of writes) observer.write(bytes);
    const want = this.observerTaken + count;
    await this.signal.until(() => observer.replies.length >= want || observer.eof || observer.broken !== null, performance.now() + PROMPT_MS);
    const replies = observer.replies.slice(this.observerTaken, want);
    this.observerTaken += replies.length;
    return replies;
  }
}

function statsField(reply: Reply, key: string): number {
  const match = new RegExp(`^${key}: (\\d+)$`, 'm').exec(reply.body?.toString('latin1') ?? '');
  return match === null ? 0 : Number(match[1]);
}

// ---------------------------------------------------------------------------------------------
// Time: no step near a whole number of seconds after an earlier one
// ---------------------------------------------------------------------------------------------

class Clock {
  private readonly spans: (readonly [number, number])[] = [];

  /** Records a step that ran from `start` to `end`: whatever it started is due whole seconds later. */
  add(start: number, end: number): void {
    this.spans.push([start, end]);
  }

  /** Whether a recorded step's whole-second mark fell within (from, to]. */
  crossed(from: number, to: number): boolean {
    for (const [start, end] of this.spans) {
      for (let k = 1; k <= HORIZON_SECONDS; k += 1) {
        if (end + 1000 * k > from && start + 1000 * k <= to) return true;
      }
    }
    return false;
  }

  /** Waits until no recorded step's whole-second mark is within GUARD_MS of now; resolves the ms waited. */
  async clear(): Promise<number> {
    let waited = 0;
    for (;;) {
      const now = performance.now();
      let until = 0;
      for (const [start, end] of this.spans) {
        for (let k = 1; k <= HORIZON_SECONDS; k += 1) {
          const from = start + 1000 * k - GUARD_MS;
          const to = end + 1000 * k + GUARD_MS;
          if (now >= from && now < to) until = Math.max(until, to);
        }
      }
      if (until === 0) return waited;
      await sleep(until - now);
      waited += until - now;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------------------------

/** `stats` fields that differ between any two servers. */
const SERVER_FIELDS = new Set(['pid', 'hostname', 'id', 'uptime', 'rusage-utime', 'rusage-stime', 'version', 'os', 'platform']);
/** stats-job and stats-tube fields that are clocks, compared within a second. */
const CLOCK_FIELDS = new Set(['age', 'time-left', 'pause-time-left']);

type YamlKind = 'stats' | 'job' | 'tube' | null;

function yamlKind(body: Buffer): YamlKind {
  const head = body.toString('latin1', 0, 32);
  if (head.startsWith('---\ncurrent-jobs-urgent: ')) return 'stats';
  if (head.startsWith('---\nid: ')) return 'job';
  if (head.startsWith('---\nname: ')) return 'tube';
  return null;
}

function fields(body: Buffer): [string, string][] {
  return body
    .toString('latin1')
    .split('\n')
    .slice(1, -1)
    .map((line) => {
      const colon = line.indexOf(': ');
      return colon === -1 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 2)];
    });
}

/** Why two stats bodies differ beyond what may, or null. */
function compareYaml(kind: Exclude<YamlKind, null>, a: Buffer, b: Buffer): string | null {
  const left = fields(a);
  const right = fields(b);
  if (!a.toString('latin1').endsWith('\n') || !b.toString('latin1').endsWith('\n')) return 'a stats body does not end in a newline';
  if (left.length !== right.length) return `${left.length} fields vs ${right.length}`;
  for (let i = 0; i < left.length; i += 1) {
    const [key, value] = left[i] as [string, string];
    const [otherKey, otherValue] = right[i] as [string, string];
    if (key !== otherKey) return `field ${i + 1}: ${key} vs ${otherKey}`;
    if (kind === 'stats' && (SERVER_FIELDS.has(key) || key.startsWith('binlog-'))) continue;
    if (kind !== 'stats' && CLOCK_FIELDS.has(key) && /^-?\d+$/.test(value) && /^-?\d+$/.test(otherValue)) {
      if (Math.abs(Number(value) - Number(otherValue)) <= 1) continue;
    }
    if (value !== otherValue) return `${key}: ${value} vs ${otherValue}`;
  }
  return null;
}

/** Why two replies differ, or null when they are the same (after normalising). */
export function compareReplies(a: Reply, b: Reply): string | null {
  const lines = (): string => `${JSON.stringify([a.word, ...a.args].join(' '))} vs ${JSON.stringify([b.word, ...b.args].join(' '))}`;
  if (a.word !== b.word) return `different replies: ${lines()}`;
  if (a.word === 'OK' && a.body !== null && b.body !== null) {
    const kind = yamlKind(a.body);
    if (kind !== null && kind === yamlKind(b.body)) return compareYaml(kind, a.body, b.body);
  }
  if (a.args.join(' ') !== b.args.join(' ')) return `different replies: ${lines()}`;
  if ((a.body === null) !== (b.body === null) || (a.body !== null && !a.body.equals(b.body as Buffer))) return `different bodies after ${lines()}`;
  return null;
}

/** The first difference between two outcomes, or null. */
export function compareOutcomes(a: Outcome, b: Outcome): string | null {
  const count = Math.max(a.entries.length, b.entries.length);
  for (let i = 0; i < count; i += 1) {
    const left = a.entries[i];
    const right = b.entries[i];
    if (left === undefined || right === undefined) return `${(left ?? right)?.who} answered on one server only`;
    if (left.who !== right.who) return `${left.who} answered on one server, ${right.who} on the other`;
    const replies = Math.max(left.replies.length, right.replies.length);
    for (let r = 0; r < replies; r += 1) {
      const x = left.replies[r];
      const y = right.replies[r];
      if (x === undefined || y === undefined) return `${left.who}: reply ${r + 1} came from one server only`;
      const why = compareReplies(x, y);
      if (why !== null) return `${left.who}: reply ${r + 1}: ${why}`;
    }
    if (left.eof !== right.eof) return `${left.who}: one server closed the connection, the other did not`;
    if (left.missing !== right.missing) return `${left.who}: ${left.missing} vs ${right.missing} replies missing`;
    if (left.note !== right.note) return `${left.who}: ${left.note ?? 'nothing'} vs ${right.note ?? 'nothing'}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

export interface RunOptions {
  /** The reference server; default beanstalkd. */
  readonly a?: TargetKind;
  /** The server held to it; default embedded. */
  readonly b?: TargetKind;
  /** Also watch for replies the model does not expect after each step (slower; for checking the machinery). */
  readonly strict?: boolean;
}

export interface Transcript {
  readonly label: string;
  /** When the step started, in ms from the start of the sequence (after the servers started). */
  readonly at: number;
  /** How long it took on both servers. */
  readonly ms: number;
  readonly a: Outcome;
  readonly b: Outcome;
}

export interface RunResult {
  readonly sequence: Sequence;
  readonly labels: readonly [string, string];
  /** The first difference, or null when the servers agreed throughout. */
  readonly divergence: string | null;
  /** Steps run, each with both outcomes, up to and including the divergent one. */
  readonly transcript: readonly Transcript[];
  /** Signs the machinery itself is off (replies the model expected that never came on either, extras in strict mode). */
  readonly machinery: readonly string[];
  readonly elapsedMs: number;
}

/** Runs `sequence` against two fresh servers in lockstep. Throws InvalidSequence for a sequence it cannot run. */
export async function runSequence(sequence: Sequence, options: RunOptions = {}): Promise<RunResult> {
  checkSequence(sequence);
  const kinds = [options.a ?? 'beanstalkd', options.b ?? 'embedded'] as const;
  const labels: [string, string] = kinds[0] === kinds[1] ? [`${kinds[0]}#1`, `${kinds[1]}#2`] : [kinds[0], kinds[1]];
  const started = performance.now();
  const targets = await Promise.all([startTarget(kinds[0], labels[0], sequence.maxJobSize), startTarget(kinds[1], labels[1], sequence.maxJobSize)]);
  const runs = targets.map((target) => new TargetRun(target)) as [TargetRun, TargetRun];
  const transcript: Transcript[] = [];
  const machinery: string[] = [];
  const planner = new Planner(sequence);
  const clock = new Clock();
  const result = (divergence: string | null): RunResult => ({ sequence, labels, divergence, transcript, machinery, elapsedMs: performance.now() - started });

  let zero = 0;
  const both = async (label: string, run: (target: TargetRun) => Promise<Outcome>): Promise<string | null> => {
    const at = performance.now();
    const [a, b] = await Promise.all(runs.map(run));
    transcript.push({ label, at: Math.round(at - zero), ms: Math.round(performance.now() - at), a: a as Outcome, b: b as Outcome });
    const why = compareOutcomes(a as Outcome, b as Outcome);
    if (why === null) {
      for (const entry of (a as Outcome).entries) {
        if (entry.missing > 0) machinery.push(`${label}: ${entry.who}: ${entry.missing} replies the model expected never came on either server`);
      }
    }
    return why;
  };

  try {
    zero = performance.now();
    let why = await both('connect', (run) => run.open(sequence.connections));
    if (why !== null) return result(why);
    let last = performance.now();
    /** After a whole second since some step, before anything looks: see TargetRun.nudge. */
    const nudge = async (): Promise<string | null> => {
      const now = performance.now();
      const crossed = clock.crossed(last, now);
      last = now;
      return crossed ? both('nudge (a whole second has passed)', (run) => run.nudge((conn) => planner.clean(conn))) : null;
    };
    for (const [index, step] of sequence.steps.entries()) {
      if (step.kind === 'sleep') await sleep(step.ms);
      await clock.clear();
      why = await nudge();
      if (why !== null) return result(why);
      const plan = planner.plan(step);
      const start = performance.now();
      why = await both(`#${index + 1} ${describeStep(step)}`, (run) => run.run(step, plan));
      last = performance.now();
      if (step.kind !== 'sleep') clock.add(start, last);
      if (why !== null) return result(why);
      if (options.strict === true) {
        await sleep(STRICT_MS);
        runs.forEach((run, i) => machinery.push(...run.extras().map((extra) => `after #${index + 1} on ${labels[i]}: ${extra}`)));
      }
    }
    // The end looks from every connection: a put line no reply has confirmed must be read first.
    if (planner.unconfirmedPut) await sleep(SETTLE_MS);
    await clock.clear();
    why = await nudge();
    if (why !== null) return result(why);
    why = await both('end: sentinels, stats, list-tubes', (run) => run.finish((conn) => planner.clean(conn)));
    if (why !== null) return result(why);
    const names = new Set<string>();
    for (const outcome of [transcript.at(-1)?.a, transcript.at(-1)?.b]) {
      const list = outcome?.entries.at(-1)?.replies[1]?.body?.toString('latin1') ?? '';
      for (const line of list.split('\n')) if (line.startsWith('- ')) names.add(line.slice(2));
    }
    why = await both('end: stats-tube of every tube', (run) => run.tubeStats([...names]));
    return result(why);
  } finally {
    await Promise.all(runs.map((run) => run.close()));
  }
}

export interface ManyOptions extends RunOptions {
  readonly seeds: readonly number[];
  /** Sequences run at once. */
  readonly concurrency?: number;
  /** Makes the sequence of a seed; default generateSequence. */
  readonly generate: (seed: number) => Sequence;
  /** Stop at the first divergence (default true). */
  readonly stopOnDivergence?: boolean;
  /**
   * Runs a divergent sequence this many more times (default 2): a divergence that does not come
   * back every time is counted as flaky, not divergent (a timing fluke of the machine or of
   * beanstalkd itself), and reported apart.
   */
  readonly confirm?: number;
  readonly onResult?: (result: RunResult) => void;
  /** No new sequence starts after this (performance.now()); the summary says how many ran. */
  readonly deadline?: number;
}

export interface ManySummary {
  readonly run: number;
  /** Divergences that came back on every re-run. */
  readonly divergences: readonly RunResult[];
  /** Divergences that did not. */
  readonly flaky: readonly RunResult[];
  readonly machinery: readonly { readonly seed: number | null; readonly problems: readonly string[] }[];
  readonly elapsedMs: number;
}

/** Runs the sequences of many seeds, `concurrency` at a time. */
export async function runMany(options: ManyOptions): Promise<ManySummary> {
  const started = performance.now();
  const divergences: RunResult[] = [];
  const flaky: RunResult[] = [];
  const machinery: { seed: number | null; problems: string[] }[] = [];
  let next = 0;
  let run = 0;
  const stop = (): boolean => (options.stopOnDivergence ?? true) && divergences.length > 0;
  const worker = async (): Promise<void> => {
    while (next < options.seeds.length && !stop() && performance.now() < (options.deadline ?? Infinity)) {
      const seed = options.seeds[next++] as number;
      const sequence = options.generate(seed);
      const result = await runSequence(sequence, options);
      run += 1;
      if (result.divergence !== null) {
        let again = true;
        for (let i = 0; i < (options.confirm ?? 2) && again; i += 1) again = (await runSequence(sequence, options)).divergence !== null;
        (again ? divergences : flaky).push(result);
      }
      options.onResult?.(result);
      if (result.machinery.length > 0) machinery.push({ seed, problems: [...result.machinery] });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return { run, divergences, flaky, machinery, elapsedMs: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Shrinking: the smallest sequence that still diverges
// ---------------------------------------------------------------------------------------------

/**
 * Removes steps, then items of sends, while the sequence still diverges (tried `attempts` times
 * each, for divergences that depend on timing), within `budgetMs`. Returns the last failing run.
 */
export async function shrink(failing: RunResult, options: RunOptions & { budgetMs?: number; attempts?: number } = {}): Promise<RunResult> {
  const deadline = performance.now() + (options.budgetMs ?? 60_000);
  let best = failing;
  const attempt = async (candidate: Sequence): Promise<boolean> => {
    if (performance.now() > deadline) return false;
    try {
      checkSequence(candidate);
    } catch (error) {
      if (error instanceof InvalidSequence) return false;
      throw error;
    }
    for (let i = 0; i < (options.attempts ?? 1); i += 1) {
      const result = await runSequence(candidate, options);
      if (result.divergence !== null) {
        best = result;
        return true;
      }
    }
    return false;
  };
  const withSteps = (steps: Step[]): Sequence => ({ ...best.sequence, steps });

  for (let chunk = Math.max(1, Math.floor(best.sequence.steps.length / 2)); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let start = 0; start < best.sequence.steps.length; ) {
      const steps = [...best.sequence.steps];
      steps.splice(start, chunk);
      if (!(await attempt(withSteps(steps)))) start += chunk;
    }
  }
  for (let index = 0; index < best.sequence.steps.length; index += 1) {
    for (let item = 0; ; ) {
      const step = best.sequence.steps[index];
      if (step?.kind !== 'send' || step.items.length < 2 || item >= step.items.length) break;
      const steps = [...best.sequence.steps];
      steps[index] = { ...step, items: step.items.filter((_, i) => i !== item) };
      if (!(await attempt(withSteps(steps)))) item += 1;
    }
  }
  // Fewer connections, if some are unused.
  const used = [...new Set(best.sequence.steps.flatMap((step) => ('conn' in step ? [step.conn] : [])))].sort();
  if (used.length > 0 && used.length < best.sequence.connections) {
    const renumber = new Map(used.map((conn, i) => [conn, i]));
    const steps = best.sequence.steps.map((step) => ('conn' in step ? { ...step, conn: renumber.get(step.conn) as number } : step));
    await attempt({ ...best.sequence, connections: Math.max(1, used.length), steps });
  }
  const from = failing.sequence.seed === null ? failing.sequence.name : `seed ${failing.sequence.seed}`;
  return { ...best, sequence: { ...best.sequence, seed: null, name: `${from ?? 'a sequence'}, shrunk` } };
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

/** Bytes as a JavaScript expression of latin1 strings, long runs as .repeat(). */
export function showBytes(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const parts: string[] = [];
  let literal = '';
  for (let i = 0; i < text.length; ) {
    let run = 1;
    while (text[i + run] === text[i]) run += 1;
    if (run >= 12) {
      if (literal !== '') parts.push(JSON.stringify(literal));
      literal = '';
      parts.push(`${JSON.stringify(text[i])}.repeat(${run})`);
    } else {
      literal += text.slice(i, i + run);
    }
    i += run;
  }
  if (literal !== '' || parts.length === 0) parts.push(JSON.stringify(literal));
  return parts.join(' + ');
}

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'send':
      return `c${step.conn} send ${step.items.map(showBytes).join(', ')}`;
    case 'reserve':
      return `c${step.conn} reserve ${showBytes(Buffer.concat([step.sync, step.line]))}`;
    case 'hangup':
      return `c${step.conn} hangs up`;
    case 'reconnect':
      return `c${step.conn} reconnects`;
    case 'sleep':
      return `sleep ${step.ms} ms`;
    case 'drain':
      return 'drain mode on';
  }
}

function showReply(reply: Reply, full: boolean): string {
  const line = [reply.word, ...reply.args].join(' ');
  if (reply.body === null) return line;
  const limit = full ? Infinity : 120;
  const body = reply.body.length > limit ? Buffer.concat([reply.body.subarray(0, limit), Buffer.from('...')]) : reply.body;
  return `${line} ${showBytes(body)}`;
}

function showOutcome(outcome: Outcome, full: boolean): string {
  if (outcome.entries.length === 0) return '(nothing)';
  return outcome.entries
    .map((entry) => {
      const parts = entry.replies.map((reply) => showReply(reply, full));
      if (entry.eof) parts.push('<closed>');
      if (entry.missing > 0) parts.push(`<${entry.missing} missing>`);
      if (entry.note !== undefined) parts.push(`<${entry.note}>`);
      return `${entry.who}: ${parts.join(' | ')}`;
    })
    .join('\n        ');
}

/** The replay command for a generated sequence. */
export function replayHint(sequence: Sequence, against: string): string {
  if (sequence.seed === null) return '';
  const args = [...(against === 'embedded' ? [] : [`--against ${against}`]), ...(sequence.avoid ?? []).map((name) => `--avoid ${name}`)];
  return `replay: BEANLINE_FUZZ_SEED=${sequence.seed} npm run fuzz${args.length === 0 ? '' : ` -- ${args.join(' ')}`}`;
}

/** A divergence (or a clean run) as text: the sequence, every step with both servers' replies, the difference. */
export function formatResult(result: RunResult): string {
  const { sequence, labels } = result;
  const width = Math.max(labels[0].length, labels[1].length) + 1;
  const head = [
    result.divergence === null ? 'no divergence' : `DIVERGENCE: ${result.divergence}`,
    `sequence: ${sequence.name ?? `seed ${sequence.seed}`}, ${sequence.connections} connections, -z ${sequence.maxJobSize}, ${sequence.steps.length} steps`,
    replayHint(sequence, labels[1].replace(/#\d$/, '')),
  ].filter((line) => line !== '');
  const body = result.transcript.map((entry, index) => {
    const last = index === result.transcript.length - 1 && result.divergence !== null;
    return [
      `  ${entry.label}   [at ${entry.at} ms, ${entry.ms} ms]`,
      `    ${`${labels[0]}:`.padEnd(width)} ${showOutcome(entry.a, last)}`,
      `    ${`${labels[1]}:`.padEnd(width)} ${showOutcome(entry.b, last)}`,
    ].join('\n');
  });
  return [...head, 'steps and replies:', ...body].join('\n');
}

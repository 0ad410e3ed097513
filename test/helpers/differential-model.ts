/**
 * The differential tests' idea of a sequence: its steps, a seeded generator of random ones, and the
 * framing model that tells the runner how many replies a write must bring back.
 *
 * The framing model is beanstalkd 1.12's input loop (prot.c: conn_process_io, h_conn,
 * scan_line_end, which_cmd, and the reading of a put line), written afresh from the C: it knows how
 * bytes become lines, bodies and bytes thrown away, and which lines may wait (reserve). It knows
 * nothing of jobs or tubes: what the replies say is for the servers to agree on.
 */

/** beanstalkd's command buffer (LINE_BUF_SIZE): a line that does not end within it is thrown away. */
const LINE_BUF = 224;
const CR = 13;
const LF = 10;

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

export type Step =
  /** One write of the items, end to end, on connection `conn`. No item may be a reserve that can wait. */
  | { readonly kind: 'send'; readonly conn: number; readonly items: readonly Buffer[] }
  /**
   * `sync` then `line` (a reserve that may wait) in one write, on a connection with nothing pending:
   * the reply to `sync` proves the server has taken the reserve too (both are in one read).
   */
  | { readonly kind: 'reserve'; readonly conn: number; readonly sync: Buffer; readonly line: Buffer }
  /** The client half-closes (FIN); the server answers what it has, a waiting reserve TIMED_OUT, then closes. */
  | { readonly kind: 'hangup'; readonly conn: number }
  /** A new connection in place of a closed one (synced with `list-tube-used`). */
  | { readonly kind: 'reconnect'; readonly conn: number }
  | { readonly kind: 'sleep'; readonly ms: number }
  /** Drain mode: SIGUSR1 to beanstalkd, drain() on the embedded server. */
  | { readonly kind: 'drain' };

export interface Sequence {
  /** The seed it was generated from; null for a fixed sequence. */
  readonly seed: number | null;
  /** What the generator steered clear of (the same is needed to replay the seed). */
  readonly avoid?: readonly Avoidable[];
  readonly name?: string;
  readonly connections: number;
  readonly maxJobSize: number;
  readonly steps: readonly Step[];
}

const bytes = (item: string | Buffer): Buffer => (typeof item === 'string' ? Buffer.from(item, 'latin1') : item);

/** Step builders for fixed sequences; strings are taken as latin1 bytes. */
export const steps = {
  send: (conn: number, ...items: (string | Buffer)[]): Step => ({ kind: 'send', conn, items: items.map(bytes) }),
  reserve: (conn: number, line = 'reserve\r\n', sync = 'list-tube-used\r\n'): Step => ({ kind: 'reserve', conn, sync: bytes(sync), line: bytes(line) }),
  hangup: (conn: number): Step => ({ kind: 'hangup', conn }),
  reconnect: (conn: number): Step => ({ kind: 'reconnect', conn }),
  sleep: (ms: number): Step => ({ kind: 'sleep', ms }),
  drain: (): Step => ({ kind: 'drain' }),
};

// ---------------------------------------------------------------------------------------------
// The framing model
// ---------------------------------------------------------------------------------------------

/** What a connection's bytes come to: one entry per reply (true: a reserve that may wait), and whether it closes (quit). */
export interface Framed {
  readonly replies: boolean[];
  closes: boolean;
  /** A `stats` among the commands (its cmd-stats counts the runner's probe, or not, by timing if queued behind a reserve). */
  stats: boolean;
  /**
   * A put line was read and its body (or the bytes thrown away after JOB_TOO_BIG) is still to come:
   * no reply says the server has read the line, yet it counts (cmd-put, the job id, the producer).
   */
  putPending: boolean;
}

export class InvalidSequence extends Error {
  override readonly name: string = 'InvalidSequence';
}

/** A step on another connection right after a put line no reply has confirmed: a sleep must come between. */
export class UnconfirmedPut extends InvalidSequence {
  override readonly name = 'UnconfirmedPut';
}

/** How long a sleep after an unconfirmed put line the generator puts in: the server has read it by then. */
export const SETTLE_MS = 30;

type Mode = 'command' | 'endline' | 'body' | 'discard' | 'closed';

/** One connection's input as beanstalkd reads it. */
export class Framer {
  private mode: Mode = 'command';
  /** Bytes of the command buffer not yet consumed (modes command and endline). */
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes still to come of a body (mode body) or to throw away (mode discard). */
  private remaining = 0;

  constructor(readonly maxJobSize: number) {}

  get closed(): boolean {
    return this.mode === 'closed';
  }

  /** Nothing pending: the next byte starts a command line. */
  get clean(): boolean {
    return this.mode === 'command' && this.pending.length === 0;
  }

  clone(): Framer {
    const copy = new Framer(this.maxJobSize);
    copy.mode = this.mode;
    copy.pending = this.pending;
    copy.remaining = this.remaining;
    copy.closedWithUnread = this.closedWithUnread;
    return copy;
  }

  /** A put's body is being read. */
  get readingBody(): boolean {
    return this.mode === 'body';
  }

  /** A body is being read, or bytes thrown away. */
  get inBody(): boolean {
    return this.mode === 'body' || this.mode === 'discard';
  }

  /** Bytes that finish a pending body or discard exactly, or null when none is pending. */
  remainingFiller(): string | null {
    if (this.mode !== 'body' && this.mode !== 'discard') return null;
    return this.remaining <= 4096 ? 'x'.repeat(this.remaining) : null;
  }

  /**
   * A quit with bytes after it in the same write. beanstalkd then closes with input unread, the
   * kernel resets the connection, and replies not yet sent are lost, or not, by timing.
   */
  closedWithUnread = false;

  /** The client hung up: whatever is pending is dropped with the connection. */
  close(): void {
    this.mode = 'closed';
    this.pending = Buffer.alloc(0);
  }

  /** A fresh connection. */
  reset(): void {
    this.closedWithUnread = false;
    this.mode = 'command';
    this.pending = Buffer.alloc(0);
    this.remaining = 0;
  }

  feed(input: Buffer): Framed {
    const out: Framed = { replies: [], closes: false, stats: false, putPending: false };
    if (this.mode === 'closed') return out;
    const data = this.pending.length === 0 ? input : Buffer.concat([this.pending, input]);
    this.pending = Buffer.alloc(0);
    let offset = 0;
    while (offset < data.length && !this.closed) {
      const available = data.length - offset;
      if (this.mode === 'body' || this.mode === 'discard') {
        const take = Math.min(available, this.remaining);
        this.remaining -= take;
        offset += take;
        if (this.remaining === 0) {
          out.replies.push(false);
          this.mode = 'command';
        }
        continue;
      }
      const window = Math.min(available, LINE_BUF);
      const length = scanLineEnd(data, offset, window);
      if (length === -1) {
        if (window < LINE_BUF) {
          this.pending = Buffer.from(data.subarray(offset));
          break;
        }
        // A full buffer without a line end: thrown away whole, and the line's end awaited.
        this.mode = 'endline';
        offset += LINE_BUF;
        continue;
      }
      const line = data.subarray(offset, offset + length);
      offset += length + 2;
      if (this.mode === 'endline') {
        this.mode = 'command';
        out.replies.push(false); // BAD_FORMAT
        continue;
      }
      this.dispatch(line, out);
      if (this.closed && offset < data.length) this.closedWithUnread = true;
      if (this.inBody) out.putPending = true;
    }
    if (!this.inBody) out.putPending = false;
    return out;
  }

  /** dispatch_cmd, as far as framing goes. */
  private dispatch(line: Buffer, out: Framed): void {
    if (line.includes(0)) {
      out.replies.push(false); // BAD_FORMAT: the line is read as a C string
      return;
    }
    const text = line.toString('latin1');
    if (text.startsWith('put ')) {
      this.putLine(text, out);
    } else if (text.startsWith('reserve-with-timeout ')) {
      out.replies.push(!strtolOverflows(text.slice('reserve-with-timeout '.length)));
    } else if (text.startsWith('reserve-job ')) {
      out.replies.push(false);
    } else if (text.startsWith('reserve')) {
      out.replies.push(text === 'reserve');
    } else if (text === 'stats') {
      out.stats = true;
      out.replies.push(false);
    } else if (text.startsWith('quit')) {
      out.closes = true;
      this.close();
    } else {
      out.replies.push(false);
    }
  }

  private putLine(text: string, out: Framed): void {
    let position = 4;
    let size = 0;
    for (let i = 0; i < 4; i += 1) {
      const read = readU32(text, position);
      if (read === null) {
        out.replies.push(false); // BAD_FORMAT; what follows is read as commands
        return;
      }
      position = read.end;
      size = read.value;
    }
    if (size > this.maxJobSize) {
      // JOB_TOO_BIG once the body and its CRLF have been thrown away (before any trailing garbage is seen).
      this.mode = 'discard';
      this.remaining = size + 2;
      return;
    }
    if (position < text.length) {
      out.replies.push(false); // BAD_FORMAT: trailing garbage
      return;
    }
    this.mode = 'body';
    this.remaining = size + 2;
  }
}

/** scan_line_end over data[offset, offset + size): the first CR, if an LF follows it within the window, ends the line. */
function scanLineEnd(data: Buffer, offset: number, size: number): number {
  if (size < 2) return -1;
  const cr = data.indexOf(CR, offset);
  if (cr === -1 || cr >= offset + size - 1) return -1;
  return data[cr + 1] === LF ? cr - offset : -1;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

/** read_u32 with an end pointer: spaces, then digits whose value fits in 32 bits. */
function readU32(text: string, start: number): { value: number; end: number } | null {
  let position = start;
  while (text[position] === ' ') position += 1;
  if (!isDigit(text[position])) return null;
  let end = position;
  while (isDigit(text[end])) end += 1;
  const value = BigInt(text.slice(position, end));
  if (value > 4294967295n) return null;
  return { value: Number(value), end };
}

/** Whether glibc's strtol(text, _, 10) sets ERANGE (the only way reserve-with-timeout gets BAD_FORMAT). */
function strtolOverflows(text: string): boolean {
  let position = 0;
  while (' \t\n\v\f\r'.includes(text[position] ?? 'x')) position += 1;
  let negative = false;
  if (text[position] === '+' || text[position] === '-') {
    negative = text[position] === '-';
    position += 1;
  }
  let end = position;
  while (isDigit(text[end])) end += 1;
  if (end === position) return false;
  const magnitude = BigInt(text.slice(position, end));
  return negative ? magnitude > 9223372036854775808n : magnitude > 9223372036854775807n;
}

// ---------------------------------------------------------------------------------------------
// Planning: what each step of a sequence brings back, checked before any server is started
// ---------------------------------------------------------------------------------------------

export interface Plan {
  /** Replies the step's write brings on its connection, all told (some may wait behind a reserve). */
  readonly replies: number;
  /** For a reserve step: the second reply is the reserve's, which may wait. */
  readonly waits: boolean;
  readonly closes: boolean;
}

/**
 * The framing state of every connection of a sequence, advanced step by step, and the rules that
 * keep a sequence deterministic:
 * - a reserve that may wait is only the last command of a reserve step, on a connection with
 *   nothing pending;
 * - commands may be queued behind a waiting reserve on one connection at a time (the holder), and
 *   while there is one, every other connection writes at most one command per step. When a step
 *   wakes the holder, beanstalkd interleaves the holder's queued commands with the rest of the
 *   waker's pipeline one command per event-loop turn, which no client can rely on (and the
 *   embedded server, rightly, does not copy);
 * - nothing follows a quit in the same write (see Framer.closedWithUnread);
 * - no `stats` is queued behind a reserve: woken, it runs while the runner's probe (a `stats` too)
 *   may or may not have been counted;
 * - a send that leaves a put's body (or a JOB_TOO_BIG discard) to come is not followed at once by
 *   a step on another connection: no reply says the server has read that put line, which it counts
 *   all the same, so a sleep comes between (see UnconfirmedPut).
 */
export class Planner {
  private framers: Framer[];
  /** Connections that may wait in a reserve: from a reserve step until they hang up or reconnect. */
  private mayWait: boolean[];
  private holder = -1;
  /** A connection whose last send left a put line unconfirmed (see Framed.putPending), or -1. */
  private unconfirmed = -1;

  constructor(private readonly sequence: Sequence) {
    this.framers = Array.from({ length: sequence.connections }, () => new Framer(sequence.maxJobSize));
    this.mayWait = Array.from({ length: sequence.connections }, () => false);
  }

  clone(): Planner {
    const copy = new Planner(this.sequence);
    copy.framers = this.framers.map((framer) => framer.clone());
    copy.mayWait = [...this.mayWait];
    copy.holder = this.holder;
    copy.unconfirmed = this.unconfirmed;
    return copy;
  }

  /** The framing state of a connection (not to be fed: plan steps instead). */
  framer(conn: number): Framer {
    return this.framers[conn] as Framer;
  }

  /** Whether the last step left a put line unconfirmed (see UnconfirmedPut). */
  get unconfirmedPut(): boolean {
    return this.unconfirmed !== -1;
  }

  /** The connection that may have commands queued behind a waiting reserve, or -1. */
  get holding(): number {
    return this.holder;
  }

  /** Whether connection `conn` can take a sentinel command at the end (open, nothing pending). */
  clean(conn: number): boolean {
    return this.framer(conn).clean;
  }

  /** The plan of `step`, the model advanced past it; throws InvalidSequence for a step the runner cannot run deterministically. */
  plan(step: Step): Plan {
    const none: Plan = { replies: 0, waits: false, closes: false };
    if (step.kind === 'sleep') {
      this.unconfirmed = -1;
      return none;
    }
    if (this.unconfirmed !== -1 && (step.kind === 'drain' || step.conn !== this.unconfirmed)) {
      throw new UnconfirmedPut(`a put line on connection ${this.unconfirmed} that no reply confirms, then another connection at once: sleep between`);
    }
    this.unconfirmed = -1;
    if (step.kind === 'drain') return none;
    const framer = this.framers[step.conn];
    if (framer === undefined) throw new InvalidSequence(`connection ${step.conn} of ${this.sequence.connections}`);
    const other = this.holder !== -1 && this.holder !== step.conn;
    switch (step.kind) {
      case 'reconnect':
      case 'hangup':
        if (step.kind === 'reconnect' ? !framer.closed : framer.closed) throw new InvalidSequence(`${step.kind} of ${framer.closed ? 'closed' : 'open'} connection ${step.conn}`);
        this.mayWait[step.conn] = false;
        if (this.holder === step.conn) this.holder = -1;
        if (step.kind === 'hangup') {
          framer.close();
          return none;
        }
        framer.reset();
        return { replies: 1, waits: false, closes: false };
      case 'send': {
        if (framer.closed) throw new InvalidSequence(`send on closed connection ${step.conn}`);
        const framed = framer.feed(Buffer.concat(step.items));
        if (framed.replies.includes(true)) throw new InvalidSequence(`a reserve that may wait inside a send on connection ${step.conn}`);
        if (framer.closedWithUnread) throw new InvalidSequence(`bytes after a quit on connection ${step.conn} (beanstalkd resets the connection, losing replies by timing)`);
        if (this.mayWait[step.conn] === true) {
          if (framed.stats) throw new InvalidSequence(`stats queued behind a reserve on connection ${step.conn} (its cmd-stats may or may not count the runner's probe)`);
          if (other) throw new InvalidSequence(`commands queued behind reserves on two connections (${this.holder} and ${step.conn})`);
          this.holder = step.conn;
        } else if (other && framed.replies.length > 1) {
          throw new InvalidSequence(`several commands on connection ${step.conn} while connection ${this.holder} may have commands queued`);
        }
        if (framed.putPending) this.unconfirmed = step.conn;
        return { replies: framed.replies.length, waits: false, closes: framed.closes };
      }
      case 'reserve': {
        if (framer.closed || !framer.clean) throw new InvalidSequence(`reserve on connection ${step.conn} with input pending`);
        if (other) throw new InvalidSequence(`reserve step on connection ${step.conn} while connection ${this.holder} may have commands queued`);
        const framed = framer.feed(Buffer.concat([step.sync, step.line]));
        if (framed.closes || framed.replies.length !== 2 || framed.replies[0] !== false || framed.replies[1] !== true || !framer.clean) {
          throw new InvalidSequence(`reserve step on connection ${step.conn} is not one command and one reserve`);
        }
        this.mayWait[step.conn] = true;
        return { replies: 2, waits: true, closes: false };
      }
    }
  }
}

/** Throws InvalidSequence unless every step of the sequence can be run. */
export function checkSequence(sequence: Sequence): void {
  const planner = new Planner(sequence);
  for (const step of sequence.steps) planner.plan(step);
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/** mulberry32 after a splitmix-style scramble of the seed: small, fast, and the same everywhere. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    let s = (seed >>> 0) ^ 0x9e3779b9;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number from min to max, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One of the items, by weight: [[weight, item], ...]. */
  weighted<T>(table: readonly (readonly [number, T])[]): T {
    const total = table.reduce((sum, [weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [weight, item] of table) {
      roll -= weight;
      if (roll < 0) return item;
    }
    return (table[table.length - 1] as readonly [number, T])[1];
  }
}

/** The longest tube name (200 bytes), with every punctuation character allowed. */
export const LONG_TUBE = 'a-+/;.$_()9'.repeat(18).padEnd(200, 'z');
const GOOD_TUBES = ['default', 'default', 'default', 'a', 'a', 'b', 'c', 'x.y_z', '$(a)+b;c/', 'A-9', LONG_TUBE];
const BAD_TUBES = ['', '-a', 'a b', 'a*', 'caf\xe9', `${LONG_TUBE}z`, 'a\tb', ' a', 'a ', '\xff'];
const SYNC_LINES = ['list-tube-used', 'list-tubes-watched', 'peek-ready', 'peek 1', 'stats-job 1', 'list-tubes', 'watch a', 'use b', 'kick 0'];
const NUMBER_JUNK = ['', 'x', '-1', '+1', '1x', '0x10', '4294967296', '18446744073709551615', '18446744073709551616', '99999999999999999999999', ' ', '1 2', '1.5'];
const ID_JUNK = ['0', '', 'x', '-1', '+1', '18446744073709551615', '18446744073709551616', '1 ', '1x', '00001', '  2'];

/**
 * Known divergences a generator can be told to steer clear of, so that a fuzz run looks past one
 * that is reported and not fixed yet. Never used by default: the tests hold the server to all.
 */
export const AVOIDABLE = {
  /** beanstalkd gives a put its id when it reads the line: a put that then fails, or whose body is still coming, uses one up. */
  'put-ids': 'no put that fails after its line (EXPECTED_CRLF, DRAINING), no body split across writes, no drain',
  /** beanstalkd ticks between pipelined commands, so a 0-second pause (1 ns) ends before the next one is read. */
  'pause-zero': 'no pause-tube of 0 seconds',
} as const;

export type Avoidable = keyof typeof AVOIDABLE;

export interface GenerateOptions {
  /** beanstalkd's -z for the sequence. Default 1024, so JOB_TOO_BIG is cheap. */
  readonly maxJobSize?: number;
  readonly avoid?: readonly Avoidable[];
}

/** A random sequence, the same for the same seed. */
export function generateSequence(seed: number, options: GenerateOptions = {}): Sequence {
  const rng = new Rng(seed);
  const maxJobSize = options.maxJobSize ?? 1024;
  const connections = rng.int(2, 4);
  const timed = rng.chance(0.05);
  const generator = new Generator(rng, { seed, connections, maxJobSize, steps: [] }, timed, new Set(options.avoid ?? []));
  return { seed, avoid: options.avoid ?? [], connections, maxJobSize, steps: generator.run() };
}

class Generator {
  private planner: Planner;
  /** Puts generated so far: the ids that may exist are about 1..puts. */
  private puts = 0;
  private drained = false;
  private lastReserve = -1;
  private readonly steps: Step[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly sequence: Sequence,
    private readonly timed: boolean,
    private readonly avoid: ReadonlySet<Avoidable>,
  ) {
    this.planner = new Planner(sequence);
  }

  run(): Step[] {
    const { rng } = this;
    const count = this.timed ? rng.int(6, 20) : rng.int(3, 30);
    const sleeps = new Set(this.timed ? [rng.int(1, count - 1), ...(rng.chance(0.3) ? [rng.int(1, count - 1)] : [])] : []);
    for (let i = 0; i < count; i += 1) {
      if (sleeps.has(i)) this.steps.push({ kind: 'sleep', ms: rng.int(1000, 1200) });
      this.step();
    }
    return this.steps;
  }

  /** Takes the step if the planner does (after a short sleep if it needs one). */
  private take(step: Step): boolean {
    const trial = this.planner.clone();
    const pause: Step = { kind: 'sleep', ms: SETTLE_MS };
    try {
      try {
        trial.plan(step);
      } catch (error) {
        if (!(error instanceof UnconfirmedPut)) throw error;
        trial.plan(pause);
        trial.plan(step);
        this.steps.push(pause);
      }
    } catch (error) {
      if (error instanceof InvalidSequence) return false;
      throw error;
    }
    this.planner = trial;
    this.steps.push(step);
    return true;
  }

  private step(): void {
    const { rng } = this;
    const holder = this.planner.holding;
    // Connections with commands queued behind a reserve do not stay so for long.
    if (holder !== -1 && rng.chance(0.2) && this.take({ kind: 'hangup', conn: holder })) return;
    // After a reserve, another connection more often acts next (a put that wakes it, say).
    let conn = rng.int(0, this.sequence.connections - 1);
    if (conn === this.lastReserve && rng.chance(0.6)) conn = (conn + 1) % this.sequence.connections;
    if (this.planner.framer(conn).closed) {
      this.take({ kind: 'reconnect', conn });
      return;
    }
    const kind = rng.weighted<'send' | 'reserve' | 'hangup' | 'drain'>([
      [66, 'send'],
      [28, 'reserve'],
      [3, 'hangup'],
      [this.drained || this.avoid.has('put-ids') ? 0 : 0.4, 'drain'],
    ]);
    this.lastReserve = -1;
    if (kind === 'drain') {
      this.drained = this.take({ kind: 'drain' });
    } else if (kind === 'hangup') {
      this.take({ kind: 'hangup', conn });
    } else if (kind === 'reserve' && this.makeClean(conn) && this.reserve(conn)) {
      this.lastReserve = conn;
    } else {
      this.send(conn);
    }
  }

  /** Flushes whatever is pending on the connection (a partial line, a body), if it can. */
  private makeClean(conn: number): boolean {
    for (const flush of ['\r\n', `${'x'.repeat(LINE_BUF)}\r\n`]) {
      const framer = this.planner.framer(conn);
      if (framer.clean) return true;
      const filler = framer.remainingFiller();
      if (filler === null && framer.inBody) return false;
      if (!this.take({ kind: 'send', conn, items: [Buffer.from(filler ?? flush, 'latin1')] })) return false;
    }
    return this.planner.framer(conn).clean;
  }

  private reserve(conn: number): boolean {
    const { rng } = this;
    const lines = this.bodyInFlight() ? SYNC_LINES.filter((line) => !line.startsWith('peek ')) : SYNC_LINES;
    const sync = Buffer.from(`${rng.pick(lines)}\r\n`, 'latin1');
    const line = rng.weighted<string>([
      [40, 'reserve'],
      [30, 'reserve-with-timeout 0'],
      [this.timed ? 25 : 6, 'reserve-with-timeout 1'],
      [this.timed ? 5 : 0, 'reserve-with-timeout 2'],
      [2, 'reserve-with-timeout -1'],
      [2, 'reserve-with-timeout abc'],
      [2, 'reserve-with-timeout '],
      [1, 'reserve-with-timeout +0'],
      [1, 'reserve-with-timeout  0'],
      [1, 'reserve-with-timeout 0x'],
      [1, 'reserve-with-timeout 4294967296'],
      [this.timed ? 2 : 0, 'reserve-with-timeout 4294967297'],
      [2, 'reserve-with-timeout 10'],
    ]);
    return this.take({ kind: 'reserve', conn, sync, line: Buffer.from(`${line}\r\n`, 'latin1') });
  }

  private send(conn: number): void {
    const { rng } = this;
    // While another connection may have commands queued, one command at a time (see Planner).
    const single = this.planner.holding !== -1 && this.planner.holding !== conn;
    const size = single
      ? 1
      : rng.weighted<number>([
          [35, 1],
          [40, rng.int(2, 3)],
          [25, rng.int(4, 8)],
        ]);
    for (let attempt = 0; attempt < 6; attempt += 1) {
      if (this.take({ kind: 'send', conn, items: Array.from({ length: size }, () => this.item()) })) return;
    }
  }

  private bodyInFlight(): boolean {
    return Array.from({ length: this.sequence.connections }, (_, conn) => this.planner.framer(conn)).some((framer) => framer.readingBody);
  }

  // --- items -----------------------------------------------------------------------------------

  private item(): Buffer {
    const { rng } = this;
    const make = rng.weighted<() => string | Buffer>([
      [20, () => this.put()],
      [8, () => this.badPut()],
      [10, () => `${rng.pick(['use', 'watch', 'ignore', 'watch', 'ignore'])} ${this.tube()}`],
      // No peek <id> while a put's body is still coming on some connection: beanstalkd has given
      // that job its id already and would send its unfilled body (uninitialised memory).
      [20, () => `${rng.pick(this.bodyInFlight() ? ['delete', 'touch', 'kick-job', 'stats-job', 'reserve-job'] : ['delete', 'touch', 'peek', 'kick-job', 'stats-job', 'reserve-job'])} ${this.id()}`],
      [5, () => `release ${this.id()} ${this.u32()} ${this.seconds()}`],
      [5, () => `bury ${this.id()} ${this.u32()}`],
      [12, () => this.bare()],
      [3, () => `kick ${rng.pick(['0', '1', '2', '10', '100', '-1', 'abc', '', '5x', ' 3', '+2', '4294967296', '18446744073709551616'])}`],
      [3, () => `stats-tube ${this.tube()}`],
      [3, () => this.pauseTube()],
      [8, () => this.junk()],
      [0.6, () => rng.pick(['quit', 'quit now', 'quitx'])],
    ]);
    const made = make();
    if (typeof made !== 'string') return made;
    return Buffer.from(`${made}\r\n`, 'latin1');
  }

  private id(): string {
    const { rng } = this;
    if (rng.chance(0.75)) return String(rng.int(1, this.puts + 1));
    return rng.pick(ID_JUNK);
  }

  private u32(): string {
    const { rng } = this;
    if (rng.chance(0.08)) return rng.pick(NUMBER_JUNK);
    return rng.pick(['0', '1', '100', '1023', '1024', '1024', '4294967295', String(rng.int(0, 5000))]);
  }

  /** A number of seconds: mostly 0; 1 or 2 only where a sequence waits long enough to see them. */
  private seconds(): string {
    const { rng } = this;
    if (rng.chance(0.05)) return rng.pick(NUMBER_JUNK);
    return rng.weighted<string>([
      [70, '0'],
      [this.timed ? 25 : 8, '1'],
      [this.timed ? 6 : 1, '2'],
      [8, rng.pick(['60', '3600', '4294967295'])],
    ]);
  }

  private ttr(): string {
    const { rng } = this;
    if (rng.chance(0.04)) return rng.pick(NUMBER_JUNK);
    return rng.weighted<string>([
      [10, '0'],
      [this.timed ? 20 : 10, '1'],
      [this.timed ? 8 : 3, '2'],
      [60, '60'],
      [5, rng.pick(['3600', '4294967295'])],
    ]);
  }

  private tube(): string {
    return this.rng.chance(0.85) ? this.rng.pick(GOOD_TUBES) : this.rng.pick(BAD_TUBES);
  }

  private body(): Buffer {
    const { rng } = this;
    const max = this.sequence.maxJobSize;
    const size = rng.weighted<number>([
      [10, 0],
      [40, rng.int(1, 16)],
      [30, rng.int(17, 200)],
      [12, rng.int(201, Math.max(201, max))],
      [4, max],
    ]);
    const kind = rng.weighted<'text' | 'binary' | 'tricky'>([
      [50, 'text'],
      [30, 'binary'],
      [20, 'tricky'],
    ]);
    if (kind === 'text') return Buffer.from(Array.from({ length: size }, () => rng.int(0x20, 0x7e)));
    if (kind === 'binary') return Buffer.from(Array.from({ length: size }, () => rng.int(0, 255)));
    const pieces = ['\r\n', '\r', '\n', '\0', 'RESERVED 1 2\r\n', 'stats\r\n', 'x', 'quit\r\n'];
    if (!this.avoid.has('put-ids')) pieces.push('put 0 0 1 1\r\n');
    let text = '';
    while (text.length < size) text += rng.pick(pieces);
    return Buffer.from(text.slice(0, size), 'latin1');
  }

  private put(): Buffer {
    const { rng } = this;
    const body = this.body();
    const pri = rng.chance(0.9) ? rng.pick(['0', '1', '1023', '1024', '1024', '65535', '4294967295', String(rng.int(0, 2000))]) : this.u32();
    const head = `put ${pri} ${this.seconds()} ${this.ttr()} ${body.length}\r\n`;
    this.puts += 1;
    return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from('\r\n')]);
  }

  /** A put the server refuses, or reads other than its sender meant. */
  private badPut(): Buffer {
    const { rng } = this;
    const body = this.body();
    const max = this.sequence.maxJobSize;
    const n = body.length;
    let variant = rng.int(0, 9);
    // Wrong counts and bad tails make EXPECTED_CRLF (or leave a body coming).
    if (this.avoid.has('put-ids') && (variant === 0 || variant >= 7)) variant = rng.pick([1, 2, 3, 4, 5, 6]);
    const head = ((): string => {
      switch (variant) {
        case 0: // the count says more or fewer bytes than come
          return `put 0 0 60 ${Math.max(0, n + rng.pick([-3, -2, -1, 1, 2, 3]))}`;
        case 1: // too big: the server reads the body and throws it away
          return `put 0 0 60 ${max + rng.int(1, 64)}`;
        case 2: // too big, with trailing garbage: JOB_TOO_BIG wins
          return `put 0 0 60 ${max + 1} x`;
        case 3:
          return rng.pick([`put 0 0 60 ${n} x`, `put 0 0 60 ${n} `, `put 0 0 60`, `put 0 0 ${n}`, 'put', 'put ', `put\t0 0 60 ${n}`, `PUT 0 0 60 ${n}`]);
        case 4:
          return rng.pick([`put -1 0 60 ${n}`, `put 4294967296 0 60 ${n}`, `put 0 4294967296 60 ${n}`, `put 0 0 4294967296 ${n}`, `put 0 0 60 +${n}`, `put 0 0 60 18446744073709551616`]);
        case 5: // extra spaces: beanstalkd skips them
          return `put  0  0  60  ${n}`;
        case 6:
          return `put 0 0 60 ${n}\0`;
        default:
          return `put ${rng.pick(['0', '4294967295'])} 0 ${rng.pick(['0', '4294967295'])} ${n}`;
      }
    })();
    if (variant === 1) {
      const size = Number(head.split(' ').at(-1));
      const filler = Buffer.alloc(rng.chance(0.8) ? size : rng.int(0, size + 4), 0x61);
      return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), filler, Buffer.from('\r\n')]);
    }
    const tail = variant >= 7 ? rng.pick(['\n\r', '\r', '', 'xx', '\r\r\n']) : '\r\n';
    if (variant === 5 || variant >= 7) this.puts += 1;
    return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body, Buffer.from(tail, 'latin1')]);
  }

  /** A command without arguments, now and then with something after it. */
  private bare(): string {
    const { rng } = this;
    const name = rng.pick(['peek-ready', 'peek-delayed', 'peek-buried', 'stats', 'list-tubes', 'list-tube-used', 'list-tubes-watched']);
    return rng.chance(0.85) ? name : `${name}${rng.pick([' ', 'x', ' x', '  '])}`;
  }

  private pauseTube(): string {
    const { rng } = this;
    const tube = this.tube();
    const seconds = rng.weighted<string>([
      [this.avoid.has('pause-zero') ? 0 : 40, '0'],
      [this.timed ? 30 : 8, '1'],
      [10, '3600'],
      [8, rng.pick(NUMBER_JUNK)],
    ]);
    return rng.pick([`pause-tube ${tube} ${seconds}`, `pause-tube ${tube} ${seconds}`, `pause-tube${tube} ${seconds}`, `pause-tube  ${tube}  ${seconds}`, `pause-tube ${tube}`]);
  }

  private junk(): string | Buffer {
    const { rng } = this;
    switch (rng.int(0, 7)) {
      case 0:
        return rng.pick(['', 'foo', 'stat', 'statsx', 'list', 'peek', 'delete', 'use', 'watch', ' stats', 'reserves', 'reserve x', 'reserve-with-timeout', 'reserve-with-timeout 99999999999999999999', 'reserve-job', 'pause-tub']);
      case 1: // lines at and over the 224-byte buffer
        return `${rng.pick(['x', 'use a', 'stats-job 1', 'put 0 0 1 1'])}${'x'.repeat(rng.pick([210, 216, 217, 218, 219, 220, 221, 222, 223, 230, 300, 446, 447, 448, 449, 700]))}`;
      case 2: // NUL in a line
        return rng.pick(['stats\0', 'use a\0b', '\0', 'peek\0 1', 'delete 1\0']);
      case 3: // CR without LF, LF without CR: the line goes on
        return Buffer.from(rng.pick(['stats\rlist-tubes\r\n', 'stats\r', 'list-tubes\n', 'peek-ready\n\r\n', '\r', '\n', 'use a\r\rb\r\n']), 'latin1');
      case 4:
        return rng.pick(['delete  1', 'delete 1 ', 'peek  2', 'use  a', 'watch a ', 'stats-job\t1', 'kick-job 1 1']);
      case 5: // high bytes
        return Buffer.from(rng.pick(['use \xff\r\n', '\xff\xfe\r\n', 'stats-tube caf\xe9\r\n']), 'latin1');
      case 6: // a line without its end: the next item finishes it
        return Buffer.from(rng.pick(this.avoid.has('put-ids') ? ['list-tube', 'pee', 'use '] : ['list-tube', 'pee', 'use ', 'put 0 0 1 2']), 'latin1');
      default:
        return `${rng.pick(['use', 'watch', 'ignore', 'stats-tube'])} ${'t'.repeat(rng.pick([199, 200, 201, 202, 218, 219, 220]))}`;
    }
  }
}

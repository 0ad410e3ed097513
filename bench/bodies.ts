/**
 * Job bodies that carry their own index, and the tally that proves every index arrived exactly once
 * with its bytes intact.
 *
 * A body is 100 bytes: `job:` + the index in 10 digits + `:` + 85 letters that also depend on the
 * index, so a body cut short, shifted, or mixed with its neighbour's bytes fails the check.
 */
export const BODY_BYTES = 100;

const DIGITS = 10;
const HEAD = 4 + DIGITS + 1;
const FILL = BODY_BYTES - HEAD;
/** 'abc...z' repeated, so that the filler of index i is LETTERS[i % 26 .. i % 26 + FILL]. */
const LETTERS = Buffer.from('abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil((FILL + 26) / 26)), 'latin1');
const PREFIX = Buffer.from('job:', 'latin1');
const COLON = 0x3a;

export function makeBody(index: number): Buffer {
  const body = Buffer.allocUnsafe(BODY_BYTES);
  PREFIX.copy(body, 0);
  body.write(String(index).padStart(DIGITS, '0'), PREFIX.length, 'latin1');
  body[HEAD - 1] = COLON;
  const shift = index % 26;
  LETTERS.copy(body, HEAD, shift, shift + FILL);
  return body;
}

/** The index a body carries, or -1 when it is not exactly what makeBody(index) gives. */
export function bodyIndex(body: Uint8Array): number {
  if (body.length !== BODY_BYTES) return -1;
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const index = Number(bytes.toString('latin1', PREFIX.length, HEAD - 1));
  if (!Number.isInteger(index) || index < 0) return -1;
  return makeBody(index).equals(bytes) ? index : -1;
}

/** The defineJob type of the jobs in (e) and (g). */
export const BENCH_JOB_TYPE = 'bench';

/** A defineJob job's arguments in (e) and (g): the body rides along as a latin1 string. */
export interface BodyArgs {
  index: number;
  body: string;
}

export const makeArgs = (index: number): BodyArgs => ({ index, body: makeBody(index).toString('latin1') });

/** The index the arguments carry, or -1 when they are not exactly what makeArgs(index) gives. */
export function argsIndex(args: unknown): number {
  if (typeof args !== 'object' || args === null) return -1;
  const { index, body } = args as Partial<BodyArgs>;
  if (typeof index !== 'number' || typeof body !== 'string') return -1;
  return bodyIndex(Buffer.from(body, 'latin1')) === index ? index : -1;
}

/**
 * The index a job envelope for `tube` carries in its arguments, or -1. Read here, not by beanline's
 * own parseEnvelope: the client under test does not get to check itself.
 */
export function envelopeIndex(body: Uint8Array, tube: string): number {
  let envelope: unknown;
  try {
    envelope = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return -1;
  }
  if (typeof envelope !== 'object' || envelope === null) return -1;
  const fields = envelope as Record<string, unknown>;
  if (fields['type'] !== BENCH_JOB_TYPE || fields['tube'] !== tube || typeof fields['jid'] !== 'string') return -1;
  return argsIndex(fields['args']);
}

export interface TallySummary {
  expected: number;
  /** Indexes seen at least once. */
  distinct: number;
  /** Bodies seen again after their first time. */
  duplicates: number;
  /** Bodies that were not a valid body, or carried an index outside 0..expected-1. */
  corrupt: number;
}

/** Counts the bodies that came back, by index. */
export class Tally {
  private readonly seen: Uint8Array;
  private distinct = 0;
  private duplicates = 0;
  private corrupt = 0;

  constructor(readonly expected: number) {
    this.seen = new Uint8Array(expected);
  }

  /** Records one body; returns false when it was corrupt or a duplicate. */
  see(body: Uint8Array): boolean {
    return this.seeIndex(bodyIndex(body));
  }

  seeIndex(index: number): boolean {
    if (index < 0 || index >= this.expected) {
      this.corrupt += 1;
      return false;
    }
    if (this.seen[index] === 1) {
      this.duplicates += 1;
      return false;
    }
    this.seen[index] = 1;
    this.distinct += 1;
    return true;
  }

  summary(): TallySummary {
    return { expected: this.expected, distinct: this.distinct, duplicates: this.duplicates, corrupt: this.corrupt };
  }
}

/** Why a tally does not prove "each exactly once, intact", or null when it does. */
export function tallyProblem(summary: TallySummary): string | null {
  const problems: string[] = [];
  const missing = summary.expected - summary.distinct;
  if (missing > 0) problems.push(`${missing} missing`);
  if (summary.duplicates > 0) problems.push(`${summary.duplicates} duplicated`);
  if (summary.corrupt > 0) problems.push(`${summary.corrupt} corrupt`);
  return problems.length === 0 ? null : `bodies: ${problems.join(', ')} of ${summary.expected}`;
}

/**
 * The server's side of the command table: a command line as beanstalkd 1.12 reads it, and a reply
 * as the table says the command can get. Everything here mirrors beanstalkd's own reading (prot.c:
 * which_cmd, read_u32, read_u64, read_tube_name, is_valid_tube), quirks included, because the
 * embedded server is held to the real one reply for reply.
 */
import { COMMANDS, GENERIC_ERRORS, type ArgSpec, type Command } from './commands.js';

/** beanstalkd's command buffer: a line longer than this, CRLF included, is BAD_FORMAT. */
export const LINE_MAX_BYTES = 224;
/** The longest tube name. */
export const TUBE_NAME_MAX = 200;

const NAME_CHARS = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-+/;.$_()');
const U32_MAX = 4294967295n;
const U64_MAX = 18446744073709551615n;
const LONG_MAX = 9223372036854775807n;

export type ParsedLine =
  /** `args` in the table's order: numbers for numbers (seconds as given), strings for tubes. */
  | { readonly kind: 'command'; readonly command: Command; readonly args: readonly (number | string)[]; readonly put?: PutLine }
  /** BAD_FORMAT. `counted`: beanstalkd counts the command in its stats before it finds the fault. */
  | { readonly kind: 'bad-format'; readonly counted: Command | null }
  | { readonly kind: 'unknown' };

/** What a put line says about the body that follows. */
export interface PutLine {
  readonly bodyBytes: number;
  /** Something after the byte count: BAD_FORMAT, but only once the size is known to fit. */
  readonly trailing: boolean;
}

/** The commands by prefix, longest first: a line is the first whose prefix it starts with. */
const BY_PREFIX: readonly Command[] = (Object.values(COMMANDS) as Command[]).sort((a, b) => b.prefix.length - a.prefix.length);

/** Reads one command line (without its CRLF, NUL-free, latin1) the way beanstalkd does. */
export function parseLine(line: string): ParsedLine {
  const command = BY_PREFIX.find((candidate) => line.startsWith(candidate.prefix));
  if (command === undefined) return { kind: 'unknown' };
  // quit takes anything after its name; other commands without arguments take nothing.
  if (command.args.length === 0 && !command.body) {
    return command === COMMANDS.quit || line.length === command.name.length
      ? { kind: 'command', command, args: [] }
      : { kind: 'bad-format', counted: null };
  }
  const reader = new LineReader(line, command.prefix.length);
  const args: (number | string)[] = [];
  const specs = command.args;
  for (let i = 0; i < specs.length; i += 1) {
    const spec = specs[i] as ArgSpec;
    const last = i === specs.length - 1 && !command.body;
    const value = command.lenient !== null ? reader.lenient(command.lenient) : reader.read(spec, last);
    if (value === null) return { kind: 'bad-format', counted: null };
    args.push(value);
  }
  if (command.body) {
    const bodyBytes = reader.u32(false);
    if (bodyBytes === null) return { kind: 'bad-format', counted: null };
    return { kind: 'command', command, args, put: { bodyBytes, trailing: !reader.atEnd } };
  }
  // pause-tube reads its name loosely, counts the command, and only then checks the name.
  for (let i = 0; i < specs.length; i += 1) {
    if ((specs[i] as ArgSpec).kind === 'tube' && !validTube(args[i] as string)) {
      return { kind: 'bad-format', counted: i === specs.length - 1 ? null : command };
    }
  }
  return { kind: 'command', command, args };
}

/** A tube name beanstalkd accepts: 1 to 200 name characters, not starting with `-`. */
export function validTube(name: string): boolean {
  if (name.length === 0 || name.length > TUBE_NAME_MAX || name[0] === '-') return false;
  for (const char of name) if (!NAME_CHARS.has(char)) return false;
  return true;
}

/**
 * The reply line for `word` with `args`, which the table must list for `command` (the four errors
 * every command can get included): the server cannot send what the client could not read.
 */
export function replyLine(command: Command, word: string, args: readonly (string | number)[] = []): string {
  const shape = command.ok.get(word) ?? command.errors.get(word);
  const generic = (GENERIC_ERRORS as readonly string[]).includes(word);
  if ((shape === undefined && !generic) || (shape?.args.length ?? 0) !== args.length) {
    throw new Error(`server: ${command.name} cannot answer ${[word, ...args].join(' ')}`);
  }
  return args.length === 0 ? `${word}\r\n` : `${word} ${args.join(' ')}\r\n`;
}

/** A cursor over the arguments of one line, with beanstalkd's ways of reading them. */
class LineReader {
  private position: number;

  constructor(
    private readonly line: string,
    start: number,
  ) {
    this.position = start;
  }

  get atEnd(): boolean {
    return this.position >= this.line.length;
  }

  read(spec: ArgSpec, last: boolean): number | string | null {
    switch (spec.kind) {
      case 'uint32':
        return this.u32(last);
      case 'id':
        return this.number(U64_MAX, last);
      case 'tube':
        return last ? this.rest() : this.name();
    }
  }

  u32(last: boolean): number | null {
    return this.number(U32_MAX, last);
  }

  /** read_u32 / read_u64: spaces, then digits up to `max`; as the last argument nothing may follow. */
  private number(max: bigint, last: boolean): number | null {
    this.skip((char) => char === ' ');
    const start = this.position;
    while (this.position < this.line.length && isDigit(this.line.charCodeAt(this.position))) this.position += 1;
    if (this.position === start) return null;
    const value = BigInt(this.line.slice(start, this.position));
    if (value > max) return null;
    if (last && !this.atEnd) return null;
    return Number(value);
  }

  /** The rest of the line, as is: use, watch, ignore and stats-tube take it whole as the name. */
  private rest(): string {
    const rest = this.line.slice(this.position);
    this.position = this.line.length;
    return rest;
  }

  /** read_tube_name: spaces, then the longest run of name characters (at least one). */
  private name(): string | null {
    this.skip((char) => char === ' ');
    const start = this.position;
    this.skip((char) => NAME_CHARS.has(char));
    return this.position === start ? null : this.line.slice(start, this.position);
  }

  /** C's strtol or strtoul on the rest of the line, as beanstalkd uses them (see Leniency). */
  lenient(how: 'strtol' | 'strtoul'): number | null {
    this.skip((char) => ' \t\n\v\f\r'.includes(char));
    let negative = false;
    const sign = this.line[this.position];
    if (sign === '+' || sign === '-') {
      negative = sign === '-';
      this.position += 1;
    }
    const start = this.position;
    while (this.position < this.line.length && isDigit(this.line.charCodeAt(this.position))) this.position += 1;
    if (this.position === start) return how === 'strtol' ? 0 : null;
    const magnitude = BigInt(this.line.slice(start, this.position));
    if (how === 'strtol') {
      if (negative ? magnitude > LONG_MAX + 1n : magnitude > LONG_MAX) return null;
      return Number(BigInt.asIntN(32, negative ? -magnitude : magnitude));
    }
    if (magnitude > U64_MAX) return null;
    return Number(BigInt.asUintN(32, negative ? -magnitude : magnitude));
  }

  private skip(test: (char: string) => boolean): void {
    while (this.position < this.line.length && test(this.line[this.position] as string)) this.position += 1;
  }
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

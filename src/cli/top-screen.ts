/**
 * The terminal under the live `top`: the alternate screen (so quitting gives the shell back as it
 * was), keys read raw, and frames drawn with log-update, which rewrites only the lines that changed.
 */
import { createLogUpdate } from 'log-update';

export type Key = 'quit' | 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end';

/** Escape sequences as terminals send them in normal and in application cursor mode. */
const KEYS: readonly (readonly [string, Key])[] = [
  ['\u001b[A', 'up'],
  ['\u001bOA', 'up'],
  ['\u001b[B', 'down'],
  ['\u001bOB', 'down'],
  ['\u001b[5~', 'pageUp'],
  ['\u001b[6~', 'pageDown'],
  ['\u001b[H', 'home'],
  ['\u001bOH', 'home'],
  ['\u001b[1~', 'home'],
  ['\u001b[F', 'end'],
  ['\u001bOF', 'end'],
  ['\u001b[4~', 'end'],
  ['q', 'quit'],
  ['Q', 'quit'],
  // Ctrl-C: in raw mode it arrives as a byte, not as SIGINT.
  ['\u0003', 'quit'],
  ['k', 'up'],
  ['j', 'down'],
  [' ', 'pageDown'],
];

/** The keys in one chunk of input (a paste or a held key gives several); anything else is skipped. */
export function keysIn(chunk: string): Key[] {
  const keys: Key[] = [];
  let at = 0;
  while (at < chunk.length) {
    const match = KEYS.find(([sequence]) => chunk.startsWith(sequence, at));
    if (match === undefined) {
      // An unknown escape sequence is skipped whole, so its tail is not read as keys ("[C" of Right).
      const unknown = /^\u001b(\[[0-9;]*[~A-Za-z]|O[A-Za-z])?/.exec(chunk.slice(at));
      at += unknown?.[0].length || 1;
      continue;
    }
    keys.push(match[1]);
    at += match[0].length;
  }
  return keys;
}

const ALTERNATE_SCREEN = '\u001b[?1049h';
const MAIN_SCREEN = '\u001b[?1049l';
const CLEAR = '\u001b[2J\u001b[H';
const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';

export interface ScreenEvents {
  key(key: Key): void;
  resize(): void;
}

export class LiveScreen {
  private readonly out: NodeJS.WriteStream;
  private readonly input: NodeJS.ReadStream;
  // The cursor is hidden and shown here, on stdout, not by log-update (which would use stderr).
  private log: ReturnType<typeof createLogUpdate>;
  private events: ScreenEvents | null = null;

  constructor(out: NodeJS.WriteStream, input: NodeJS.ReadStream) {
    this.out = out;
    this.input = input;
    this.log = createLogUpdate(out, { showCursor: true });
  }

  open(events: ScreenEvents): void {
    this.events = events;
    this.out.write(ALTERNATE_SCREEN + HIDE_CURSOR + CLEAR);
    this.out.on('resize', this.onResize);
    if (this.input.isTTY === true) this.input.setRawMode(true);
    this.input.setEncoding('utf8');
    this.input.on('data', this.onData);
    this.input.resume();
  }

  /**
   * Room for a frame. One row less than the terminal's: log-update leaves the cursor on the line
   * after the frame, and a full-height frame would scroll its first line off.
   */
  size(): { width: number; height: number } {
    return { width: this.out.columns ?? 80, height: Math.max(0, (this.out.rows ?? 24) - 1) };
  }

  draw(lines: readonly string[]): void {
    this.log(lines.join('\n'));
  }

  /** Gives the terminal back as it was: idempotent, so every way out can call it. */
  close(): void {
    if (this.events === null) return;
    this.events = null;
    this.out.off('resize', this.onResize);
    this.input.off('data', this.onData);
    if (this.input.isTTY === true) this.input.setRawMode(false);
    this.input.pause();
    this.out.write(SHOW_CURSOR + MAIN_SCREEN);
  }

  private readonly onData = (chunk: string): void => {
    for (const key of keysIn(chunk)) this.events?.key(key);
  };

  /**
   * After a resize the terminal may have moved or cut the old lines, so log-update's idea of what
   * is on screen is wrong: clear it and start a fresh log-update, then draw again.
   */
  private readonly onResize = (): void => {
    this.out.write(CLEAR);
    this.log = createLogUpdate(this.out, { showCursor: true });
    this.events?.resize();
  };
}

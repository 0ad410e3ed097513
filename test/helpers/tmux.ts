/**
 * The `beanline` bin on a terminal: run under a tmux server of the test's own (its own socket),
 * driven with send-keys and read back with capture-pane, killed when the test ends. The pane is
 * polled with a deadline: there is no event for "the screen changed".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { BIN } from './cli.js';

/** The skip reason for a terminal test where tmux is missing (CI installs it and fails on any skip). */
export const NEEDS_TMUX: string | false = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).error === undefined ? false : 'needs tmux';

const SCREEN_MS = 5_000;

export interface Terminal {
  /** Runs a tmux command on the test's tmux server. */
  readonly tmux: (...command: string[]) => string;
  /** The file the bin's exit code is written to when it ends. */
  readonly status: string;
}

/** `beanline <args>` in a tmux session named `beanline` of `size`, $BEANSTALKD_URL unset. */
export function onTerminal(t: TestContext, args: readonly string[], size: { x: number; y: number }): Terminal {
  // A socket in a directory of the test's own: tmux leaves the socket file behind after kill-server.
  const directory = mkdtempSync(path.join(tmpdir(), 'beanline-tmux-'));
  const socket = path.join(directory, 'tmux');
  const tmux = (...command: string[]): string => execFileSync('tmux', ['-S', socket, ...command], { encoding: 'utf8', timeout: 5_000 });
  t.after(() => {
    spawnSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore', timeout: 5_000 });
    rmSync(directory, { recursive: true, force: true });
  });
  const line = [process.execPath, BIN, ...args].map((word) => `'${word}'`).join(' ');
  // The shell writes the exit code to a file (tmux 3.3 does not reliably report a dead pane's
  // status); remain-on-exit keeps the pane, set in the same tmux command, before the bin can end.
  const status = path.join(directory, 'status');
  const command = `env -u BEANSTALKD_URL ${line}; echo $? > '${status}'`;
  tmux('new-session', '-d', '-s', 'beanline', '-x', String(size.x), '-y', String(size.y), command, ';', 'set-option', '-t', 'beanline', 'remain-on-exit', 'on');
  return { tmux, status };
}

/** Reads the pane until `ready` holds for its lines, for at most `ms`. */
export async function screenUntil(terminal: Terminal, what: string, ready: (lines: string[]) => boolean, ms = SCREEN_MS): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const lines = terminal.tmux('capture-pane', '-p', '-t', 'beanline').split('\n');
    if (ready(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`the screen never showed ${what} within ${ms} ms:\n${lines.join('\n')}`);
    await sleep(50);
  }
}

/** The bin's exit code, once its shell has written it. */
export async function exitCode(terminal: Terminal): Promise<string> {
  await screenUntil(terminal, 'the command exited', () => existsSync(terminal.status) && readFileSync(terminal.status, 'utf8').endsWith('\n'));
  return readFileSync(terminal.status, 'utf8').trim();
}

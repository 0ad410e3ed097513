/**
 * The `beanline` bin run as a child process (the compiled dist/src/cli/main.js): its output, and the
 * one line and exit code of each failure. Every child is killed if it outlives its bound.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './harness.js';

export const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const CHILD_MS = 10_000;

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the bin with `args`; $BEANSTALKD_URL and $BEANLINE_DASHBOARD_TOKEN only as given. */
export function cli(args: readonly string[], options: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const env = { ...process.env, ...options.env };
  for (const name of ['BEANSTALKD_URL', 'BEANLINE_DASHBOARD_TOKEN']) if (options.env?.[name] === undefined) delete env[name];
  const timeout = options.timeoutMs ?? CHILD_MS;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout, killSignal: 'SIGKILL' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return within(done, timeout + 2_000, `beanline ${args.join(' ')}`);
}

/** The bin against `url`. */
export function on(url: string, ...args: string[]): Promise<Run> {
  return cli(['--url', url, ...args]);
}

/** Exit code `code`, nothing on stdout, and exactly `message` as the one stderr line (no stack trace). */
export function failed(run: Run, code: number, message: string | RegExp): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.ok(!run.stderr.includes('    at '), `no stack trace: ${run.stderr}`);
  if (typeof message === 'string') assert.equal(lines[0], message);
  else assert.match(lines[0] ?? '', message);
}

export function ok(run: Run): string[] {
  assert.equal(run.code, 0, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.stderr, '');
  return run.stdout.trimEnd().split('\n');
}


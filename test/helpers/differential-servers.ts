/**
 * The servers of the differential tests: a fresh beanstalkd (from a long-lived launcher shell) or
 * a fresh embedded server per sequence, each with its counters at zero.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer as startEmbedded } from '../../src/server/index.js';
import { freePort } from './server.js';

export type TargetKind = 'beanstalkd' | 'embedded';

export interface Target {
  readonly label: string;
  readonly port: number;
  drain(): void;
  stop(): Promise<void>;
}

export async function startTarget(kind: TargetKind, label: string, maxJobSize: number): Promise<Target> {
  if (kind === 'embedded') {
    const server = await startEmbedded({ maxJobSize });
    return { label, port: server.port, drain: () => server.drain(), stop: () => server.close() };
  }
  return startBeanstalkd(label, maxJobSize);
}

/**
 * Starts and stops beanstalkd processes for the runner. A fork of this (large) Node process costs
 * some 15 ms of CPU, a fork of a shell well under one, and a run starts thousands of servers: so
 * one long-lived `sh` starts them, on request, one line per server.
 */
class Launcher {
  private static current: Launcher | null = null;
  private readonly shell: ChildProcess;
  private readonly waiting: ((line: string) => void)[] = [];
  private buffered = '';
  private readonly live = new Set<number>();

  private constructor() {
    const script = [
      'pids=',
      'while read -r what a b; do',
      '  case "$what" in',
      '    start) beanstalkd -l 127.0.0.1 -p "$a" -z "$b" </dev/null >/dev/null 2>&1 & pids="$pids $!"; echo "$!";;',
      '    stop) kill -9 "$a" 2>/dev/null; wait "$a" 2>/dev/null; echo stopped;;',
      '  esac',
      'done',
      // This process is gone (its end of the pipe closed): so are the servers it started.
      'kill -9 $pids 2>/dev/null',
    ].join('\n');
    this.shell = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.shell.stdout?.setEncoding('latin1');
    this.shell.stdout?.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let newline = this.buffered.indexOf('\n'); newline !== -1; newline = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        this.waiting.shift()?.(line);
        if (this.waiting.length === 0) this.pipe?.unref();
      }
    });
    // Neither the shell nor its pipes keep a test process alive, unless an answer is awaited.
    this.shell.unref();
    this.pipe?.unref();
    (this.shell.stdin as unknown as net.Socket | null)?.unref();
    process.on('exit', () => {
      for (const pid of this.live) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      this.shell.kill('SIGKILL');
    });
  }

  static get(): Launcher {
    Launcher.current ??= new Launcher();
    return Launcher.current;
  }

  private get pipe(): net.Socket | null {
    return this.shell.stdout as unknown as net.Socket | null;
  }

  private request(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.pipe?.ref();
      this.shell.stdin?.write(`${line}\n`);
    });
  }

  /** A beanstalkd listening on 127.0.0.1:port, or null if it exited first (the port was taken). */
  async start(port: number, maxJobSize: number): Promise<number | null> {
    const pid = Number(await this.request(`start ${port} ${maxJobSize}`));
    this.live.add(pid);
    // beanstalkd makes its epoll instance after it listens: once that fd shows, it is ready.
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
      let links: string[];
      try {
        const fds = await readdir(`/proc/${pid}/fd`);
        links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
      } catch {
        links = [];
      }
      if (links.includes('anon_inode:[eventpoll]')) return pid;
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '0 (x) Z');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) break;
      await sleep(1);
    }
    await this.stop(pid);
    return null;
  }

  async stop(pid: number): Promise<void> {
    if (!this.live.delete(pid)) return;
    await this.request(`stop ${pid}`);
  }
}

/** A fresh beanstalkd on a free port of 127.0.0.1 whose counters start at zero (no readiness probe has connected). */
async function startBeanstalkd(label: string, maxJobSize: number): Promise<Target> {
  const launcher = Launcher.get();
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const port = await freePort();
    const pid = await launcher.start(port, maxJobSize);
    // Another process may have taken the port between the probe and the start: try another.
    if (pid === null) continue;
    return { label, port, drain: () => process.kill(pid, 'SIGUSR1'), stop: () => launcher.stop(pid) };
  }
  throw new Error('beanstalkd did not start (is it installed? apt-get install beanstalkd)');
}

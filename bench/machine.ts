/** What the numbers were measured on, for the report. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { ADAPTERS } from './adapters/index.js';

const require = createRequire(import.meta.url);

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'latin1')
      .split('\n')
      .find((entry) => entry.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function beanstalkdVersion(): string {
  try {
    return execFileSync('beanstalkd', ['-v'], { encoding: 'utf8' }).trim();
  } catch {
    return 'beanstalkd: not found on PATH';
  }
}

function peerVersions(): string {
  return ADAPTERS.filter((adapter) => adapter.npm !== null)
    .map((adapter) => `${adapter.npm}@${(require(`${adapter.npm}/package.json`) as { version: string }).version}`)
    .join(', ');
}

/** The commit checked out in `dir`, and whether its src/ had changes on top of it; null outside git. */
export function commitOf(dir: string): { commit: string; dirty: boolean } | null {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'src') !== '' };
  } catch {
    return null;
  }
}

function sourceVersion(dir: string): string {
  const version = commitOf(dir);
  if (version === null) return '(not a git checkout)';
  return `at commit ${version.commit}${version.dirty ? ' with uncommitted changes in src/' : ''}`;
}

/** With `--baseline DIR`, a line on where the baseline client came from. */
export function machineLines(baselineDir: string | null): string[] {
  const [load1, load5] = os.loadavg();
  return [
    `- beanline ${sourceVersion('.')}`,
    ...(baselineDir === null ? [] : [`- baseline: beanline ${sourceVersion(baselineDir)}, as built in ${baselineDir}/dist`]),
    `- CPU: ${cpuModel()}, ${os.availableParallelism()} cores (nproc), shared by the server, the client and anything else running`,
    `- Node ${process.version}; ${beanstalkdVersion()}; ${os.type()} ${os.release()}`,
    `- Peers: ${peerVersions()}`,
    `- Load average when the run started: ${load1?.toFixed(2)} (1 min), ${load5?.toFixed(2)} (5 min)`,
  ];
}

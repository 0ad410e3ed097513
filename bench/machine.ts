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

/** The commit measured, and whether src/ had changes on top of it. */
function sourceVersion(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== '';
    return `beanline at commit ${commit}${dirty ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return 'beanline (not a git checkout)';
  }
}

export function machineLines(): string[] {
  const [load1, load5] = os.loadavg();
  return [
    `- ${sourceVersion()}`,
    `- CPU: ${cpuModel()}, ${os.availableParallelism()} cores (nproc), shared by the server, the client and anything else running`,
    `- Node ${process.version}; ${beanstalkdVersion()}; ${os.type()} ${os.release()}`,
    `- Peers: ${peerVersions()}`,
    `- Load average when the run started: ${load1?.toFixed(2)} (1 min), ${load5?.toFixed(2)} (5 min)`,
  ];
}

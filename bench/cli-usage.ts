/**
 * Preloaded into the CLI of case (j) with `node --import`: as the process exits, it writes its own
 * CPU time and peak RSS to the file $BEANLINE_BENCH_USAGE_FILE names. The CLI is a grandchild of the
 * harness, and a process's rusage cannot be read from outside once it has been reaped.
 */
import { writeFileSync } from 'node:fs';

export const USAGE_FILE_ENV = 'BEANLINE_BENCH_USAGE_FILE';

export interface CliUsage {
  /** User + system CPU time over the whole life of the process, in µs. */
  cpuUs: number;
  maxRssKb: number;
}

const file = process.env[USAGE_FILE_ENV];
if (file !== undefined) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    const usage: CliUsage = { cpuUs: user + system, maxRssKb: process.resourceUsage().maxRSS };
    writeFileSync(file, JSON.stringify(usage));
  });
}

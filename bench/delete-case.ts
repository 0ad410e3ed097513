/**
 * Case (j) in the child: the built CLI as an operator runs it, `node dist/src/cli/main.js --url ...
 * jobs --tube T --state buried --delete --yes`, a process of its own timed from spawn to exit (so
 * Node's start-up counts, as it does for the operator). Its CPU time and peak RSS are its own,
 * reported by cli-usage.ts as it exits; the child only waits. It must exit 0 and say it deleted
 * every job; the parent then checks the tube is empty.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plan } from './cases.js';
import { USAGE_FILE_ENV, type CliUsage } from './cli-usage.js';
import type { Timing } from './task.js';

/** dist/, not dist-bench/: the build the package ships (`npx tsc -p tsconfig.json` makes it). */
const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const USAGE_HOOK = new URL('./cli-usage.js', import.meta.url).href;

export interface DeleteCaseResult {
  timing: Timing;
  maxRssKb: number;
  problems: string[];
}

export async function runDeleteCase(
  port: number,
  plan: Extract<Plan, { kind: 'bulk-delete' }>,
  timed: (work: () => Promise<unknown>) => Promise<Timing>,
): Promise<DeleteCaseResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: build it first (npx tsc -p tsconfig.json)`);
  const dir = mkdtempSync(join(tmpdir(), 'beanline-bench-'));
  const usageFile = join(dir, 'usage.json');
  const args = ['--import', USAGE_HOOK, CLI, '--url', `beanstalk://127.0.0.1:${port}`];
  args.push('jobs', '--tube', plan.tube, '--state', 'buried', '--delete', '--yes');
  try {
    let output = '';
    let exit: unknown = null;
    const timing = await timed(async () => {
      const cli = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [USAGE_FILE_ENV]: usageFile, NO_COLOR: '1' } });
      const collect = (chunk: Buffer): void => {
        output += chunk.toString();
      };
      cli.stdout.on('data', collect);
      cli.stderr.on('data', collect);
      // 'close', not 'exit': the output is read to its end.
      const [code, signal] = (await once(cli, 'close')) as [number | null, NodeJS.Signals | null];
      exit = code ?? signal;
    });
    // No usage file: the CLI died before its exit handlers could run (a signal, a crash at load).
    if (!existsSync(usageFile)) throw new Error(`the CLI exited with ${String(exit)} and reported no usage: ${output.trim().slice(0, 200)}`);
    const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as CliUsage;
    const said = `deleted ${plan.jobs} of ${plan.jobs} jobs`;
    const problems = [
      ...(exit === 0 ? [] : [`the CLI exited with ${String(exit)}`]),
      ...(output.trim() === said ? [] : [`the CLI said ${JSON.stringify(output.trim().slice(0, 200))}, expected ${JSON.stringify(said)}`]),
    ];
    return { timing: { ...timing, cpuUs: usage.cpuUs }, maxRssKb: usage.maxRssKb, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

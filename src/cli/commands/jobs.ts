/**
 * `beanline jobs`: lists jobs by scanning ids (beanstalkd has no listing command; see observe/scan.ts
 * for how the range is found), and with --delete, --kick or --move acts on every job listed: the count
 * first, then a confirmation on a terminal unless --yes, or only the count with --dry-run.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { bodyJson, bodySummary } from '../../observe/body.js';
import { bulkAction, type BulkAction, type BulkResult } from '../../observe/bulk.js';
import { checkFilter, JOB_STATES, type JobFilter } from '../../observe/filter.js';
import { scanJobs, type ScannedJob } from '../../observe/scan.js';
import type { JobState } from '../../protocol/stats.js';
import { checkTube } from '../../protocol/validate.js';
import { confirm } from '../confirm.js';
import { UsageError, print, wantsJson, wholeNumber, withServers, type ServerHandle } from '../context.js';
import { progressBar } from '../progress.js';

interface JobsFlags {
  tube?: string;
  state?: JobState;
  type?: string;
  grep?: string;
  limit?: string;
  delete?: boolean;
  kick?: boolean;
  move?: string;
  dryRun?: boolean;
  yes?: boolean;
}

const COLUMNS = [
  ['id', 9],
  ['tube', 20],
  ['state', 8],
  ['pri', 10],
  ['age', 8],
] as const;

export function register(program: Command): void {
  program
    .command('jobs')
    .description('lists jobs by scanning ids, newest first; with --delete, --kick or --move acts on every one listed')
    .option('--tube <tube>', 'only jobs of this tube')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--type <type>', 'only beanline jobs of this type')
    .option('--grep <text>', 'only jobs whose body or failure message contains the text')
    .option('--limit <n>', 'at most n jobs (on all servers together)')
    .option('--json', 'one JSON document per line: { server, id, stats, body }')
    .option('--delete', 'delete the jobs listed')
    .option('--kick', 'kick the jobs listed (buried or delayed) back to ready')
    .option('--move <tube>', 'copy each job listed into another tube (same priority and TTR), then delete the original')
    .option('--dry-run', 'with an action: only count the jobs it would change')
    .option('--yes', 'with an action: do not ask for confirmation')
    .addHelpText(
      'after',
      `
How it works: ids are handed out in order, so the scan asks about every id from the newest down
(pipelined stats-job, then peek for the jobs that pass the filter) and stops once it has seen as many
jobs as the server holds. Jobs put after the scan starts are not listed.

Examples:
  beanline jobs --state buried --type send-email
  beanline jobs --state buried --type send-email --kick --dry-run
  beanline jobs --tube emails --state buried --grep timeout --kick --yes
  beanline jobs --tube old --move new --yes
  beanline jobs --tube emails --delete --limit 1000 --yes`,
    )
    .action(async (flags: JobsFlags, command: Command) => {
      const action = chosenAction(flags);
      const filter = checkedFilter(flags);
      const limit = flags.limit === undefined ? undefined : wholeNumber('--limit', flags.limit, 1);
      if (action === null && (flags.dryRun === true || flags.yes === true)) throw new UsageError('--dry-run and --yes go with --delete, --kick or --move');
      if (action !== null && wantsJson(command)) throw new UsageError('--json lists jobs; it does not go with --delete, --kick or --move');
      await withServers(command, (servers) => (action === null ? list(servers, filter, limit, wantsJson(command)) : act(servers, filter, limit, action, flags)));
    });
}

function chosenAction(flags: JobsFlags): BulkAction | null {
  const chosen: BulkAction[] = [];
  if (flags.delete === true) chosen.push({ kind: 'delete' });
  if (flags.kick === true) chosen.push({ kind: 'kick' });
  if (flags.move !== undefined) chosen.push({ kind: 'move', tube: checkTube(flags.move, '--move') });
  if (chosen.length > 1) throw new UsageError('give one of --delete, --kick and --move');
  const action = chosen[0] ?? null;
  if (action?.kind === 'move' && flags.tube === action.tube) throw new UsageError('--move: the jobs are in that tube already');
  return action;
}

function checkedFilter(flags: JobsFlags): JobFilter {
  return checkFilter({ tube: flags.tube, state: flags.state, type: flags.type, grep: flags.grep });
}

/** A scan that stops on SIGINT (between batches), with a progress bar on a terminal. */
function interruptible(): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const onInterrupt = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nbeanline: stopping after the jobs in hand (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  return { signal: controller.signal, done: () => process.off('SIGINT', onInterrupt) };
}

async function list(servers: readonly ServerHandle[], filter: JobFilter, limit: number | undefined, json: boolean): Promise<void> {
  const several = servers.length > 1;
  if (!json) print(heading(several));
  const stop = interruptible();
  let left = limit ?? Infinity;
  let listed = 0;
  try {
    for (const { url, client } of servers) {
      if (left <= 0 || stop.signal.aborted) break;
      const bar = progressBar(several ? `scanning ${url}` : 'scanning');
      try {
        for await (const job of scanJobs(client, { filter, limit: left, signal: stop.signal, onProgress: (p) => bar.update(p.scanned, p.total) })) {
          bar.stop();
          listed += 1;
          left -= 1;
          if (json) process.stdout.write(`${JSON.stringify({ server: url, id: job.id, stats: job.stats, body: bodyJson(job.body) })}\n`);
          else print(row(job, several ? url : null));
        }
      } finally {
        bar.stop();
      }
    }
  } finally {
    stop.done();
  }
  if (!json && process.stderr.isTTY === true) process.stderr.write(`${listed} job${listed === 1 ? '' : 's'}${stop.signal.aborted ? ' (interrupted)' : ''}\n`);
  if (stop.signal.aborted) process.exitCode = 130;
}

function heading(several: boolean): string {
  return [...(several ? ['server'.padEnd(28)] : []), ...COLUMNS.map(([name, width]) => (name === 'tube' || name === 'state' ? name.padEnd(width) : name.padStart(width))), 'job'].join(' ');
}

function row(job: ScannedJob, server: string | null): string {
  const { stats } = job;
  const cells = [String(job.id).padStart(9), stats.tube.padEnd(20), stats.state.padEnd(8), String(stats.pri).padStart(10), `${stats.age}s`.padStart(8), bodySummary(job.body)];
  return [...(server === null ? [] : [server.padEnd(28)]), ...cells].join(' ');
}

const VERBS = { delete: ['delete', 'deleted'], kick: ['kick', 'kicked'], move: ['move', 'moved'] } as const;

async function act(servers: readonly ServerHandle[], filter: JobFilter, limit: number | undefined, action: BulkAction, flags: JobsFlags): Promise<void> {
  const [verb, past] = VERBS[action.kind];
  const where = action.kind === 'move' ? ` to tube ${action.tube}` : '';
  const stop = interruptible();
  try {
    // Count first: the operator sees how many before anything changes.
    const found: { server: ServerHandle; jobs: ScannedJob[] }[] = [];
    let left = limit ?? Infinity;
    for (const server of servers) {
      const jobs: ScannedJob[] = [];
      const bar = progressBar('counting');
      for await (const job of scanJobs(server.client, { filter, limit: left, signal: stop.signal, bodies: action.kind === 'move', onProgress: (p) => bar.update(p.scanned, p.total) })) jobs.push(job);
      bar.stop();
      left -= jobs.length;
      found.push({ server, jobs });
      if (left <= 0) break;
    }
    if (stop.signal.aborted) {
      process.exitCode = 130;
      return print('interrupted while counting: nothing changed');
    }
    const count = found.reduce((sum, { jobs }) => sum + jobs.length, 0);
    const what = `${count} job${count === 1 ? '' : 's'}`;
    if (flags.dryRun === true) return print(`dry run: would ${verb} ${what}${where}`);
    if (count === 0) return print(`no job matches: nothing to ${verb}`);
    if (flags.yes !== true && !(await confirm(`${verb} ${what}${where}?`))) return print('nothing changed');

    let total: BulkResult = { done: 0, skipped: 0 };
    const bar = progressBar(verb);
    for (const { server, jobs } of found) {
      if (stop.signal.aborted) break;
      const before = total;
      const result = await bulkAction(server.client, action, jobs, {
        filter,
        signal: stop.signal,
        onProgress: (so) => bar.update(before.done + before.skipped + so.done + so.skipped, count),
      });
      total = { done: total.done + result.done, skipped: total.skipped + result.skipped };
    }
    bar.stop();
    const skipped = total.skipped > 0 ? ` (${total.skipped} skipped: gone, reserved or changed since the count)` : '';
    const untouched = count - total.done - total.skipped;
    print(`${past} ${total.done} of ${what}${where}${skipped}${untouched > 0 ? `; interrupted, ${untouched} left as they were` : ''}`);
    if (stop.signal.aborted) process.exitCode = 130;
  } finally {
    stop.done();
  }
}

/** `beanline tubes`: every tube with its job counts, as a table (a server column for several servers). */
import type { Command } from 'commander';
import type { TubeStats } from '../../protocol/stats.js';
import { print, printJson, serverUrls, wantsJson, withServers } from '../context.js';
import { table } from '../table.js';

const HEADINGS = ['tube', 'ready', 'reserved', 'delayed', 'buried', 'urgent', 'waiting', 'paused', 'total'] as const;

/** One table row: counts, and the pause's seconds left (`-` when not paused). */
export function tubeRow(stats: TubeStats): string[] {
  return [
    stats.name,
    String(stats.currentJobsReady),
    String(stats.currentJobsReserved),
    String(stats.currentJobsDelayed),
    String(stats.currentJobsBuried),
    String(stats.currentJobsUrgent),
    String(stats.currentWaiting),
    stats.pauseTimeLeft > 0 ? `${stats.pauseTimeLeft}s` : '-',
    String(stats.totalJobs),
  ];
}

export function register(program: Command): void {
  program
    .command('tubes')
    .option('--json', 'one JSON document: an array of tube stats, each with its server')
    .description('every tube: ready, reserved, delayed, buried, urgent, waiting, paused (seconds left), total')
    .addHelpText('after', '\nExample:\n  beanline tubes --url beanstalk://a:11300,beanstalk://b:11300')
    .action(async (_options: object, command: Command) => {
      const tubes = await withServers(
        command,
        async (servers) => {
          const each = await Promise.all(
            servers.map(async ({ url, client }) => {
              const names = await client.listTubes();
              // A tube can vanish between the list and its stats (its last job deleted): leave it out.
              const stats = await Promise.all(names.map((name) => client.statsTube(name).catch(() => null)));
              return stats.filter((one): one is TubeStats => one !== null).map((one) => ({ server: url, ...one }));
            }),
          );
          return { several: serverUrls(command).length > 1, tubes: each.flat() };
        },
        { partial: true },
      );
      if (wantsJson(command)) return printJson(tubes.tubes);
      const rows = tubes.tubes.map((one) => (tubes.several ? [one.server, ...tubeRow(one)] : tubeRow(one)));
      print(tubes.several ? table(['server', ...HEADINGS], rows, 2) : table([...HEADINGS], rows));
    });
}

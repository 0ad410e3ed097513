/** `beanline tubes`: every tube with its job counts, as a table. */
import type { Command } from 'commander';
import type { TubeStats } from '../../protocol/stats.js';
import { print, withClient } from '../context.js';
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
    .description('every tube: ready, reserved, delayed, buried, urgent, waiting, paused (seconds left), total')
    .action(async (_options: object, command: Command) => {
      const rows = await withClient(command, async (client) => {
        const names = await client.listTubes();
        // A tube can vanish between the list and its stats (its last job deleted): leave it out.
        const stats = await Promise.all(names.map((name) => client.statsTube(name).catch(() => null)));
        return stats.filter((one): one is TubeStats => one !== null).map(tubeRow);
      });
      print(table([...HEADINGS], rows));
    });
}

/**
 * `beanline schedules`: the recurring schedules as the schedulers' records in beanstalkd tell them
 * (every `<lockTube>.ticks` tube, or the one of --lock-tube): each schedule's next tick, its last
 * tick and which scheduler enqueued it. The records are all there is to read: schedulers keep
 * their schedules in their code.
 */
import type { Command } from 'commander';
import { readSchedules } from '../../observe/schedules.js';
import { checkTube } from '../../protocol/validate.js';
import { CliFailure, print, printJson, wantsJson, withClient } from '../context.js';
import { table } from '../table.js';

interface Flags {
  lockTube?: string;
}

export function register(program: Command): void {
  program
    .command('schedules')
    .option('--lock-tube <tube>', "only the schedulers of this lockTube (default: every one recorded on the server)")
    .option('--json', 'one JSON document: an array of schedules')
    .description('recurring schedules: next tick, last tick and the scheduler that enqueued it')
    .addHelpText('after', '\nExample:\n  beanline schedules --lock-tube myapp.schedules')
    .action(async (flags: Flags, command: Command) => {
      const lockTube = flags.lockTube === undefined ? undefined : checkTube(flags.lockTube, '--lock-tube');
      const schedules = await withClient(command, (client) => readSchedules(client, lockTube));
      if (schedules.length === 0) {
        throw new CliFailure(lockTube === undefined ? 'no schedules recorded on this server (has a Scheduler run here?)' : `no schedules recorded for lockTube ${lockTube}`);
      }
      if (wantsJson(command)) return printJson(schedules);
      const several = new Set(schedules.map((schedule) => schedule.lockTube)).size > 1;
      const now = Date.now();
      print(
        table(
          ['schedule', 'type', 'cron', 'next tick', 'last tick', 'by', ...(several ? ['lock tube'] : [])],
          schedules.map((schedule) => [
            schedule.id,
            schedule.type ?? '?',
            schedule.cron === null ? '?' : `${schedule.cron} (${schedule.timezone ?? '?'})`,
            // A next tick in the past: no scheduler is leading (or it is stuck).
            schedule.next === null ? '-' : `${schedule.next}${Date.parse(schedule.next) < now - 1000 ? ' (overdue)' : ''}`,
            schedule.last?.tick ?? '-',
            schedule.last?.by ?? '-',
            ...(several ? [schedule.lockTube] : []),
          ]),
          7,
        ),
      );
    });
}

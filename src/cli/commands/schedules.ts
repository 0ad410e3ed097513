/**
 * `beanline schedules`: the recurring schedules as the record of last ticks in beanstalkd tells them
 * (the tube `<lock tube>.ticks`): each schedule's next tick, its last tick and which scheduler
 * enqueued it. The record is all there is to read: schedulers keep their schedules in their code.
 */
import type { Command } from 'commander';
import { DEFAULT_LOCK_TUBE, RECORD_SUFFIX } from '../../schedule/scheduler.js';
import { peekRecord } from '../../schedule/store.js';
import { checkTube } from '../../protocol/validate.js';
import { CliFailure, print, printJson, wantsJson, withClient } from '../context.js';
import { table } from '../table.js';

interface Flags {
  lockTube: string;
}

export function register(program: Command): void {
  program
    .command('schedules')
    .option('--lock-tube <tube>', "the schedulers' lockTube", DEFAULT_LOCK_TUBE)
    .option('--json', 'one JSON document: an array of schedules')
    .description('recurring schedules: next tick, last tick and the scheduler that enqueued it')
    .addHelpText('after', '\nExample:\n  beanline schedules --lock-tube myapp.schedules')
    .action(async (flags: Flags, command: Command) => {
      const tube = `${checkTube(flags.lockTube, '--lock-tube')}${RECORD_SUFFIX}`;
      const record = await withClient(command, async (client) => {
        if (!(await client.listTubes()).includes(tube)) return null;
        await client.use(tube);
        return peekRecord(client);
      });
      if (record === null) throw new CliFailure(`no schedules recorded in tube ${tube} (has a Scheduler with lockTube ${flags.lockTube} run on this server?)`);
      const now = Date.now();
      const rows = [...record.schedules].map(([id, entry]) => ({
        id,
        type: entry.plan?.type ?? null,
        cron: entry.plan?.cron ?? null,
        timezone: entry.plan?.timezone ?? null,
        misfire: entry.plan?.misfire ?? null,
        next: entry.plan?.next?.toISOString() ?? null,
        last: entry.last === null ? null : { tick: entry.last.tick.toISOString(), by: entry.last.by, at: entry.last.at.toISOString() },
        handled: entry.handled.toISOString(),
      }));
      if (wantsJson(command)) return printJson(rows);
      print(
        table(
          ['schedule', 'type', 'cron', 'next tick', 'last tick', 'by'],
          rows.map((row) => [
            row.id,
            row.type ?? '?',
            row.cron === null ? '?' : `${row.cron} (${row.timezone})`,
            // A next tick in the past: no scheduler is leading (or it is stuck).
            row.next === null ? '-' : `${row.next}${Date.parse(row.next) < now - 1000 ? ' (overdue)' : ''}`,
            row.last?.tick ?? '-',
            row.last?.by ?? '-',
          ]),
          6,
        ),
      );
    });
}

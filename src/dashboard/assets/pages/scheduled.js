// Scheduled (delayed) jobs, soonest first, and the recurring schedules with their next tick.
import { get } from '../api.js';
import { fill, h, table } from '../dom.js';
import { jobsTable } from '../jobs-table.js';

export async function draw(main, params) {
  const tube = params.get('tube') ?? '';
  const data = await get('scheduled', { tube });
  const several = new Set(data.schedules.map((schedule) => schedule.server)).size > 1;
  const severalLocks = new Set(data.schedules.map((schedule) => schedule.lockTube)).size > 1;
  fill(
    main,
    h('h1', {}, 'Scheduled jobs'),
    data.schedules.length === 0 ? null : [h('h2', {}, 'Recurring schedules'), schedulesTable(data.schedules, several, severalLocks)],
    h('h2', {}, 'Delayed jobs'),
    h('p', { class: 'muted' }, 'The soonest to become ready first.'),
    data.jobs.length === 0 ? h('p', { class: 'muted' }, 'No delayed jobs.') : jobsTable(data.jobs),
    data.more ? h('p', { class: 'muted' }, `Showing the first ${data.jobs.length}.`) : null,
  );
}

function when(iso) {
  return iso === null ? '' : new Date(iso).toLocaleString();
}

function schedulesTable(schedules, several, severalLocks) {
  return table(
    [['Schedule'], ['Cron'], ['Time zone'], ['Job type'], ['Next tick'], ['Last tick'], ['By'], ...(severalLocks ? [['Lock tube']] : []), ...(several ? [['Server']] : [])],
    schedules.map((schedule) =>
      h(
        'tr',
        { dataset: { schedule: schedule.id } },
        h('td', {}, schedule.id),
        h('td', { class: 'name' }, schedule.cron ?? ''),
        h('td', {}, schedule.timezone ?? ''),
        h('td', {}, schedule.type ?? ''),
        h('td', { dataset: { field: 'next' } }, when(schedule.next)),
        h('td', {}, when(schedule.lastTick)),
        h('td', {}, schedule.lastBy ?? ''),
        severalLocks ? h('td', { class: 'name' }, schedule.lockTube) : null,
        several ? h('td', {}, schedule.server) : null,
      ),
    ),
    { class: 'schedules' },
  );
}

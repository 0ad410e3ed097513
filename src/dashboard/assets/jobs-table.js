// A table of jobs (from a scan): id, tube, state, type, what it is, its error; each links to its page.
import { duration, h, link, table } from './dom.js';

export function jobsTable(jobs, { showTube = true } = {}) {
  return table(
    [['Id', 'num'], ...(showTube ? [['Tube']] : []), ['State'], ['Type'], ['Body'], ['Error'], ['Priority', 'num'], ['Age', 'num'], ['Time left', 'num']],
    jobs.map((job) =>
      h(
        'tr',
        { dataset: { job: `${job.server}:${job.id}` } },
        h('td', { class: 'num' }, link('job', { server: job.server, id: job.id }, String(job.id))),
        showTube ? h('td', {}, link('tube', { name: job.tube }, job.tube)) : null,
        h('td', {}, job.state),
        h('td', {}, job.type ?? ''),
        h('td', { class: 'body' }, job.summary),
        h('td', { class: 'error' }, job.error ?? ''),
        h('td', { class: 'num' }, String(job.pri)),
        h('td', { class: 'num' }, duration(job.age)),
        h('td', { class: 'num' }, job.state === 'delayed' || job.state === 'reserved' ? duration(job.timeLeft) : ''),
      ),
    ),
    { class: 'jobs' },
  );
}

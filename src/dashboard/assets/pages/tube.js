// One tube: its counts on each server, the next ready, delayed and buried job, pause, resume and
// kick, and its jobs from a scan, filtered by state, type and text, a page at a time.
import { get, post, readOnly } from '../api.js';
import { duration, fields, fill, h, link, number } from '../dom.js';
import { jobsTable } from '../jobs-table.js';
import { actionButton, errorBox } from '../ui.js';

export async function draw(main, params) {
  const name = params.get('name') ?? '';
  const data = await get('tube', { name });
  const servers = data.servers;
  const sum = (key) => servers.reduce((total, server) => total + server.stats[key], 0);
  const paused = Math.max(...servers.map((server) => server.stats.pauseTimeLeft));
  fill(
    main,
    h('div', { class: 'title' }, h('h1', {}, 'Tube ', h('span', { class: 'name' }, name)), paused > 0 ? h('span', { class: 'badge' }, `paused, ${duration(paused)} left`) : null),
    fields([
      ['Ready', number(sum('currentJobsReady'))],
      ['Reserved', number(sum('currentJobsReserved'))],
      ['Delayed', number(sum('currentJobsDelayed'))],
      ['Buried', number(sum('currentJobsBuried'))],
      ['Urgent', number(sum('currentJobsUrgent'))],
      ['Waiting workers', number(sum('currentWaiting'))],
      ['Jobs ever put', number(sum('totalJobs'))],
    ]),
    readOnly ? null : actions(name),
    h('h2', {}, 'Next jobs'),
    servers.map((server) =>
      h(
        'section',
        { class: 'next' },
        servers.length > 1 ? h('h3', {}, server.url) : null,
        fields(['ready', 'delayed', 'buried'].map((state) => [`Next ${state}`, nextJob(server.server, server.next[state])])),
      ),
    ),
    h('h2', {}, 'Jobs'),
    jobList(name),
  );
}

function nextJob(server, job) {
  if (job === null) return h('span', { class: 'muted' }, 'none');
  return h('span', {}, link('job', { server, id: job.id }, `#${job.id}`), ' ', h('span', { class: 'body' }, job.summary));
}

function actions(name) {
  const seconds = h('input', { type: 'number', min: 1, value: 60, 'aria-label': 'Pause for seconds', class: 'short' });
  const count = h('input', { type: 'number', min: 1, value: 10, 'aria-label': 'Jobs to kick', class: 'short' });
  return h(
    'div',
    { class: 'actions' },
    h(
      'span',
      { class: 'group' },
      actionButton('Pause', () => `Pause tube ${name} for ${seconds.value} seconds? No job of it will be reserved meanwhile.`, async () => {
        await post('tube/pause', { tube: name, seconds: Number(seconds.value) });
        return `Paused ${name} for ${seconds.value} seconds`;
      }, { 'data-action': 'pause' }),
      seconds,
      h('span', {}, 's'),
    ),
    actionButton('Resume', `Resume tube ${name}?`, async () => {
      await post('tube/pause', { tube: name, seconds: 0 });
      return `Resumed ${name}`;
    }, { 'data-action': 'resume' }),
    h(
      'span',
      { class: 'group' },
      actionButton('Kick', () => `Kick up to ${count.value} jobs of ${name} (buried ones, or delayed ones when none is buried) back to ready?`, async () => {
        const done = await post('tube/kick', { tube: name, count: Number(count.value) });
        return `Kicked ${done.kicked} job${done.kicked === 1 ? '' : 's'}`;
      }, { 'data-action': 'kick' }),
      count,
    ),
  );
}

/** The tube's jobs, newest first, through the same scan as `beanline jobs`. */
function jobList(tube) {
  const state = h('select', { 'aria-label': 'State' }, ['', 'ready', 'delayed', 'reserved', 'buried'].map((value) => h('option', { value }, value === '' ? 'any state' : value)));
  const type = h('input', { type: 'text', placeholder: 'type', 'aria-label': 'Job type' });
  const grep = h('input', { type: 'search', placeholder: 'text in the body', 'aria-label': 'Text in the body' });
  const results = h('div', { class: 'results' });
  let page = 0;
  const load = async () => {
    fill(results, h('p', { class: 'muted' }, 'Scanning…'));
    try {
      const data = await get('jobs', { tube, state: state.value, type: type.value, grep: grep.value, page });
      const previous = h('button', { type: 'button', disabled: page === 0 }, 'Newer');
      const next = h('button', { type: 'button', disabled: !data.more }, 'Older');
      previous.addEventListener('click', () => { page -= 1; void load(); });
      next.addEventListener('click', () => { page += 1; void load(); });
      fill(
        results,
        data.jobs.length === 0 ? h('p', { class: 'muted' }, 'No job matches.') : jobsTable(data.jobs, { showTube: false }),
        h('div', { class: 'pager' }, previous, h('span', {}, `page ${page + 1}`), next),
      );
    } catch (error) {
      fill(results, errorBox(error));
    }
  };
  const form = h('form', { class: 'filter' }, state, type, grep, h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    page = 0;
    void load();
  });
  void load();
  return h('div', {}, form, results);
}

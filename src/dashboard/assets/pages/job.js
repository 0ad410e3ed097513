// One job: its stats, its envelope as readable fields (type, args, custom, schedule, failure with
// backtrace), its raw body as text or hex, and delete, kick and bury.
import { get, post, readOnly } from '../api.js';
import { duration, fields, fill, h, link, number } from '../dom.js';
import { actionButton, notify } from '../ui.js';

export async function draw(main, params) {
  const server = params.get('server') ?? '0';
  const id = params.get('id') ?? '';
  const job = await get('job', { server, id });
  const { stats, body } = job;
  fill(
    main,
    h('div', { class: 'title' }, h('h1', {}, `Job ${job.id}`), h('span', { class: `badge state-${stats.state}` }, stats.state)),
    fields([
      ['Tube', link('tube', { name: stats.tube }, stats.tube)],
      ['Server', job.url],
      ['Priority', String(stats.pri)],
      ['Age', duration(stats.age)],
      ['Delay', duration(stats.delay)],
      ['TTR', duration(stats.ttr)],
      ['Time left', stats.state === 'delayed' || stats.state === 'reserved' ? duration(stats.timeLeft) : undefined],
      ['Reserves', number(stats.reserves)],
      ['Timeouts', number(stats.timeouts)],
      ['Releases', number(stats.releases)],
      ['Buries', number(stats.buries)],
      ['Kicks', number(stats.kicks)],
    ]),
    readOnly ? null : actions(job, () => draw(main, params)),
    body.envelope === null ? null : envelope(body.envelope),
    rawBody(job),
  );
}

/** The job's actions; after a kick or a bury the page is drawn again with the job's new state. */
function actions(job, redraw) {
  const { id, server, stats } = job;
  const done = (message) => {
    redraw().catch((error) => notify(error.message, 'error'));
    return message;
  };
  return h(
    'div',
    { class: 'actions' },
    actionButton('Delete', `Delete job ${id} of ${stats.tube}? This cannot be undone.`, async () => {
      await post('job/delete', { server, id });
      document.querySelector('.actions')?.remove();
      return `Deleted job ${id}`;
    }, { class: 'danger', 'data-action': 'delete' }),
    stats.state === 'buried' || stats.state === 'delayed'
      ? actionButton('Kick', `Kick job ${id} back to ready?`, async () => {
          await post('job/kick', { server, id });
          return done(`Kicked job ${id}`);
        }, { 'data-action': 'kick' })
      : null,
    stats.state === 'ready' || stats.state === 'delayed'
      ? actionButton('Bury', `Bury job ${id}? It stays buried until kicked.`, async () => {
          await post('job/bury', { server, id });
          return done(`Buried job ${id}`);
        }, { 'data-action': 'bury' })
      : null,
  );
}

function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

function envelope(envelope) {
  const failure = envelope.failure;
  return h(
    'section',
    { class: 'envelope' },
    h('h2', {}, 'Job'),
    fields([
      ['Type', envelope.type],
      ['Job id (jid)', envelope.jid],
      ['Args', json(envelope.args)],
      ['Custom', Object.keys(envelope.custom ?? {}).length > 0 ? json(envelope.custom) : undefined],
      ['Schedule', envelope.schedule === undefined ? undefined : `${envelope.schedule.id}, tick ${envelope.schedule.tick}`],
      ['Scheduled at', envelope.at],
      ['Created', envelope.createdAt],
      ['Enqueued', envelope.enqueuedAt],
      ['Retries allowed', String(envelope.retry)],
    ]),
    failure === undefined
      ? null
      : h(
          'section',
          { class: 'failure' },
          h('h3', {}, 'Last failure'),
          fields([
            ['Message', h('span', { class: 'error', 'data-field': 'failure-message' }, String(failure.message))],
            ['Error type', String(failure.errorType)],
            ['Failed runs', String(failure.retryCount)],
            ['Failed at', String(failure.failedAt)],
          ]),
          Array.isArray(failure.backtrace) && failure.backtrace.length > 0 ? h('pre', { class: 'backtrace' }, failure.backtrace.map(String).join('\n')) : null,
        ),
  );
}

function rawBody(job) {
  const { body, server, id } = job;
  const pre = h('pre', { class: 'raw', 'data-field': 'body' });
  const asText = h('button', { type: 'button', 'aria-pressed': 'true' }, 'Text');
  const asHex = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Hex');
  const show = (hex) => {
    pre.textContent = hex ? body.hex.join('\n') : body.text;
    asText.setAttribute('aria-pressed', String(!hex));
    asHex.setAttribute('aria-pressed', String(hex));
  };
  asText.addEventListener('click', () => show(false));
  asHex.addEventListener('click', () => show(true));
  show(body.kind === 'binary');
  const download = link('api/job/body', { server, id }, 'download the whole body');
  return h(
    'section',
    {},
    h('div', { class: 'title' }, h('h2', {}, `Body, ${number(body.bytes)} bytes`), h('span', { class: 'toggle' }, asText, asHex)),
    pre,
    body.cutBytes > 0 ? h('p', { class: 'muted' }, `${number(body.cutBytes)} more bytes not shown: `, download) : h('p', {}, download),
  );
}

// Dead (buried) jobs, grouped by type and error message, with retry and delete for a group or for
// a filter: the count comes first (a dry run), then a confirmation naming it, then the action.
import { get, post, readOnly } from '../api.js';
import { fill, h, link, number, table } from '../dom.js';
import { actionButton, errorBox } from '../ui.js';

export async function draw(main, params) {
  const tube = h('input', { type: 'text', placeholder: 'tube', 'aria-label': 'Tube', value: params.get('tube') ?? '' });
  const type = h('input', { type: 'text', placeholder: 'type', 'aria-label': 'Job type', value: params.get('type') ?? '' });
  const grep = h('input', { type: 'search', placeholder: 'text in the body or error', 'aria-label': 'Text in the body or error', value: params.get('grep') ?? '' });
  const groups = h('div', {}, h('p', { class: 'muted' }, 'Scanning…'));
  const filter = () => ({ tube: tube.value.trim(), type: type.value.trim(), grep: grep.value });
  const form = h('form', { class: 'filter', role: 'search' }, tube, type, grep, h('button', { type: 'submit' }, 'Filter'));
  const load = async () => {
    try {
      const data = await get('dead', filter());
      drawGroups(groups, data, filter(), load);
    } catch (error) {
      fill(groups, errorBox(error));
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = new URLSearchParams(Object.entries(filter()).filter(([, value]) => value !== ''));
    history.replaceState(null, '', query.toString() === '' ? 'dead' : `dead?${query}`);
    void load();
  });
  fill(
    main,
    h('h1', {}, 'Dead jobs'),
    h('p', { class: 'muted' }, 'Buried jobs, grouped by job type and last error. Retry kicks them back to ready.'),
    form,
    readOnly ? null : h('div', { class: 'actions', 'aria-label': 'Act on every dead job matching the filter' }, bulkButtons('matching the filter', () => filter(), load)),
    groups,
  );
  await load();
}

function describe(selection) {
  const parts = [];
  if (selection.group) {
    parts.push(selection.type === null ? 'that are not beanline jobs' : `of type ${selection.type}`);
    parts.push(selection.error === null ? 'with no error' : `with error "${selection.error}"`);
  }
  if (selection.tube) parts.push(`in tube ${selection.tube}`);
  if (!selection.group && selection.type) parts.push(`of type ${selection.type}`);
  if (selection.grep) parts.push(`containing "${selection.grep}"`);
  return parts.join(' ');
}

/** Retry and delete buttons for a selection: each asks the server for the count first. */
function bulkButtons(label, selection, reload) {
  const make = (verb, path, cls) =>
    actionButton(
      `${verb} ${label === 'group' ? 'group' : 'all ' + label}`,
      async () => {
        const chosen = selection();
        const { matched } = await post(path, { ...chosen, dryRun: true });
        if (matched === 0) {
          alertNone();
          return null;
        }
        return `${verb} ${number(matched)} dead job${matched === 1 ? '' : 's'} ${describe(chosen)}?`.replace(/\s+\?$/, '?');
      },
      async () => {
        const done = await post(path, { ...selection(), dryRun: false });
        void reload();
        return `${verb === 'Retry' ? 'Retried' : 'Deleted'} ${number(done.done)} job${done.done === 1 ? '' : 's'}${done.skipped > 0 ? `, ${number(done.skipped)} skipped (gone or changed since)` : ''}`;
      },
      { class: cls, 'data-action': `${verb.toLowerCase()}-${label === 'group' ? 'group' : 'filter'}` },
    );
  return [make('Retry', 'dead/retry', ''), make('Delete', 'dead/delete', 'danger')];
}

function alertNone() {
  const toast = document.getElementById('toast');
  fill(toast, h('p', {}, 'No dead job matches.'));
}

function drawGroups(section, data, filter, reload) {
  if (data.groups.length === 0) {
    fill(section, h('p', { class: 'muted' }, 'No dead jobs.'));
    return;
  }
  const rows = data.groups.map((group) =>
    h(
      'tr',
      { dataset: { group: JSON.stringify([group.type, group.error]) } },
      h('td', { class: 'num' }, number(group.count)),
      h('td', {}, group.type ?? h('span', { class: 'muted' }, 'not a beanline job')),
      h('td', { class: 'error' }, group.error ?? ''),
      h('td', {}, group.tubes.map((name, i) => [i > 0 ? ', ' : '', link('tube', { name }, name)])),
      h('td', {}, group.samples.map((job, i) => [i > 0 ? ' ' : '', link('job', { server: job.server, id: job.id }, `#${job.id}`)])),
      readOnly ? null : h('td', {}, h('div', { class: 'actions tight' }, bulkButtons('group', () => ({ ...filter, group: true, type: group.type, error: group.error }), reload))),
    ),
  );
  fill(
    section,
    h('p', {}, `${number(data.total)} dead job${data.total === 1 ? '' : 's'}${data.more ? ' (the first ones scanned; there are more)' : ''} in ${data.groups.length} group${data.groups.length === 1 ? '' : 's'}`),
    table([['Jobs', 'num'], ['Type'], ['Error'], ['Tubes'], ['Some of them'], ...(readOnly ? [] : [['']])], rows, { class: 'groups' }),
  );
}

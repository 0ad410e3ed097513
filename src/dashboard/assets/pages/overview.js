// The overview: each server's numbers, live charts, and every tube's counts, updated by
// server-sent events once a second without reloading.
import { get } from '../api.js';
import { LiveChart } from '../chart.js';
import { duration, fill, h, link, number, table } from '../dom.js';
import { errorBox } from '../ui.js';

const TUBE_COLUMNS = [
  ['Tube'],
  ['Ready', 'num'],
  ['Reserved', 'num'],
  ['Delayed', 'num'],
  ['Buried', 'num'],
  ['Urgent', 'num'],
  ['Waiting', 'num'],
  ['Paused', 'num'],
  ['Total', 'num'],
  ['Puts/s', 'num'],
  ['Deletes/s', 'num'],
];
const TUBE_FIELDS = ['ready', 'reserved', 'delayed', 'buried', 'urgent', 'waiting', 'pausedSecondsLeft', 'total', 'putsPerSecond', 'deletesPerSecond'];
/** Tubes with a line of their own in the per-tube charts. */
const CHARTED_TUBES = 5;
const RECHART = 30;
/** Rows drawn at most, busiest first: beyond that the filter finds a tube (the browser stays quick with thousands). */
const SHOWN_TUBES = 200;

export async function draw(main) {
  const status = h('span', { class: 'live', 'aria-live': 'polite' }, 'connecting…');
  const servers = h('section', { 'aria-label': 'Servers' });
  const filter = h('input', { type: 'search', placeholder: 'Filter tubes', 'aria-label': 'Filter tubes by name' });
  const tbody = h('tbody');
  const tubes = h('div', { class: 'scroll' }, h('table', { class: 'tubes' }, h('thead', {}, h('tr', {}, TUBE_COLUMNS.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))), tbody));
  const count = h('span', { class: 'muted' });
  const serverChart = new LiveChart('All servers: jobs per second');
  const putsChart = new LiveChart('Puts per second, busiest tubes');
  const deletesChart = new LiveChart('Deletes per second, busiest tubes');
  fill(
    main,
    h('div', { class: 'title' }, h('h1', {}, 'Overview'), status),
    servers,
    h('div', { class: 'charts' }, serverChart.element, putsChart.element, deletesChart.element),
    h('div', { class: 'title' }, h('h2', {}, 'Tubes'), count, filter),
    tubes,
  );

  const rows = new Map();
  const activity = new Map();
  let seeded = false;
  let last = null;
  const render = (view) => {
    last = view;
    drawServers(servers, view.servers);
    showTubes();
  };
  const showTubes = () => {
    const { shown, matched } = drawTubes(tbody, rows, last.tubes, filter.value);
    const total = `${number(last.tubes.length)} tube${last.tubes.length === 1 ? '' : 's'}`;
    count.textContent = shown < matched ? `${total}, the ${shown} busiest${filter.value === '' ? '' : ' matching'} shown` : total;
  };
  filter.addEventListener('input', () => last !== null && showTubes());

  // The first event carries each tube's puts/s of the last minutes: the puts chart starts from it
  // rather than empty (the server keeps no such history of reserves and deletes).
  const seed = (view) => {
    const length = Math.max(0, ...view.tubes.map((tube) => tube.history.length));
    for (const tube of view.tubes) activity.set(tube.name, tube.history.reduce((sum, value) => sum + value, 0));
    const charted = busiest(view);
    for (let i = 0; i < length - 1; i += 1) {
      const at = view.at - (length - 1 - i) * 1000;
      putsChart.add(at, Object.fromEntries(charted.map((tube) => [tube.name, tube.history[i - (length - tube.history.length)] ?? null])));
    }
  };
  // The charted tubes are chosen again every RECHART samples, not every second: a new set of lines
  // redraws a chart from scratch, and with many tubes of like activity the top five keep changing.
  let charted = [];
  let sinceChosen = Infinity;
  const busiest = (view) => {
    const present = new Map(view.tubes.map((tube) => [tube.name, tube]));
    sinceChosen += 1;
    if (sinceChosen >= RECHART || charted.some((name) => !present.has(name)) || charted.length < CHARTED_TUBES) {
      sinceChosen = 0;
      charted = [...activity.entries()]
        .filter(([name, total]) => total > 0 && present.has(name))
        .sort((a, b) => b[1] - a[1])
        .slice(0, CHARTED_TUBES)
        .map(([name]) => name);
    }
    return charted.map((name) => present.get(name));
  };
  const chart = (view) => {
    const sum = (key) => view.servers.reduce((total, server) => total + server[key], 0);
    serverChart.add(view.at, { 'puts/s': sum('putsPerSecond'), 'reserves/s': sum('reservesPerSecond'), 'deletes/s': sum('deletesPerSecond') });
    for (const tube of view.tubes) activity.set(tube.name, (activity.get(tube.name) ?? 0) + tube.putsPerSecond + tube.deletesPerSecond);
    const charted = busiest(view);
    putsChart.add(view.at, Object.fromEntries(charted.map((tube) => [tube.name, tube.putsPerSecond])));
    deletesChart.add(view.at, Object.fromEntries(charted.map((tube) => [tube.name, tube.deletesPerSecond])));
  };

  try {
    render(await get('overview'));
  } catch (error) {
    servers.replaceChildren(errorBox(error));
  }
  const events = new EventSource('api/events');
  events.addEventListener('open', () => (status.textContent = 'live'));
  events.addEventListener('error', () => (status.textContent = 'reconnecting…'));
  events.addEventListener('failure', (event) => (status.textContent = `not updating: ${JSON.parse(event.data).error}`));
  events.addEventListener('message', (event) => {
    const view = JSON.parse(event.data);
    // Charts first: drawing them reads the layout, which is cheap before the table changes and a
    // forced relayout of the whole table after.
    if (!seeded && view.tubes.some((tube) => Array.isArray(tube.history))) seed(view);
    seeded = true;
    chart(view);
    status.textContent = 'live';
    render(view);
  });
}

function drawServers(section, servers) {
  const rows = servers.map((server) =>
    h(
      'tr',
      { dataset: { server: server.url } },
      h('td', {}, server.url),
      server.up
        ? [
            h('td', {}, `up, ${server.stats.version}`),
            h('td', { class: 'num' }, duration(server.stats.uptime)),
            h('td', { class: 'num' }, number(server.connections)),
            h('td', { class: 'num' }, number(server.producers)),
            h('td', { class: 'num' }, number(server.workers)),
            h('td', { class: 'num' }, number(server.waiting)),
            h('td', { class: 'num' }, number(server.putsPerSecond)),
            h('td', { class: 'num' }, number(server.reservesPerSecond)),
            h('td', { class: 'num' }, number(server.deletesPerSecond)),
          ]
        : h('td', { colspan: 9, class: 'error' }, `down: ${server.error ?? ''}`),
    ),
  );
  fill(
    section,
    table(
      [['Server'], ['State'], ['Uptime', 'num'], ['Connections', 'num'], ['Producers', 'num'], ['Workers', 'num'], ['Waiting', 'num'], ['Puts/s', 'num'], ['Reserves/s', 'num'], ['Deletes/s', 'num']],
      rows,
      { class: 'servers' },
    ),
  );
}

/**
 * Updates the rows in place (a row per tube, kept across updates, a cell touched only when its
 * text changed) so a second's update stays cheap; returns how many rows are shown of how many match.
 */
function drawTubes(tbody, rows, tubes, filter) {
  const wanted = filter.trim().toLowerCase();
  const seen = new Set();
  const ordered = [];
  let matched = 0;
  for (const tube of tubes) {
    if (wanted !== '' && !tube.name.toLowerCase().includes(wanted)) continue;
    matched += 1;
    if (ordered.length >= SHOWN_TUBES) continue;
    seen.add(tube.name);
    let row = rows.get(tube.name);
    if (row === undefined) {
      row = h(
        'tr',
        { dataset: { tube: tube.name } },
        h('td', {}, link('tube', { name: tube.name }, tube.name)),
        TUBE_FIELDS.map((field) => h('td', { class: 'num', dataset: { field } })),
      );
      rows.set(tube.name, row);
    }
    TUBE_FIELDS.forEach((field, i) => {
      const cell = row.cells[i + 1];
      const value = tube[field];
      const shown = field === 'pausedSecondsLeft' ? (value > 0 ? duration(value) : '') : number(value);
      if (cell.textContent !== shown) cell.textContent = shown;
    });
    row.classList.toggle('paused', tube.pausedSecondsLeft > 0);
    ordered.push(row);
  }
  for (const name of rows.keys()) if (!seen.has(name)) rows.delete(name);
  // Only touch the DOM order when it changed.
  const current = [...tbody.rows];
  if (current.length !== ordered.length || current.some((row, i) => row !== ordered[i])) tbody.replaceChildren(...ordered);
  return { shown: ordered.length, matched };
}

// Building the page: every piece of data goes in as a text node or an attribute value, never as
// HTML, so a job body, tube name or error message can only ever show as the characters it holds.

/**
 * h('a', { href: 'job?id=1', class: 'x', on: { click: fn } }, 'text', node, [more]) -> element.
 * Strings among the children become text nodes; null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [event, listener] of Object.entries(value)) element.addEventListener(event, listener);
    } else if (key === 'class') {
      element.className = value;
    } else if (key === 'dataset') {
      for (const [name, data] of Object.entries(value)) element.dataset[name] = String(data);
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'hidden') {
      element[key] = value;
    } else {
      element.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.append(child);
    else element.append(document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `element` with `children`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A table: `columns` are [label, className?]; `rows` are arrays of cells (strings or nodes). */
export function table(columns, rows, props = {}) {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      props,
      h('thead', {}, h('tr', {}, columns.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))),
      h('tbody', {}, rows),
    ),
  );
}

/** A definition list of [label, value] pairs. */
export function fields(pairs) {
  return h(
    'dl',
    { class: 'fields' },
    pairs.filter(([, value]) => value !== undefined).map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]),
  );
}

/** A link to a page of the dashboard with a query. */
export function link(page, params, ...children) {
  const query = new URLSearchParams(params).toString();
  return h('a', { href: query === '' ? page : `${page}?${query}` }, ...children);
}

// Made once: toLocaleString builds a formatter on every call, which shows with 1,000 tubes a second.
const WHOLE = new Intl.NumberFormat('en-US');
const TENTHS = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function number(value) {
  return Number.isInteger(value) ? WHOLE.format(value) : TENTHS.format(value);
}

export function duration(seconds) {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

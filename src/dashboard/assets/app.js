// The one script of every page: finds which page the path names and draws it.
import { readOnly } from './api.js';
import { errorBox } from './ui.js';
import { fill, h } from './dom.js';

const pages = {
  '': () => import('./pages/overview.js'),
  tube: () => import('./pages/tube.js'),
  job: () => import('./pages/job.js'),
  dead: () => import('./pages/dead.js'),
  scheduled: () => import('./pages/scheduled.js'),
};

const name = location.pathname.slice(location.pathname.lastIndexOf('/') + 1);
const main = document.getElementById('main');
document.querySelector(`nav a[data-page="${name === '' ? 'overview' : name}"]`)?.setAttribute('aria-current', 'page');
if (readOnly) fill(document.getElementById('mode'), h('span', { class: 'badge' }, 'read-only'));

try {
  const page = await (Object.hasOwn(pages, name) ? pages[name] : pages[''])();
  await page.draw(main, new URLSearchParams(location.search));
} catch (error) {
  fill(main, errorBox(error));
}

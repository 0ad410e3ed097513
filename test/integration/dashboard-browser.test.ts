/**
 * The dashboard in a real browser (Debian's headless Chromium through playwright-core): the live
 * overview, the actions an operator takes and what the server then holds, hostile job bodies and
 * error messages drawn as text with nothing run, a page of another origin unable to change
 * anything, read-only and auth. Every wait is for something the page shows, bounded by the
 * context's timeout. One browser serves the file (closed when its tests end); each test has its own
 * browser context, server and dashboard, closed when it ends.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import type { Client } from '../../src/index.js';
import { encodeEnvelope } from '../../src/jobs/envelope.js';
import { browserForFile, NEEDS_CHROMIUM, openPage, type WatchedPage } from '../helpers/browser.js';
import { buried, deadJob, envelope, serveDashboard, type Served } from '../helpers/dashboard.js';
import { connectFor, ownServer } from '../helpers/harness.js';
import { listenLocally, uniqueTube } from '../helpers/server.js';
import type { DashboardOptions } from '../../src/dashboard/index.js';

const fileBrowser = browserForFile();

interface Setup {
  readonly served: Served;
  readonly client: Client;
  readonly tube: string;
  readonly watched: WatchedPage;
  readonly page: Page;
}

async function setUp(t: TestContext, options: DashboardOptions = {}, pageOptions: Parameters<typeof openPage>[2] = {}): Promise<Setup> {
  const server = await ownServer(t);
  const served = await serveDashboard(t, { servers: [server.url], ...options });
  const client = await connectFor(t, server.url);
  const watched = await openPage(t, await fileBrowser(), pageOptions);
  return { served, client, tube: uniqueTube('web'), watched, page: watched.page };
}

/** Nothing ran that should not have: no dialog, no page error, nothing fetched off 127.0.0.1. */
function clean(watched: WatchedPage): void {
  assert.deepEqual(watched.dialogs, [], 'no dialog opened');
  assert.deepEqual(watched.offsite, [], 'nothing was fetched from outside 127.0.0.1');
  assert.deepEqual(
    watched.errors.filter((error) => !/status of 40[0-9]/.test(error)),
    [],
    'no script error',
  );
}

/** Clicks an action button, then the confirmation dialog's confirm button; resolves when the note shows `done`. */
async function act(page: Page, action: string, done: RegExp, confirm?: RegExp): Promise<void> {
  await page.locator(`button[data-action="${action}"]`).first().click();
  const dialog = page.locator('dialog.confirm');
  await dialog.waitFor();
  if (confirm !== undefined) assert.match((await dialog.textContent()) ?? '', confirm);
  await dialog.locator('button[data-confirm="yes"]').click();
  await page.locator('#toast p', { hasText: done }).waitFor();
}

function cell(page: Page, tube: string, field: string) {
  return page.locator(`tr[data-tube="${tube}"] td[data-field="${field}"]`);
}

test('the overview lists the tubes and its numbers follow the server, live, without reloading', { skip: NEEDS_CHROMIUM }, async (t) => {
  const { served, client, tube, watched, page } = await setUp(t);
  await client.put('one', { tube });
  await client.put('two', { tube });
  await page.goto(served.url);
  await cell(page, tube, 'ready').filter({ hasText: /^2$/ }).waitFor();
  let navigations = 0;
  page.on('framenavigated', () => (navigations += 1));
  for (let i = 0; i < 3; i += 1) await client.put(`more ${i}`, { tube });
  await client.put('later', { tube, delay: 600 });
  await cell(page, tube, 'ready').filter({ hasText: /^5$/ }).waitFor();
  await cell(page, tube, 'delayed').filter({ hasText: /^1$/ }).waitFor();
  await page.locator('.live', { hasText: 'live' }).waitFor();
  assert.equal(navigations, 0, 'the numbers changed without a reload');
  assert.ok((await page.locator('figure.chart canvas').count()) >= 3, 'the three charts are drawn');
  assert.match((await page.locator('table.servers').textContent()) ?? '', /up, /);
  clean(watched);
});

test('hostile job bodies, error messages and backtraces show as text and run nothing', { skip: NEEDS_CHROMIUM }, async (t) => {
  const { served, client, tube, watched, page } = await setUp(t);
  const img = '<img src=x onerror="window.pwned=1;alert(1)">';
  const script = '</script><script>window.pwned=2;alert(2)</script>';
  const readyId = await client.put(img, { tube });
  const buriedId = await buried(client, tube, script);
  const failed = envelope(tube, '<b>type</b>', { html: img }, { message: `<img src=x onerror="window.pwned=3;alert(3)">`, backtrace: [script] });
  const deadId = await buried(client, tube, encodeEnvelope(failed));

  await page.goto(`${served.url}job?server=0&id=${readyId}`);
  assert.equal(await page.locator('pre[data-field="body"]').textContent(), img);
  await page.goto(`${served.url}job?server=0&id=${buriedId}`);
  assert.equal(await page.locator('pre[data-field="body"]').textContent(), script);
  await page.goto(`${served.url}job?server=0&id=${deadId}`);
  assert.equal(await page.locator('[data-field="failure-message"]').textContent(), failed.failure?.message);
  assert.equal(await page.locator('pre.backtrace').textContent(), script);
  assert.match((await page.locator('section.envelope').textContent()) ?? '', /<b>type<\/b>/);
  await page.goto(`${served.url}tube?name=${tube}`);
  await page.locator('table.jobs tbody tr').nth(2).waitFor();
  assert.match((await page.locator('main').textContent()) ?? '', /<img src=x onerror=/);
  await page.goto(`${served.url}dead`);
  await page.locator('table.groups td.error', { hasText: 'window.pwned=3' }).waitFor();

  assert.equal(await page.locator('main img, main script, main b').count(), 0, 'no element came from a body');
  assert.equal(await page.evaluate('window.pwned'), undefined, 'no script of a body ran');
  clean(watched);
});

test('kick, delete, bury, pause and kick-N from the pages are seen on the server', { skip: NEEDS_CHROMIUM }, async (t) => {
  const { served, client, tube, watched, page } = await setUp(t);
  const dead = await buried(client, tube, 'kick me');
  const doomed = await client.put('delete me', { tube });
  const ready = await client.put('bury me', { tube });

  await page.goto(`${served.url}job?server=0&id=${dead}`);
  await act(page, 'kick', /Kicked job/, new RegExp(`Kick job ${dead} back to ready`));
  assert.equal((await client.statsJob(dead)).state, 'ready');

  await page.goto(`${served.url}job?server=0&id=${doomed}`);
  await page.locator('button[data-action="delete"]').click();
  await page.locator('dialog.confirm button[data-confirm="no"]').click();
  assert.notEqual(await client.peek(doomed), null, 'cancelled: nothing happened');
  await act(page, 'delete', /Deleted job/, /cannot be undone/);
  assert.equal(await client.peek(doomed), null);

  await page.goto(`${served.url}job?server=0&id=${ready}`);
  await act(page, 'bury', /Buried job/);
  assert.equal((await client.statsJob(ready)).state, 'buried');

  await page.goto(`${served.url}tube?name=${tube}`);
  await act(page, 'pause', /Paused/);
  assert.ok((await client.statsTube(tube)).pause >= 60, 'paused for 60 s');
  await act(page, 'resume', /Resumed/);
  assert.equal((await client.statsTube(tube)).pause, 0);
  await act(page, 'kick', /Kicked 1 job/);
  assert.equal((await client.statsTube(tube)).currentJobsBuried, 0);
  clean(watched);
});

test('a bulk retry of a filtered dead set: the count comes first, and only that set is kicked', { skip: NEEDS_CHROMIUM }, async (t) => {
  const { served, client, tube, watched, page } = await setUp(t);
  const other = uniqueTube('web-other');
  const smtp = [await deadJob(client, tube, 'send-email', 'SMTP refused'), await deadJob(client, tube, 'send-email', 'SMTP refused')];
  const dns = await deadJob(client, tube, 'send-email', 'no DNS');
  const resize = await deadJob(client, tube, 'resize', 'SMTP refused');
  const elsewhere = await deadJob(client, other, 'send-email', 'SMTP refused');

  await page.goto(`${served.url}dead?tube=${tube}&type=send-email`);
  await page.locator('table.groups tbody tr').nth(1).waitFor();
  assert.equal(await page.locator('table.groups tbody tr').count(), 2, 'two groups of send-email in the tube');
  await act(page, 'retry-filter', /Retried 3 jobs/, /Retry 3 dead jobs in tube .* of type send-email\?/);
  const states = async (ids: number[]): Promise<string[]> => Promise.all(ids.map(async (id) => (await client.statsJob(id)).state));
  assert.deepEqual(await states([...smtp, dns, resize, elsewhere]), ['ready', 'ready', 'ready', 'buried', 'buried']);

  await page.goto(`${served.url}dead`);
  const row = page.locator('table.groups tbody tr', { hasText: 'resize' });
  await row.waitFor();
  await row.locator('button[data-action="delete-group"]').click();
  const dialog = page.locator('dialog.confirm');
  await dialog.waitFor();
  assert.match((await dialog.textContent()) ?? '', /Delete 1 dead job of type resize with error "SMTP refused"\?/);
  await dialog.locator('button[data-confirm="yes"]').click();
  await page.locator('#toast p', { hasText: /Deleted 1 job/ }).waitFor();
  assert.equal(await client.peek(resize), null);
  assert.equal((await client.statsJob(elsewhere)).state, 'buried');
  clean(watched);
});

/** A page of another origin that tries every way a browser lets it send a change to the dashboard. */
function attackerPage(target: string, id: number): string {
  return `<!doctype html><html><body>
<form id="f" method="POST" action="${target}api/job/delete" enctype="text/plain"><input name='{"server":0,"id":${id},"x":"' value='"}'></form>
<script>
(async () => {
  const body = JSON.stringify({ server: 0, id: ${id} });
  const tries = [
    fetch('${target}api/job/delete', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body }),
    fetch('${target}api/job/delete', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Beanline-Token': 'guess' }, body }),
    fetch('${target}api/job/kick', { method: 'POST', mode: 'no-cors', body }),
  ];
  const outcomes = await Promise.allSettled(tries);
  document.title = 'fetched ' + outcomes.map((o) => o.status).join(',');
})();
</script></body></html>`;
}

test('a page of another origin cannot change anything, by fetch or by form', { skip: NEEDS_CHROMIUM }, async (t) => {
  const { served, client, tube, watched, page } = await setUp(t);
  const id = await buried(client, tube, 'precious');
  const evil = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(attackerPage(served.url, id));
  });
  const port = await listenLocally(evil);
  t.after(async () => {
    evil.closeAllConnections();
    evil.close();
    await once(evil, 'close');
  });
  const refused: number[] = [];
  page.on('response', (response) => {
    if (response.url().startsWith(`${served.url}api/`)) refused.push(response.status());
  });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction("document.title.startsWith('fetched ')");
  const submitted = page.waitForResponse((response) => response.url() === `${served.url}api/job/delete` && response.request().method() === 'POST');
  await page.evaluate("document.getElementById('f').submit()");
  const formReply = await submitted;
  assert.ok([403, 415].includes(formReply.status()), `the form post is refused: ${formReply.status()}`);
  assert.ok(refused.every((status) => status >= 400), `every request that reached the dashboard was refused: ${refused.join(', ')}`);
  assert.equal((await client.statsJob(id)).state, 'buried', 'the job is untouched');
  assert.deepEqual(watched.dialogs, []);
});

test('read-only: no action is drawn on any page, and the page itself cannot change anything', { skip: NEEDS_CHROMIUM }, async (t) => {
  const { served, client, tube, watched, page } = await setUp(t, { readOnly: true });
  const dead = await deadJob(client, tube, 'send-email', 'refused');
  for (const path of ['', `tube?name=${tube}`, `job?server=0&id=${dead}`, 'dead']) {
    await page.goto(`${served.url}${path}`);
    await page.locator('main h1').waitFor();
    assert.equal(await page.locator('button[data-action]').count(), 0, `no action on ${path || 'the overview'}`);
    await page.locator('#mode', { hasText: 'read-only' }).waitFor();
  }
  // The page's own script sending a change, with the page's own token.
  const status = await page.evaluate(`(async () => {
    const token = document.querySelector('meta[name="beanline-token"]').getAttribute('content');
    const response = await fetch('api/job/delete', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Beanline-Token': token }, body: JSON.stringify({ server: 0, id: ${dead} }) });
    return response.status;
  })()`);
  assert.equal(status, 403);
  assert.equal((await client.statsJob(dead)).state, 'buried');
  clean(watched);
});

test('with an auth token: refused without it, the page works with it as the login password, and fits a phone', { skip: NEEDS_CHROMIUM }, async (t) => {
  const token = 'sesame-0123456789';
  const server = await ownServer(t);
  const served = await serveDashboard(t, { servers: [server.url], auth: { token } });
  const client = await connectFor(t, server.url);
  const tube = uniqueTube('web');
  await client.put('x', { tube });
  const browser = await fileBrowser();
  const anonymous = await openPage(t, browser);
  const denied = await anonymous.page.request.get(served.url);
  assert.equal(denied.status(), 401);
  assert.match(denied.headers()['www-authenticate'] ?? '', /^Basic /);
  const phone = await openPage(t, browser, { httpCredentials: { username: 'ops', password: token }, viewport: { width: 390, height: 844 } });
  await phone.page.goto(served.url);
  await cell(phone.page, tube, 'ready').filter({ hasText: /^1$/ }).waitFor();
  const overflow = await phone.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.ok(typeof overflow === 'number' && overflow <= 1, `the page does not scroll sideways on a phone (${overflow}px too wide)`);
  await phone.page.keyboard.press('Tab');
  assert.equal(await phone.page.evaluate('document.activeElement.textContent'), 'Skip to content', 'the keyboard reaches the page');
  clean(phone);
});

/**
 * The dashboard over HTTP, without a browser: the security headers, who may look (auth), which
 * requests may change anything (POST, same origin, the page's token, not read-only), the base path,
 * and the `beanline dashboard` command's refusal to listen beyond 127.0.0.1 without auth. Every
 * refused change is checked on the server with a client of its own: nothing changed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { defineJob, Scheduler, type Client } from '../../src/index.js';
import { encodeEnvelope } from '../../src/jobs/envelope.js';
import { BIN, CHILD_MS, cli } from '../helpers/cli.js';
import { buried, deadJob, envelope, serveDashboard, type Served } from '../helpers/dashboard.js';
import { connectFor, ownServer, within } from '../helpers/harness.js';
import { freePort, listenLocally, startServer, uniqueTube } from '../helpers/server.js';


interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The page's token, as its own script reads it from the shell. */
async function pageToken(served: Served, init: RequestInit = {}): Promise<string> {
  const page = await request(served.url, init);
  const token = /<meta name="beanline-token" content="([^"]+)">/.exec(page.text)?.[1];
  assert.ok(token !== undefined, `the page carries a token: ${page.text}`);
  return token;
}

function post(served: Served, path: string, body: unknown, headers: Record<string, string>): Promise<Reply> {
  return request(`${served.url}api/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function stillThere(client: Client, id: number, state: string): Promise<void> {
  assert.equal((await client.statsJob(id)).state, state, `job ${id} is untouched`);
}

async function setUp(t: TestContext, options: Parameters<typeof serveDashboard>[1] = {}): Promise<{ served: Served; client: Client; tube: string; url: string }> {
  const server = await ownServer(t);
  const served = await serveDashboard(t, { servers: [server.url], ...options });
  return { served, client: await connectFor(t, server.url), tube: uniqueTube('dash'), url: server.url };
}

test('every reply carries a strict Content-Security-Policy; the page has no inline script; assets come from the package', async (t) => {
  const { served } = await setUp(t);
  const page = await request(served.url);
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  for (const script of page.text.match(/<script[^>]*>/g) ?? []) assert.match(script, / src="assets\/[a-z./]+"/, `no inline script: ${script}`);
  assert.doesNotMatch(page.text, /\son[a-z]+=|https?:\/\//, 'no inline handler and no URL off the page');

  const uplot = await request(`${served.url}assets/vendor/uplot.js`);
  assert.equal(uplot.status, 200);
  assert.match(uplot.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(uplot.text, /export \{ uPlot as default \}|export default/);
  assert.equal((await request(`${served.url}assets/app.js`)).status, 200);
  for (const path of ['assets/../../package.json', 'assets/%2e%2e/%2e%2e/package.json', 'assets/index.html', 'api/nothing', 'package.json']) {
    assert.equal((await request(`${served.url}${path}`)).status, 404, path);
  }
});

test('a change must be a same-origin POST with the page token: every other request is refused and changes nothing', async (t) => {
  const { served, client, tube } = await setUp(t);
  const id = await deadJob(client, tube, 'send-email', 'refused');
  const token = await pageToken(served);
  const own = { Origin: served.origin, 'Sec-Fetch-Site': 'same-origin' };

  assert.equal((await request(`${served.url}api/job/delete?server=0&id=${id}`)).status, 404, 'no change over GET');
  assert.equal((await request(`${served.url}api/jobs`, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status, 403, 'no scan for another site');
  assert.equal((await request(`${served.url}api/jobs`, { headers: { 'Sec-Fetch-Site': 'same-origin' } })).status, 200);
  const refused: Array<[string, Record<string, string>]> = [
    ['no token', { ...own }],
    ['a wrong token', { ...own, 'X-Beanline-Token': `${token.slice(0, -2)}xx` }],
    ['another origin', { 'X-Beanline-Token': token, Origin: 'http://evil.example' }],
    ['another port of the same host', { 'X-Beanline-Token': token, Origin: `http://127.0.0.1:${served.port + 1}` }],
    ['a cross-site fetch', { 'X-Beanline-Token': token, 'Sec-Fetch-Site': 'cross-site' }],
    ['a same-site fetch from another origin', { 'X-Beanline-Token': token, 'Sec-Fetch-Site': 'same-site' }],
  ];
  for (const [what, headers] of refused) {
    const reply = await post(served, 'job/delete', { server: 0, id }, headers);
    assert.equal(reply.status, 403, `${what}: ${reply.text}`);
    await stillThere(client, id, 'buried');
  }
  const form = await request(`${served.url}api/job/delete`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...own, 'X-Beanline-Token': token },
    body: `server=0&id=${id}`,
  });
  assert.equal(form.status, 415, 'a form post is not JSON');
  for (const path of ['dead/retry', 'dead/delete']) {
    assert.equal((await post(served, path, { dryRun: false }, { Origin: 'http://evil.example', 'X-Beanline-Token': token })).status, 403);
  }
  assert.equal((await post(served, 'tube/pause', { tube, seconds: 60 }, { ...own })).status, 403);
  await stillThere(client, id, 'buried');
  assert.equal((await client.statsTube(tube)).pause, 0, 'the tube was not paused');

  const done = await post(served, 'job/delete', { server: 0, id }, { ...own, 'X-Beanline-Token': token });
  assert.equal(done.status, 200, done.text);
  assert.equal(await client.peek(id), null, 'with the token, from the page, the job is deleted');
});

test('read-only: the page says so and every change is refused, token or not', async (t) => {
  const { served, client, tube } = await setUp(t, { readOnly: true });
  const id = await deadJob(client, tube, 'send-email', 'refused');
  const page = await request(served.url);
  assert.match(page.text, /<meta name="beanline-read-only" content="true">/);
  const token = await pageToken(served);
  const own = { Origin: served.origin, 'Sec-Fetch-Site': 'same-origin', 'X-Beanline-Token': token };
  for (const [path, body] of [
    ['job/delete', { server: 0, id }],
    ['job/kick', { server: 0, id }],
    ['tube/kick', { tube, count: 10 }],
    ['tube/pause', { tube, seconds: 60 }],
    ['dead/retry', { dryRun: false }],
    ['dead/delete', { dryRun: false }],
  ] as const) {
    const reply = await post(served, path, body, own);
    assert.equal(reply.status, 403, `${path}: ${reply.text}`);
    assert.match(reply.text, /read-only/);
  }
  await stillThere(client, id, 'buried');
  assert.equal((await client.statsTube(tube)).pause, 0);
  assert.equal((await request(`${served.url}api/job?server=0&id=${id}`)).status, 200, 'reading still works');
});

test('with auth, nothing is served without the credentials: the token as Bearer or as the login password; user and password', async (t) => {
  const { served } = await setUp(t, { auth: { token: 'sesame-0123456789' } });
  for (const path of ['', 'assets/app.js', 'api/overview', 'api/events', 'dead']) {
    const reply = await request(`${served.url}${path}`);
    assert.equal(reply.status, 401, path);
    assert.match(reply.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  }
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  assert.equal((await request(`${served.url}api/overview`, { headers: { Authorization: 'Bearer wrong-token-000' } })).status, 401);
  assert.equal((await request(`${served.url}api/overview`, { headers: { Authorization: basic('anyone', 'sesame-012345678') } })).status, 401);
  assert.equal((await request(`${served.url}api/overview`, { headers: { Authorization: 'Bearer sesame-0123456789' } })).status, 200);
  assert.equal((await request(`${served.url}api/overview`, { headers: { Authorization: basic('anyone', 'sesame-0123456789') } })).status, 200);

  const other = await serveDashboard(t, { servers: [(await ownServer(t)).url], auth: { user: 'ops', password: 'p4ss:word' } });
  assert.equal((await request(other.url, { headers: { Authorization: basic('ops', 'wrong') } })).status, 401);
  assert.equal((await request(other.url, { headers: { Authorization: basic('dev', 'p4ss:word') } })).status, 401);
  assert.equal((await request(other.url, { headers: { Authorization: basic('ops', 'p4ss:word') } })).status, 200);
});

test('under a base path: its root redirects to a slash, paths outside it are not served, and an Express-style mount works too', async (t) => {
  const server = await ownServer(t);
  const served = await serveDashboard(t, { servers: [server.url], basePath: '/queues' });
  const root = await request(`${served.origin}/queues`);
  assert.equal(root.status, 308);
  assert.equal(root.headers.get('location'), '/queues/');
  assert.equal((await request(`${served.origin}/queues/`)).status, 200);
  assert.equal((await request(`${served.origin}/queues/api/overview`)).status, 200);
  assert.equal((await request(`${served.origin}/`)).status, 404);
  assert.equal((await request(`${served.origin}/queuesx/api/overview`)).status, 404);

  // What Express does for app.use('/ops/queues', dashboard): req.url loses the prefix, req.originalUrl keeps it.
  const mounted = await serveDashboard(t, { servers: [server.url] });
  const express = http.createServer((req, res) => {
    const prefix = '/ops/queues';
    if (!(req.url ?? '').startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    Object.assign(req, { originalUrl: req.url, url: (req.url ?? '').slice(prefix.length) || '/' });
    mounted.dashboard(req, res);
  });
  const port = await listenLocally(express);
  t.after(() => new Promise<void>((resolve) => express.close(() => resolve())));
  t.after(() => express.closeAllConnections());
  const bare = await request(`http://127.0.0.1:${port}/ops/queues`);
  assert.equal(bare.status, 308);
  assert.equal(bare.headers.get('location'), '/ops/queues/');
  assert.equal((await request(`http://127.0.0.1:${port}/ops/queues/`)).status, 200);
  assert.equal((await request(`http://127.0.0.1:${port}/ops/queues/assets/app.js`)).status, 200);
});

test('the servers are fixed at start: one that is down shows as down, and no request can name another', async (t) => {
  const server = await ownServer(t);
  const down = `beanstalk://127.0.0.1:${await freePort()}`;
  const served = await serveDashboard(t, { servers: [server.url, down] });
  const overview = JSON.parse((await request(`${served.url}api/overview`)).text) as { servers: Array<{ url: string; up: boolean; error?: string }> };
  assert.deepEqual(
    overview.servers.map((s) => [s.url, s.up]),
    [
      [server.url, true],
      [down, false],
    ],
  );
  assert.ok((overview.servers[1]?.error ?? '') !== '', 'the down server says why');
  const elsewhere = await request(`${served.url}api/job?server=2&id=1`);
  assert.equal(elsewhere.status, 404);
  assert.match(elsewhere.text, /no server number 2/);
  assert.equal((await request(`${served.url}api/job?server=1&id=1`)).status, 503, 'the down server answers 503, not a hang');
  assert.equal((await request(`${served.url}api/job?server=0&id=1&url=beanstalk://10.0.0.1:11300`)).status, 404, 'a url in the query is ignored');
});

test('job bodies come back as data: the text literally, the whole body as a download, byte for byte', async (t) => {
  const server = await startServer({ maxJobSize: 200_000 });
  t.after(() => server.kill());
  const served = await serveDashboard(t, { servers: [server.url] });
  const client = await connectFor(t, server.url);
  const tube = uniqueTube('dash');
  const hostile = '<img src=x onerror=alert(1)></script><script>alert(1)</script>';
  const id = await client.put(hostile, { tube });
  const binary = Buffer.from([0, 1, 2, 0xff, 0x3c, 0x73]);
  const binId = await client.put(binary, { tube });
  const job = JSON.parse((await request(`${served.url}api/job?server=0&id=${id}`)).text) as { body: { text: string; kind: string } };
  assert.deepEqual([job.body.kind, job.body.text], ['text', hostile]);
  const download = await fetch(`${served.url}api/job/body?server=0&id=${binId}`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(download.headers.get('content-type'), 'application/octet-stream');
  assert.match(download.headers.get('content-disposition') ?? '', /^attachment;/);
  assert.deepEqual(Buffer.from(await download.arrayBuffer()), binary);
  const big = await client.put(Buffer.alloc(100_000, 'a'), { tube });
  const cut = JSON.parse((await request(`${served.url}api/job?server=0&id=${big}`)).text) as { body: { text: string; cutBytes: number; bytes: number } };
  assert.deepEqual([cut.body.text.length, cut.body.cutBytes, cut.body.bytes], [65_536, 100_000 - 65_536, 100_000]);
});

test('dead jobs: the dry run counts, changes nothing, and the action then does what it counted', async (t) => {
  const { served, client, tube } = await setUp(t);
  const a = [await deadJob(client, tube, 'a', 'boom'), await deadJob(client, tube, 'a', 'boom'), await deadJob(client, tube, 'a', 'bang')];
  const b = await deadJob(client, tube, 'b', 'boom');
  const token = await pageToken(served);
  const own = { Origin: served.origin, 'X-Beanline-Token': token };
  const groups = JSON.parse((await request(`${served.url}api/dead?tube=${tube}`)).text) as { groups: Array<{ type: string; error: string; count: number }> };
  assert.deepEqual(
    groups.groups.map((g) => [g.type, g.error, g.count]),
    [
      ['a', 'boom', 2],
      ['a', 'bang', 1],
      ['b', 'boom', 1],
    ],
  );
  const dry = await post(served, 'dead/retry', { tube, group: true, type: 'a', error: 'boom', dryRun: true }, own);
  assert.deepEqual(JSON.parse(dry.text), { dryRun: true, matched: 2 });
  for (const id of [...a, b]) await stillThere(client, id, 'buried');
  const done = await post(served, 'dead/retry', { tube, group: true, type: 'a', error: 'boom', dryRun: false }, own);
  assert.deepEqual(JSON.parse(done.text), { dryRun: false, done: 2, skipped: 0 });
  assert.deepEqual(await Promise.all([...a, b].map(async (id) => (await client.statsJob(id)).state)), ['ready', 'ready', 'buried', 'buried']);
  const byType = await post(served, 'dead/delete', { tube, type: 'b', dryRun: false }, own);
  assert.deepEqual(JSON.parse(byType.text), { dryRun: false, done: 1, skipped: 0 });
  assert.equal(await client.peek(b), null);
  await stillThere(client, a[2] as number, 'buried');
});

test('beanline dashboard refuses to listen beyond 127.0.0.1 without auth, and with auth serves only with it', async (t) => {
  const server = await ownServer(t);
  for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
    const run = await cli(['--url', server.url, 'dashboard', '--host', host, '--port', '0']);
    assert.equal(run.code, 2, `${host}: ${run.stderr}`);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, new RegExp(`^beanline: refusing to serve the dashboard on ${host.replace(/\./g, '\\.')} without authentication.*--auth-token or --auth-basic`));
  }
  const both = await cli(['--url', server.url, 'dashboard', '--auth-token', 'sesame-0123', '--auth-basic', 'a:b']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--auth-token or --auth-basic, not both/);
  const short = await cli(['--url', server.url, 'dashboard', '--host', '0.0.0.0', '--auth-token', 'short']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /--auth-token must be at least 8 characters/);

  // The token from the environment, where `ps` does not show it.
  const child = spawn(process.execPath, [BIN, '--url', server.url, 'dashboard', '--host', '0.0.0.0', '--port', '0', '--read-only'], {
    env: { ...process.env, BEANLINE_DASHBOARD_TOKEN: 'sesame-0123456789' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(() => {
    child.kill('SIGKILL');
  });
  const line = await within(
    new Promise<string>((resolve) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolve(out);
      });
    }),
    CHILD_MS,
    'the dashboard says where it listens',
  );
  const port = /on http:\/\/0\.0\.0\.0:(\d+)\/ for /.exec(line)?.[1];
  assert.ok(port !== undefined, line);
  assert.match(line, /\(read-only\)/);
  const url = `http://127.0.0.1:${port}/api/overview`;
  assert.equal((await request(url)).status, 401);
  assert.equal((await request(url, { headers: { Authorization: 'Bearer sesame-0123456789' } })).status, 200);
  child.kill('SIGTERM');
  assert.equal(await within(exited, CHILD_MS, 'the dashboard stopping on SIGTERM'), 0);
});

test('scheduled: delayed jobs soonest first, and the recurring schedules with their next tick from the record of last ticks', async (t) => {
  const { served, client, tube, url } = await setUp(t);
  const later = await client.put('later', { tube, delay: 3600 });
  const sooner = await client.put('sooner', { tube, delay: 600 });
  const report = defineJob<{ month: string }>({ type: 'monthly-report', tube, run: async () => undefined });
  const scheduler = new Scheduler({
    connection: url,
    // With no lease yet, a scheduler polls the lock tube for half a lease TTR before it creates one.
    leaseTtr: 2,
    schedules: [{ id: 'month-start', cron: '0 6 1 * *', timezone: 'Europe/Berlin', job: report, args: { month: 'current' } }],
  });
  scheduler.on('error', () => undefined);
  t.after(() => scheduler.stop());
  await scheduler.start();
  interface Scheduled {
    jobs: Array<{ id: number }>;
    schedules: Array<{ id: string; cron: string; timezone: string; type: string; next: string }>;
  }
  let data: Scheduled = { jobs: [], schedules: [] };
  // The leader writes its record just after it takes the lease, and no event says when: ask until it is there.
  for (let attempt = 0; attempt < 200 && data.schedules.length === 0; attempt += 1) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25));
    data = JSON.parse((await request(`${served.url}api/scheduled?tube=${tube}`)).text) as Scheduled;
  }
  assert.deepEqual(data.jobs.map((job) => job.id), [sooner, later]);
  const [schedule] = data.schedules;
  assert.deepEqual(
    { id: schedule?.id, cron: schedule?.cron, timezone: schedule?.timezone, type: schedule?.type },
    { id: 'month-start', cron: '0 6 1 * *', timezone: 'Europe/Berlin', type: 'monthly-report' },
  );
  const next = new Date(schedule?.next ?? 0);
  assert.ok(next.getTime() > Date.now(), `the next tick is ahead: ${schedule?.next}`);
  assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', day: 'numeric', hour: 'numeric' }).format(next), '1, 06');
});

test('several servers: tubes summed across them, a job named by its server, pause and bulk retry on every server', async (t) => {
  const [a, b] = [await ownServer(t), await ownServer(t)];
  const served = await serveDashboard(t, { servers: [a.url, b.url] });
  const [onA, onB] = [await connectFor(t, a.url), await connectFor(t, b.url)];
  const tube = uniqueTube('dash');
  const idA = await onA.put('on a', { tube });
  const idB = await onB.put('on b', { tube });
  await onB.put('on b too', { tube });
  await deadJob(onA, tube, 'x', 'boom');
  await deadJob(onB, tube, 'x', 'boom');

  const overview = JSON.parse((await request(`${served.url}api/overview`)).text) as { tubes: Array<{ name: string; ready: number; buried: number; servers: string[] }> };
  const row = overview.tubes.find((each) => each.name === tube);
  assert.deepEqual({ ready: row?.ready, buried: row?.buried, servers: row?.servers }, { ready: 3, buried: 2, servers: [a.url, b.url] });

  assert.equal(idA, idB, 'the same id on both servers');
  const fromB = JSON.parse((await request(`${served.url}api/job?server=1&id=${idB}`)).text) as { url: string; body: { text: string } };
  assert.deepEqual([fromB.url, fromB.body.text], [b.url, 'on b']);

  const token = await pageToken(served);
  const own = { Origin: served.origin, 'X-Beanline-Token': token };
  assert.equal((await post(served, 'tube/pause', { tube, seconds: 120 }, own)).status, 200);
  assert.deepEqual([(await onA.statsTube(tube)).pause, (await onB.statsTube(tube)).pause], [120, 120]);
  const dry = JSON.parse((await post(served, 'dead/retry', { tube, dryRun: true }, own)).text) as { matched: number };
  assert.equal(dry.matched, 2);
  const done = JSON.parse((await post(served, 'dead/retry', { tube, dryRun: false }, own)).text) as { done: number };
  assert.equal(done.done, 2);
  assert.deepEqual([(await onA.statsTube(tube)).currentJobsBuried, (await onB.statsTube(tube)).currentJobsBuried], [0, 0]);
});

test("a tube's jobs through the scan: newest first, 50 a page, filtered by state, type and text", async (t) => {
  const { served, client, tube } = await setUp(t);
  const ids: number[] = [];
  for (let i = 0; i < 110; i += 1) ids.push(await client.put(`plain ${i}`, { tube }));
  const typed = await client.put(encodeEnvelope(envelope(tube, 'resize', { key: 'cat.jpg' })), { tube });
  const dead = await deadJob(client, tube, 'resize', 'unsupported format');
  await client.put('elsewhere', { tube: uniqueTube('dash-other') });
  interface Page {
    jobs: Array<{ id: number; state: string; type: string | null; summary: string }>;
    more: boolean;
  }
  const list = async (query: string): Promise<Page> => JSON.parse((await request(`${served.url}api/jobs?tube=${tube}&${query}`)).text) as Page;
  const first = await list('page=0');
  assert.deepEqual(first.jobs.map((job) => job.id), [dead, typed, ...ids.slice(-48).reverse()]);
  assert.equal(first.more, true);
  const last = await list('page=2');
  assert.deepEqual(last.jobs.map((job) => job.id), ids.slice(0, 12).reverse());
  assert.equal(last.more, false);
  assert.deepEqual((await list('state=buried')).jobs.map((job) => job.id), [dead]);
  assert.deepEqual((await list('type=resize')).jobs.map((job) => [job.id, job.type]), [
    [dead, 'resize'],
    [typed, 'resize'],
  ]);
  assert.deepEqual((await list('grep=plain%2010')).jobs.map((job) => job.summary), ['plain 109', 'plain 108', 'plain 107', 'plain 106', 'plain 105', 'plain 104', 'plain 103', 'plain 102', 'plain 101', 'plain 100', 'plain 10']);
  assert.equal((await request(`${served.url}api/jobs?tube=${tube}&state=gone`)).status, 400);
  assert.equal((await request(`${served.url}api/jobs?tube=bad%20name`)).status, 400);
});

test('behind a proxy that rewrites Host: changes from the listed public origin are accepted, from others refused', async (t) => {
  const { served, client, tube } = await setUp(t, { allowedOrigins: ['https://ops.example.com/queues'] });
  const id = await buried(client, tube, 'x');
  const token = await pageToken(served);
  const from = (origin: string): Promise<Reply> => post(served, 'job/kick', { server: 0, id }, { Origin: origin, 'Sec-Fetch-Site': 'same-origin', 'X-Beanline-Token': token });
  assert.equal((await from('https://evil.example.com')).status, 403);
  assert.equal((await from('http://ops.example.com')).status, 403, 'the scheme is part of an allowed origin');
  await stillThere(client, id, 'buried');
  const accepted = await from('https://ops.example.com');
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal((await client.statsJob(id)).state, 'ready');
});

/** A GET or POST with the Host header a rebinding page's requests would carry. */
function withHost(served: Served, host: string, method = 'GET', path = '', body?: string, headers: Record<string, string> = {}): Promise<number> {
  return within(
    new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: served.port, method, path: `/${path}`, headers: { Host: host, ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end(body);
    }),
    5_000,
    `${method} /${path} with Host ${host}`,
  );
}

test('without auth, a request naming another host is refused (DNS rebinding); allowedHosts names the ones to serve', async (t) => {
  const { served, client, tube } = await setUp(t);
  const id = await buried(client, tube, 'x');
  const token = await pageToken(served);
  const evil = `evil.example:${served.port}`;
  assert.equal(await withHost(served, evil), 403, 'the page, and so its token, is not served');
  assert.equal(await withHost(served, evil, 'GET', 'api/overview'), 403);
  const change = JSON.stringify({ server: 0, id });
  const headers = { 'Content-Type': 'application/json', Origin: `http://${evil}`, 'Sec-Fetch-Site': 'same-origin', 'X-Beanline-Token': token };
  assert.equal(await withHost(served, evil, 'POST', 'api/job/kick', change, headers), 403);
  await stillThere(client, id, 'buried');
  for (const host of [`localhost:${served.port}`, `127.0.0.1:${served.port}`, `[::1]:${served.port}`]) assert.equal(await withHost(served, host), 200, host);

  const named = await serveDashboard(t, { servers: [(await ownServer(t)).url], allowedHosts: ['Queues.Internal'] });
  assert.equal(await withHost(named, `queues.internal:${named.port}`), 200);
  assert.equal(await withHost(named, `evil.example:${named.port}`), 403);
  const guarded = await serveDashboard(t, { servers: [(await ownServer(t)).url], auth: { token: 'a-long-token' } });
  assert.equal(await withHost(guarded, `ops.example.com:${guarded.port}`, 'GET', '', undefined, { Authorization: 'Bearer a-long-token' }), 200, 'with auth any name may be served');
});

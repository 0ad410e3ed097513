/**
 * `npm run screenshots`: the pictures of the dashboard in docs/, taken from a real beanstalkd with a
 * little traffic (so the charts move) in Debian's headless Chromium. Every server, loop and browser
 * it starts is stopped before it exits, whatever happens.
 *
 *   node dist/test/screenshots.js [--out docs]
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { Client, defineJob, Scheduler } from '../src/index.js';
import { encodeEnvelope } from '../src/jobs/envelope.js';
import { CHROMIUM } from './helpers/browser.js';
import { buried, deadJob, envelope, serveDashboard } from './helpers/dashboard.js';
import { startServer } from './helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'docs') } } });
const OUT = path.resolve(values.out as string);
/** How long the traffic runs before the overview is taken, so that its charts have a shape. */
const TRAFFIC_MS = 20_000;

async function fill(client: Client): Promise<{ jobId: number }> {
  const put = (tube: string, type: string, args: unknown, delay = 0): Promise<number> =>
    client.put(encodeEnvelope(envelope(tube, type, args)), { tube, delay });
  for (let i = 0; i < 40; i += 1) await put('emails', 'send-email', { to: `user${i}@example.com`, template: 'welcome' });
  for (let i = 0; i < 12; i += 1) await put('images', 'resize-image', { key: `uploads/${i}.jpg`, width: 640 });
  for (let i = 0; i < 6; i += 1) await put('reports', 'monthly-report', { account: 1000 + i }, 3600 * (i + 1));
  for (let i = 0; i < 5; i += 1) await put('emails', 'send-digest', { list: 'weekly' }, 600 + i * 90);
  await client.put('plain text body, not a beanline job', { tube: 'legacy' });
  for (let i = 0; i < 7; i += 1) await deadJob(client, 'emails', 'send-email', 'SMTP 421: too many connections from your IP', { to: `late${i}@example.com` });
  for (let i = 0; i < 3; i += 1) await deadJob(client, 'emails', 'send-email', 'getaddrinfo ENOTFOUND mx.example.org', { to: `x${i}@example.org` });
  for (let i = 0; i < 4; i += 1) await deadJob(client, 'images', 'resize-image', 'Input buffer contains unsupported image format', { key: `bad/${i}.heic` });
  await buried(client, 'legacy', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]));
  const failed = envelope('webhooks', 'deliver-webhook', { url: 'https://hooks.example.com/orders', event: 'order.paid', id: 'ord_81f2' }, {
    message: 'POST https://hooks.example.com/orders: 503 Service Unavailable',
    errorType: 'HttpError',
    retryCount: 5,
    backtrace: ['at deliver (src/jobs/webhooks.ts:41:11)', 'at runJob (node_modules/beanline/dist/src/worker/run-job.js:52:24)', 'at async Slot.run (node_modules/beanline/dist/src/worker/slot.js:88:13)'],
  });
  const jobId = await buried(client, 'webhooks', encodeEnvelope(failed));
  await client.pauseTube('reports', 3600);
  return { jobId };
}

/** Puts and takes jobs in a few tubes at uneven rates until stopped. */
function traffic(producer: Client, worker: Client): () => Promise<void> {
  let running = true;
  let tick = 0;
  const produce = (async () => {
    while (running) {
      tick += 1;
      const wave = 1 + Math.round(3 * (1 + Math.sin(tick / 6)));
      const puts: Promise<number>[] = [];
      for (let i = 0; i < wave; i += 1) puts.push(producer.put(encodeEnvelope(envelope('emails', 'send-email', { n: tick })), { tube: 'emails' }));
      if (tick % 2 === 0) puts.push(producer.put(encodeEnvelope(envelope('images', 'resize-image', { n: tick })), { tube: 'images' }));
      if (tick % 5 === 0) puts.push(producer.put(encodeEnvelope(envelope('webhooks', 'deliver-webhook', { n: tick })), { tube: 'webhooks' }));
      await Promise.all(puts);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const consume = (async () => {
    await worker.watch('images');
    await worker.watch('webhooks');
    while (running) {
      const job = await worker.reserveWithTimeout(1);
      if (job !== null) await worker.delete(job.id);
    }
  })();
  return async () => {
    running = false;
    await Promise.all([produce, consume]);
  };
}

async function shoot(page: Page, url: string, ready: string, file: string, fullPage = false): Promise<void> {
  await page.goto(url);
  await page.locator(ready).first().waitFor();
  await page.screenshot({ path: path.join(OUT, file), fullPage });
  console.log(`wrote ${path.relative(ROOT, path.join(OUT, file))}`);
}

mkdirSync(OUT, { recursive: true });
const server = await startServer();
const cleanups: Array<() => Promise<void> | void> = [() => server.kill()];
try {
  const client = await Client.connect(server.url);
  cleanups.push(() => client.destroy());
  const worker = await Client.connect(server.url);
  cleanups.push(() => worker.destroy());
  const { jobId } = await fill(client);
  const served = await serveDashboard(null, { servers: [server.url] });
  cleanups.push(() => served.stop());
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  await context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
  const page = await context.newPage();

  const digest = defineJob<{ team: string }>({ type: 'send-digest', tube: 'emails', run: async () => undefined });
  const scheduler = new Scheduler({
    connection: server.url,
    leaseTtr: 2,
    schedules: [
      { id: 'core-digest', cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin', job: digest, args: { team: 'core' }, misfire: 'once' },
      { id: 'ops-digest', cron: '0 */6 * * *', job: digest, args: { team: 'ops' } },
    ],
  });
  scheduler.on('error', (error) => console.error(error));
  await scheduler.start();
  cleanups.push(() => scheduler.stop());
  const stop = traffic(client, worker);
  cleanups.push(stop);
  await page.goto(served.url);
  await page.locator('tr[data-tube="emails"]').waitFor();
  // The charts fill from the page's own live feed: let it gather some seconds of it.
  await page.waitForTimeout(TRAFFIC_MS);
  await page.screenshot({ path: path.join(OUT, 'dashboard-overview.png') });
  console.log('wrote docs/dashboard-overview.png');
  await stop();
  cleanups.pop();

  await shoot(page, `${served.url}tube?name=images`, 'table.jobs', 'dashboard-tube.png');
  await shoot(page, `${served.url}job?server=0&id=${jobId}`, 'pre.backtrace', 'dashboard-job.png', true);
  await shoot(page, `${served.url}dead`, 'table.groups', 'dashboard-dead.png');
  await shoot(page, `${served.url}scheduled`, 'table.schedules', 'dashboard-scheduled.png', true);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  await phone.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
  await shoot(await phone.newPage(), `${served.url}dead`, 'table.groups', 'dashboard-phone.png');
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

/**
 * A headless Chromium for the dashboard's tests: Debian's /usr/bin/chromium (never a downloaded
 * browser) driven by playwright-core, one per test file. Every request the page makes to
 * anything but 127.0.0.1 is refused, so a test cannot reach the network and an asset that would
 * come from a CDN fails the test.
 */
import { existsSync } from 'node:fs';
import { after, type TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Dialog, type Page } from 'playwright-core';
import { within } from './harness.js';

export const CHROMIUM = process.env['BEANLINE_CHROMIUM'] ?? '/usr/bin/chromium';

/** The skip reason for a browser test on a machine without Chromium (CI installs it and fails on any skip). */
export const NEEDS_CHROMIUM: string | false = existsSync(CHROMIUM) ? false : `needs chromium at ${CHROMIUM} (apt-get install chromium)`;

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LAUNCH_MS = 30_000;

async function launch(): Promise<Browser> {
  try {
    return await within(chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: LAUNCH_MS }), LAUNCH_MS + 5_000, 'launching chromium');
  } catch (error) {
    throw new Error(`cannot start ${CHROMIUM} (Debian: apt-get install chromium; or set $BEANLINE_CHROMIUM): ${(error as Error).message}`, { cause: error });
  }
}

/**
 * One browser for a test file, launched on first use and closed when the file's tests end (a
 * launch costs seconds; each test still gets a fresh context: no cookies, cache or pages shared).
 * Call it at the top level of the file, where `after` belongs to the file and not to a test.
 */
export function browserForFile(): () => Promise<Browser> {
  let launched: Promise<Browser> | undefined;
  after(async () => {
    if (launched !== undefined) await (await launched).close();
  });
  return () => (launched ??= launch());
}

export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every dialog (alert, confirm, prompt) the page opened: a script an attacker put there would open one. */
  readonly dialogs: string[];
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
  /** Requests the page tried outside 127.0.0.1. */
  readonly offsite: string[];
}

/** A fresh context and page with dialogs, errors and off-site requests recorded; the context is closed when the test ends. */
export async function openPage(t: TestContext, browser: Browser, options: { httpCredentials?: { username: string; password: string }; viewport?: { width: number; height: number } } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ ...options, serviceWorkers: 'block' });
  t.after(() => context.close());
  context.setDefaultTimeout(10_000);
  const dialogs: string[] = [];
  const errors: string[] = [];
  const offsite: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    offsite.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('dialog', (dialog: Dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { page, context, dialogs, errors, offsite };
}

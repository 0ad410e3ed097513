/**
 * `beanline top`, the built bin against servers of the test's own: `--once` and `--json` as a
 * script sees them, and the live screen driven under tmux (keys sent, the pane read back). tmux is
 * polled with a deadline: there is no event for "the screen changed". Every child and tmux server
 * is stopped when its test ends.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import type { Client } from '../../src/client.js';
import type { RatesView } from '../../src/observe/rates.js';
import { cli, type Run } from '../helpers/cli.js';
import { exitCode, NEEDS_TMUX, onTerminal, screenUntil } from '../helpers/tmux.js';
import { connectFor, ownServer } from '../helpers/harness.js';
import { freePort, startServer, uniqueTube } from '../helpers/server.js';

const CHILD_MS = 15_000;

function top(url: string, ...args: string[]): Promise<Run> {
  return cli(['top', '--url', url, ...args], { timeoutMs: CHILD_MS });
}

/** The columns of a table row, split on runs of two or more spaces. */
function columns(line: string): string[] {
  return line.trim().split(/ {2,}/);
}

function rowOf(lines: readonly string[], tube: string): string[] | undefined {
  const line = lines.find((one) => one.startsWith(`${tube} `));
  return line === undefined ? undefined : columns(line);
}

/** Ready 2, reserved 1 (held by the returned client), delayed 1, buried 1, in a fresh tube. */
async function mixedTube(t: TestContext, url: string): Promise<{ tube: string; holder: Client }> {
  const tube = uniqueTube('top');
  const producer = await connectFor(t, url);
  await Promise.all([0, 1, 2, 3].map(() => producer.putInto(tube, 'job')));
  await producer.putInto(tube, 'later', { delay: 600 });
  const holder = await connectFor(t, url);
  await holder.watch(tube);
  await holder.ignore('default');
  const buried = await holder.reserveWithTimeout(0);
  assert.ok(buried !== null && (await holder.reserveWithTimeout(0)) !== null);
  await holder.bury(buried.id);
  return { tube, holder };
}

test('top --once prints one frame with every tube and its counts, no escape codes, exit 0', async (t) => {
  const server = await ownServer(t);
  const { tube } = await mixedTube(t, server.url);
  const run = await top(server.url, '--once', '--interval', '0');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.ok(!run.stdout.includes('\u001b'), 'no escape codes on a pipe');
  const lines = run.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^beanline top {2}\d\d:\d\d:\d\d {2}1\/1 servers up {2}2 tubes$/);
  assert.match(lines[1] ?? '', new RegExp(`^● up {4}127\\.0\\.0\\.1:${server.port} {2}puts/s 0 {2}reserves/s 0 {2}deletes/s 0 {2}connections \\d+: `));
  assert.deepEqual(columns(lines[3] ?? ''), ['tube', 'ready', 'reserved', 'delayed', 'buried', 'urgent', 'waiting', 'paused', 'puts/s', 'deletes/s']);
  // The busiest first: jobs held, with no rates from one look.
  assert.equal(columns(lines[4] ?? '')[0], tube);
  assert.deepEqual(rowOf(lines, tube), [tube, '2', '1', '1', '1', '0', '0', '-', '0', '0']);
  assert.deepEqual(rowOf(lines, 'default'), ['default', '0', '0', '0', '0', '0', '0', '-', '0', '0']);
});

test('top --json: the RatesView, with rates from two looks an interval apart', async (t) => {
  const server = await ownServer(t);
  const { tube } = await mixedTube(t, server.url);
  const busy = uniqueTube('busy');
  const producer = await connectFor(t, server.url);
  let putting = true;
  // Puts spread over the interval between the bin's two looks, so its rate is above 0.
  const puts = (async () => {
    while (putting) {
      await producer.putInto(busy, 'x');
      await sleep(5);
    }
  })();
  const run = await top(server.url, '--json', '--interval', '0.5').finally(() => (putting = false));
  await puts;
  assert.equal(run.code, 0, run.stderr);
  const view = JSON.parse(run.stdout) as RatesView;
  assert.equal(typeof view.at, 'number');
  assert.equal(view.servers.length, 1);
  const [one] = view.servers;
  assert.equal(one?.url, server.url);
  assert.equal(one?.up, true);
  assert.ok((one?.putsPerSecond ?? 0) > 0, 'server puts/s');
  assert.equal(one?.deletesPerSecond, 0);
  assert.equal(typeof one?.stats?.totalJobs, 'number');
  assert.deepEqual(
    Object.keys(one ?? {}).sort(),
    ['connections', 'deletesPerSecond', 'producers', 'putsPerSecond', 'reservesPerSecond', 'stats', 'up', 'url', 'waiting', 'workers'],
  );
  assert.equal(view.tubes[0]?.name, busy, 'the tube being put into is the busiest');
  assert.ok((view.tubes[0]?.putsPerSecond ?? 0) > 0);
  assert.equal(view.tubes[0]?.history.length, 1);
  const mixed = view.tubes.find((row) => row.name === tube);
  assert.deepEqual(mixed, {
    name: tube,
    ready: 2,
    reserved: 1,
    delayed: 1,
    buried: 1,
    urgent: 0,
    waiting: 0,
    pausedSecondsLeft: 0,
    total: 5,
    putsPerSecond: 0,
    deletesPerSecond: 0,
    history: [0],
    servers: [server.url],
  });
});

test('top --once with a server down: shown as down, the others listed, exit 3 with a line on stderr', async (t) => {
  const server = await ownServer(t);
  const nobody = `beanstalk://127.0.0.1:${await freePort()}`;
  const run = await top(`${server.url},${nobody}`, '--once', '--interval', '0');
  assert.equal(run.code, 3);
  const lines = run.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /1\/2 servers up/);
  assert.match(lines[2] ?? '', new RegExp(`^○ down {2}${nobody.slice('beanstalk://'.length)} +cannot connect`));
  assert.ok(rowOf(lines, 'default') !== undefined);
  assert.match(run.stderr, /^beanline: cannot connect .*\n$/);
  assert.ok(!run.stderr.includes('    at '), 'no stack trace');
});

test('top: bad --interval and a live screen without a terminal are usage errors', async (t) => {
  const server = await ownServer(t);
  const bad = await top(server.url, '--interval', '-1');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--interval must be a number of seconds/);
  const piped = await top(server.url);
  assert.equal(piped.code, 2, piped.stderr);
  assert.equal(piped.stderr, 'beanline: top: the live screen needs a terminal; use --once or --json for a script\n');
});

function firstTube(lines: readonly string[]): string | undefined {
  const heading = lines.findIndex((line) => line.startsWith('tube '));
  return heading < 0 ? undefined : columns(lines[heading + 1] ?? '')[0];
}

test('top live: counts change on screen as jobs are put; a server that dies is shown down, then up again', { skip: NEEDS_TMUX }, async (t) => {
  const server = await ownServer(t);
  let other = await startServer();
  t.after(() => other.kill());
  const tube = uniqueTube('live');
  const producer = await connectFor(t, server.url);
  await producer.putInto(tube, 'one');
  const terminal = onTerminal(t, ['top', '--url', `${server.url},${other.url}`, ], { x: 120, y: 30 });
  const { tmux } = terminal;
  const otherAddress = other.url.slice('beanstalk://'.length);
  await screenUntil(terminal, `tube ${tube} with 1 ready`, (lines) => rowOf(lines, tube)?.[1] === '1');
  await Promise.all([1, 2, 3, 4].map(() => producer.putInto(tube, 'more')));
  await screenUntil(terminal, `tube ${tube} with 5 ready`, (lines) => rowOf(lines, tube)?.[1] === '5');

  await other.kill();
  await screenUntil(terminal, `${otherAddress} down`, (lines) => lines.some((line) => line.startsWith(`○ down  ${otherAddress}`)));
  assert.ok(rowOf(tmux('capture-pane', '-p', '-t', 'beanline').split('\n'), tube) !== undefined, 'the other server is still shown');
  other = await startServer({ port: other.port });
  await screenUntil(terminal, `${otherAddress} up again`, (lines) => lines.some((line) => line.startsWith(`● up    ${otherAddress}`)), 10_000);

  tmux('send-keys', '-t', 'beanline', 'q');
  assert.equal(await exitCode(terminal), '0');
});

test('top live: arrows and PgDn scroll the tubes, a resize redraws to the new width, q quits with 0', { skip: NEEDS_TMUX }, async (t) => {
  const server = await ownServer(t);
  const prefix = uniqueTube('scroll');
  const names = Array.from({ length: 30 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
  const producer = await connectFor(t, server.url);
  await Promise.all(names.map((name) => producer.putInto(name, 'x')));
  // A refresh a minute away: whatever changes on screen meanwhile was drawn for a key or a resize.
  const terminal = onTerminal(t, ['top', '--url', server.url, '--interval', '60'], { x: 60, y: 30 });
  const { tmux } = terminal;
  let lines = await screenUntil(terminal, 'the first tube', (shown) => firstTube(shown) === names[0]);
  // 29 rows for the frame: title, one server, a blank line, headings and 25 of the 31 tubes.
  assert.match(lines[0] ?? '', /31 tubes \(rows 1-25\)/);
  assert.ok(!lines.some((line) => line.startsWith('tube ') && line.includes('deletes/s')), 'the table is cut at 60 columns');
  assert.ok(lines.every((line) => line.length <= 60));

  tmux('send-keys', '-t', 'beanline', 'Down');
  lines = await screenUntil(terminal, 'one row scrolled', (shown) => firstTube(shown) === names[1]);
  assert.match(lines[0] ?? '', /\(rows 2-26\)/);
  tmux('send-keys', '-t', 'beanline', 'NPage');
  lines = await screenUntil(terminal, 'the last page', (shown) => firstTube(shown) === names[6]);
  assert.match(lines[0] ?? '', /\(rows 7-31\)/);
  assert.ok(lines.some((line) => line.startsWith('default ')), 'the last row in view');
  tmux('send-keys', '-t', 'beanline', 'Up');
  await screenUntil(terminal, 'one row back', (shown) => firstTube(shown) === names[5]);

  tmux('resize-window', '-t', 'beanline', '-x', '130', '-y', '30');
  lines = await screenUntil(terminal, 'the table at 130 columns', (shown) => shown.some((line) => /^tube .*deletes\/s$/.test(line)));
  assert.equal(firstTube(lines), names[5], 'the scroll is kept');
  tmux('resize-window', '-t', 'beanline', '-x', '130', '-y', '12');
  // 11 rows for the frame: 7 tubes in view, from the same first one.
  await screenUntil(terminal, 'the frame at 12 rows', (shown) => /31 tubes \(rows 6-12\)/.test(shown[0] ?? ''));
  tmux('send-keys', '-t', 'beanline', 'End');
  await screenUntil(terminal, 'the end', (shown) => /\(rows 25-31\)/.test(shown[0] ?? ''));
  tmux('resize-window', '-t', 'beanline', '-x', '130', '-y', '30');
  // Taller, the scroll is clamped so that the screen is full rather than showing blank rows.
  lines = await screenUntil(terminal, 'the frame at 30 rows', (shown) => /\(rows 7-31\)/.test(shown[0] ?? ''));
  assert.equal(firstTube(lines), names[6]);

  tmux('send-keys', '-t', 'beanline', 'q');
  assert.equal(await exitCode(terminal), '0');
});

/**
 * `beanline jobs`: the listing by id scan, its filters, and the bulk actions on what it lists, run as
 * the built bin against a server of the test's own. Counts are read back from the server itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import type { Client } from '../../src/index.js';
import { BIN, CHILD_MS, cli, failed, ok, on } from '../helpers/cli.js';
import { connectFor, ownServer, within } from '../helpers/harness.js';
import { exitCode, NEEDS_TMUX, onTerminal, screenUntil } from '../helpers/tmux.js';
import { uniqueTube } from '../helpers/server.js';
import { untilStats } from '../helpers/worker.js';

/** A beanline envelope of `type`, with a failure when `message` is given. */
function envelope(type: string, tube: string, args: unknown, message?: string): string {
  const failure = message === undefined ? {} : { failure: { retryCount: 3, failedAt: '2026-12-02T10:00:00Z', message, errorType: 'Error', backtrace: ['at run (worker.js:1)'] } };
  return JSON.stringify({ jid: `j-${String(args)}`, type, args: [args], tube, createdAt: 'c', enqueuedAt: 'e', retry: 3, priority: 10, ttr: 30, custom: {}, ...failure });
}

/** Puts each body into `tube` and buries it; the ids, in put order. */
async function buried(client: Client, tube: string, bodies: readonly string[]): Promise<number[]> {
  await client.watch(tube);
  const ids: number[] = [];
  for (const body of bodies) {
    const id = await client.putInto(tube, body, { priority: 10, ttr: 30 });
    await client.reserveJob(id);
    await client.bury(id, 10);
    ids.push(id);
  }
  await client.ignore(tube);
  return ids;
}

/** A dead set of two types, a ready job and a delayed job, in one tube. */
async function deadSet(t: TestContext): Promise<{ url: string; client: Client; tube: string; mail: number[]; sms: number[]; ready: number; delayed: number }> {
  const { url } = await ownServer(t);
  const client = await connectFor(t, url);
  const tube = uniqueTube();
  const mail = await buried(client, tube, [envelope('Mail', tube, 1, 'SMTP timeout <b>'), envelope('Mail', tube, 2, 'mailbox full')]);
  const sms = await buried(client, tube, [envelope('Sms', tube, 3, 'gateway timeout')]);
  const ready = await client.putInto(tube, 'plain text, ready');
  const delayed = await client.putInto(tube, envelope('Mail', tube, 4), { delay: 600 });
  return { url, client, tube, mail, sms, ready, delayed };
}

/** The ids in the first column of a listing (the heading left out). */
function listedIds(lines: readonly string[]): number[] {
  return lines.slice(1).map((line) => Number(line.trim().split(/ +/)[0]));
}

test('jobs lists newest first, filtered by tube, state, type and text, up to --limit', async (t) => {
  const { url, tube, mail, sms, ready, delayed } = await deadSet(t);
  const all = ok(await on(url, 'jobs', '--tube', tube));
  assert.match(all[0] ?? '', /^ +id tube +state +pri +age job$/);
  assert.deepEqual(listedIds(all), [delayed, ready, ...sms, ...[...mail].reverse()]);
  assert.match(all.find((line) => line.trim().startsWith(`${mail[0]} `)) ?? '', /buried +10 +\d+s Mail: SMTP timeout <b>$/);

  assert.deepEqual(listedIds(ok(await on(url, 'jobs', '--state', 'buried', '--type', 'Mail'))), [mail[1], mail[0]]);
  assert.deepEqual(listedIds(ok(await on(url, 'jobs', '--grep', 'timeout'))), [...sms, mail[0]], 'the text is found in failure messages');
  assert.deepEqual(listedIds(ok(await on(url, 'jobs', '--grep', 'plain text'))), [ready], 'and in bodies');
  assert.deepEqual(listedIds(ok(await on(url, 'jobs', '--state', 'delayed'))), [delayed]);
  assert.deepEqual(listedIds(ok(await on(url, 'jobs', '--tube', tube, '--limit', '2'))), [delayed, ready]);
  assert.deepEqual(listedIds(ok(await on(url, 'jobs', '--tube', 'no-such-tube'))), []);
});

test('jobs --json prints one JSON document per job line: server, id, stats, body', async (t) => {
  const { url, tube, mail } = await deadSet(t);
  const lines = ok(await on(url, 'jobs', '--state', 'buried', '--type', 'Mail', '--json'));
  const docs = lines.map((line) => JSON.parse(line) as { server: string; id: number; stats: { tube: string; state: string; pri: number }; body: { kind: string; envelope: { type: string; failure: { message: string } } } });
  assert.deepEqual(
    docs.map((doc) => [doc.server, doc.id, doc.stats.tube, doc.stats.state, doc.stats.pri, doc.body.kind, doc.body.envelope.type, doc.body.envelope.failure.message]),
    [
      [url, mail[1], tube, 'buried', 10, 'envelope', 'Mail', 'mailbox full'],
      [url, mail[0], tube, 'buried', 10, 'envelope', 'Mail', 'SMTP timeout <b>'],
    ],
  );
});

test('bulk kick: --dry-run counts and changes nothing; without a terminal --yes is required; --yes kicks only the filtered jobs', async (t) => {
  const { url, client, tube, mail, sms } = await deadSet(t);
  assert.deepEqual(ok(await on(url, 'jobs', '--state', 'buried', '--type', 'Mail', '--kick', '--dry-run')), ['dry run: would kick 2 jobs']);
  failed(await on(url, 'jobs', '--state', 'buried', '--type', 'Mail', '--kick'), 2, 'beanline: nothing changed: give --yes to act without a terminal to confirm on (or --dry-run to count)');
  assert.equal((await client.statsTube(tube)).currentJobsBuried, 3, 'nothing was kicked');

  assert.deepEqual(ok(await on(url, 'jobs', '--state', 'buried', '--type', 'Mail', '--kick', '--yes')), ['kicked 2 of 2 jobs']);
  for (const id of mail) assert.equal((await client.statsJob(id)).state, 'ready');
  assert.equal((await client.statsJob(sms[0] ?? 0)).state, 'buried', 'the other type stays dead');
});

test('bulk delete and move: counts before and after add up, the copies keep priority and TTR', async (t) => {
  const { url, client, tube, ready, delayed } = await deadSet(t);
  const target = uniqueTube();
  assert.deepEqual(ok(await on(url, 'jobs', '--tube', tube, '--state', 'buried', '--move', target, '--yes')), [`moved 3 of 3 jobs to tube ${target}`]);
  const [source, moved] = [await client.statsTube(tube), await client.statsTube(target)];
  assert.deepEqual([source.currentJobsBuried, source.currentJobsReady, source.currentJobsDelayed], [0, 1, 1]);
  assert.equal(moved.currentJobsReady, 3, 'moved jobs arrive ready');
  const copies = ok(await on(url, 'jobs', '--tube', target, '--json')).map((line) => JSON.parse(line) as { stats: { pri: number; ttr: number }; body: { envelope: { type: string } } });
  assert.deepEqual(copies.map((copy) => [copy.stats.pri, copy.stats.ttr]), [[10, 30], [10, 30], [10, 30]]);
  assert.deepEqual(copies.map((copy) => copy.body.envelope.type).sort(), ['Mail', 'Mail', 'Sms'], 'the bodies are copied as they were');

  assert.deepEqual(ok(await on(url, 'jobs', '--tube', tube, '--delete', '--yes')), ['deleted 2 of 2 jobs']);
  for (const id of [ready, delayed]) await assert.rejects(client.statsJob(id), { name: 'NotFoundError' });
  assert.deepEqual(ok(await on(url, 'jobs', '--tube', tube, '--delete', '--yes')), ['no job matches: nothing to delete']);
});

test('a move interrupted by SIGINT halfway leaves every job in exactly one of the two tubes', async (t) => {
  const { url } = await ownServer(t);
  const client = await connectFor(t, url);
  const [from, to] = [uniqueTube('from'), uniqueTube('to')];
  const count = 20_000;
  await Promise.all(Array.from({ length: count }, (_, index) => client.putInto(from, String(index))));

  const child = spawn(process.execPath, [BIN, '--url', url, 'jobs', '--tube', from, '--move', to, '--yes'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: CHILD_MS * 6, killSignal: 'SIGKILL' });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  // There is no event for "the move has begun" but the target tube appearing (after the count,
  // which takes seconds on a loaded machine).
  await untilStats(() => client.listTubes(), (tubes) => tubes.includes(to), 'the move began', CHILD_MS * 3);
  child.kill('SIGINT');
  assert.equal(await within(exited, CHILD_MS * 3, 'the move stops'), 130, stdout);
  assert.match(stdout, new RegExp(`^moved \\d+ of ${count} jobs to tube ${to}; interrupted, \\d+ left as they were\\n$`));

  const [left, moved] = await Promise.all([client.statsTube(from), client.statsTube(to)]);
  assert.ok(left.currentJobsReady > 0 && moved.currentJobsReady > 0, `halfway: ${left.currentJobsReady} left, ${moved.currentJobsReady} moved`);
  assert.equal(left.currentJobsReady + moved.currentJobsReady, count, 'no job lost, none in both tubes');
  assert.equal((await client.stats()).currentJobsReserved, 0);
  // Every body once: reserve them all back.
  await client.watch(from);
  await client.watch(to);
  const bodies = await Promise.all(Array.from({ length: count }, () => client.reserveWithTimeout(0).then((job) => job?.body.toString())));
  assert.equal(new Set(bodies).size, count);
});

test('jobs: bad input is a usage error before anything is sent', async (t) => {
  const { url } = await ownServer(t);
  failed(await on(url, 'jobs', '--state', 'sleeping'), 2, /^beanline jobs: option '--state <state>' argument 'sleeping' is invalid/);
  failed(await on(url, 'jobs', '--limit', '0'), 2, 'beanline: --limit must be a whole number from 1, got "0"');
  failed(await on(url, 'jobs', '--tube', 'a b'), 2, /^beanline: tube "a b" is not a valid tube name/);
  failed(await on(url, 'jobs', '--kick', '--delete'), 2, 'beanline: give one of --delete, --kick and --move');
  failed(await on(url, 'jobs', '--dry-run'), 2, 'beanline: --dry-run and --yes go with --delete, --kick or --move');
  failed(await on(url, 'jobs', '--move', 'x y'), 2, /^beanline: --move "x y" is not a valid tube name/);
  failed(await on(url, 'jobs', '--delete', '--json'), 2, 'beanline: --json lists jobs; it does not go with --delete, --kick or --move');
  failed(await cli(['--url', 'beanstalk://127.0.0.1:1', 'jobs']), 3, /^beanline: .*ECONNREFUSED/);
});

test('on a terminal, a bulk action asks first: no changes nothing, y acts', { skip: NEEDS_TMUX }, async (t) => {
  const { url, client, tube } = await deadSet(t);
  const no = onTerminal(t, ['--url', url, 'jobs', '--tube', tube, '--state', 'buried', '--delete'], { x: 100, y: 10 });
  await screenUntil(no, 'the question', (lines) => lines.some((line) => line.startsWith('delete 3 jobs? [y/N]')));
  no.tmux('send-keys', '-t', 'beanline', 'n', 'Enter');
  assert.equal(await exitCode(no), '0');
  assert.ok(no.tmux('capture-pane', '-p', '-t', 'beanline').includes('nothing changed'));
  assert.equal((await client.statsTube(tube)).currentJobsBuried, 3, 'no answer, no change');

  const yes = onTerminal(t, ['--url', url, 'jobs', '--tube', tube, '--state', 'buried', '--delete'], { x: 100, y: 10 });
  await screenUntil(yes, 'the question', (lines) => lines.some((line) => line.startsWith('delete 3 jobs? [y/N]')));
  yes.tmux('send-keys', '-t', 'beanline', 'y', 'Enter');
  assert.equal(await exitCode(yes), '0');
  await screenUntil(yes, 'the outcome', (lines) => lines.some((line) => line === 'deleted 3 of 3 jobs'));
  assert.equal((await client.statsTube(tube)).currentJobsBuried, 0);
});

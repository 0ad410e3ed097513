/**
 * The `beanline` bin with several servers, against something that is not beanstalkd, and reading the
 * schedules a running Scheduler recorded: each against servers of the test's own.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { test } from 'node:test';
import { defineJob, Scheduler } from '../../src/index.js';
import { cli, failed, ok, on } from '../helpers/cli.js';
import { connectFor, ownServer, within } from '../helpers/harness.js';
import { listenLocally, uniqueTube } from '../helpers/server.js';

test('several servers: reads show each, a job id is looked for on all, put spreads', async (t) => {
  const [a, b] = await Promise.all([ownServer(t), ownServer(t)]);
  const both = `${a.url},${b.url}`;
  const [ca, cb] = await Promise.all([connectFor(t, a.url), connectFor(t, b.url)]);
  const tube = uniqueTube();
  const onA = await ca.putInto(tube, 'on a');
  await ca.putInto(tube, 'second on a');
  // The same id on both servers: the CLI cannot tell which one is meant.
  const onB = await cb.putInto(tube, 'on b');
  assert.equal(onB, onA);

  const stats = JSON.parse(ok(await cli(['--url', both, 'stats', '--json'])).join('\n')) as { server: string; currentJobsReady: number }[];
  assert.deepEqual(stats.map((one) => [one.server, one.currentJobsReady]), [[a.url, 2], [b.url, 1]]);

  const tubes = ok(await cli(['--url', a.url, '--url', b.url, 'tubes']));
  assert.match(tubes[0] ?? '', /^server +tube +ready/);
  const row = (url: string): string[] | undefined => tubes.find((line) => line.startsWith(`${url}  ${tube} `))?.split(/ +/);
  assert.deepEqual(row(a.url)?.slice(2), ['2', '0', '0', '0', '0', '0', '-', '2'], tubes.join('\n'));
  assert.deepEqual(row(b.url)?.slice(2), ['1', '0', '0', '0', '0', '0', '-', '1'], tubes.join('\n'));

  const second = onA + 1;
  assert.deepEqual(JSON.parse(ok(await cli(['--url', both, 'job', String(second), '--json'])).join('\n')).server, a.url, 'found on the one server that has it');
  failed(await cli(['--url', both, 'job', String(onA)]), 2, `beanline: job ${onA} exists on ${a.url} and ${b.url}; give the one --url it is on`);
  failed(await cli(['--url', both, 'delete', '999']), 1, 'beanline: job 999 not found on any server');

  const jobs = ok(await cli(['--url', both, 'jobs', '--tube', tube]));
  assert.equal(jobs.length, 4, jobs.join('\n'));
  assert.ok(jobs.slice(1).every((line) => line.startsWith(a.url) || line.startsWith(b.url)));

  const puts = await Promise.all([1, 2].map(() => cli(['--url', both, 'put', tube, 'spread'])));
  const servers = puts.map((run) => ok(run)[0]?.split(' ')[0]);
  assert.ok(servers.every((server) => server === a.url || server === b.url), servers.join(', '));
  assert.deepEqual(ok(await cli(['--url', both, 'kick', tube, '5'])), [`kicked 0 jobs in tube ${tube}`]);
});

test('several servers, one unreachable: reads show the others, name the lost one, and exit 3', async (t) => {
  const a = await ownServer(t);
  const run = await cli(['--url', `${a.url},beanstalk://127.0.0.1:1`, 'stats']);
  assert.equal(run.code, 3);
  assert.match(run.stdout, /^== beanstalk:\/\/127\.0\.0\.1:\d+\ncurrent-jobs-urgent:/);
  assert.match(run.stderr, /^beanline: .*127\.0\.0\.1:1.*ECONNREFUSED/);
  assert.ok(!run.stderr.includes('    at '));
});

test('a server that answers HTTP is not beanstalkd: one line, exit 3', async (t) => {
  const server = http.createServer((_request, response) => response.writeHead(400).end('Bad Request'));
  const port = await listenLocally(server);
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  failed(await on(`beanstalk://127.0.0.1:${port}`, 'stats'), 3, /^beanline: .*\(is this a beanstalkd server\?\)$/);
});

test('schedules shows what a running Scheduler recorded: plan, next tick, last tick and by whom', async (t) => {
  const { url } = await ownServer(t);
  const lockTube = uniqueTube('locks');
  const job = defineJob<{ n: number }>({ type: 'Nightly', tube: uniqueTube(), run: () => undefined });
  const scheduler = new Scheduler({ connection: url, lockTube, name: 'sched-a', leaseTtr: 2, schedules: [{ id: 'every-second', cron: '* * * * * *', job, args: { n: 1 } }] });
  t.after(() => scheduler.stop());
  const ticked = once(scheduler, 'tick');
  await scheduler.start();
  await within(ticked, 5_000, 'a first tick');
  // The record is written after the tick is put: wait for it to say so.
  let rows: { id: string; type: string; cron: string; timezone: string; misfire: string; next: string; last: { by: string; tick: string } | null }[] = [];
  const deadline = Date.now() + 5_000;
  do rows = JSON.parse(ok(await on(url, 'schedules', '--lock-tube', lockTube, '--json')).join('\n')) as typeof rows;
  while (rows[0]?.last === null && Date.now() < deadline);
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.deepEqual([row?.id, row?.type, row?.cron, row?.timezone, row?.misfire, row?.last?.by], ['every-second', 'Nightly', '* * * * * *', 'UTC', 'skip', 'sched-a']);
  assert.ok(Date.parse(row?.next ?? '') > Date.parse(row?.last?.tick ?? ''), 'the next tick comes after the last');

  const text = ok(await on(url, 'schedules', '--lock-tube', lockTube));
  assert.match(text[0] ?? '', /^schedule +type +cron +next tick +last tick +by$/);
  assert.match(text[1] ?? '', /^every-second +Nightly +\* \* \* \* \* \* \(UTC\) +\S+Z( \(overdue\))? +\S+Z +sched-a$/);
  const all = JSON.parse(ok(await on(url, 'schedules', '--json')).join('\n')) as { lockTube: string; id: string }[];
  assert.deepEqual(all.map((one) => [one.lockTube, one.id]), [[lockTube, 'every-second']], 'without --lock-tube, every recorded lock tube is read');
  failed(await on(url, 'schedules', '--lock-tube', 'other.schedules'), 1, 'beanline: no schedules recorded for lockTube other.schedules');
});

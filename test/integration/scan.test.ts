/**
 * The job scan and bulk actions of observe/ against a real server: where the scan stops, what it
 * costs when nothing matches, and a move that meets a job a worker reserved after the count.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bulkAction } from '../../src/observe/bulk.js';
import { scanJobs, type ScannedJob, type ScanProgress } from '../../src/observe/scan.js';
import { connectFor, ownServer } from '../helpers/harness.js';
import { uniqueTube } from '../helpers/server.js';

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test('the scan stops once it has seen as many jobs as the tube holds: older ids are never asked about', async (t) => {
  const { url } = await ownServer(t);
  const client = await connectFor(t, url);
  const [old, recent] = [uniqueTube('old'), uniqueTube('recent')];
  await Promise.all(Array.from({ length: 1000 }, (_, index) => client.putInto(old, `old ${index}`)));
  const ids = await Promise.all(Array.from({ length: 10 }, (_, index) => client.putInto(recent, `recent ${index}`)));
  const progress: ScanProgress[] = [];
  const jobs = await all(scanJobs(client, { filter: { tube: recent }, batch: 10, onProgress: (step) => progress.push(step) }));
  assert.deepEqual(jobs.map((job) => job.id), [...ids].reverse(), 'every job of the tube, newest first');
  assert.deepEqual(jobs.map((job) => job.body.toString()).at(-1), 'recent 0');
  const last = progress.at(-1);
  assert.ok(last !== undefined && last.scanned <= 20, `asked about ${last?.scanned} ids of ${last?.total}`);
  assert.ok(last.total >= 1010);
});

test('a filter nothing can match costs one stats-tube: no probe job is put', async (t) => {
  const { url } = await ownServer(t);
  const client = await connectFor(t, url);
  const tube = uniqueTube();
  await client.putInto(tube, 'ready');
  const before = await client.stats();
  assert.deepEqual(await all(scanJobs(client, { filter: { tube, state: 'buried' } })), []);
  assert.deepEqual(await all(scanJobs(client, { filter: { tube: 'no-such-tube' } })), []);
  const after = await client.stats();
  assert.equal(after.totalJobs, before.totalJobs, 'nothing was put');
});

test('the states the scan reports, reserved included; type and text look into bodies', async (t) => {
  const { url } = await ownServer(t);
  const client = await connectFor(t, url);
  const tube = uniqueTube();
  await client.watch(tube);
  const reserved = await client.putInto(tube, 'held');
  await client.reserveJob(reserved);
  const delayed = await client.putInto(tube, 'later', { delay: 600 });
  const ready = await client.putInto(tube, JSON.stringify({ jid: 'j', type: 'Mail', args: [], tube, createdAt: 'c', enqueuedAt: 'e', retry: 0, priority: 1, ttr: 60 }));
  const states = (await all(scanJobs(client, { filter: { tube } }))).map((job) => [job.id, job.stats.state, job.envelope?.type ?? null]);
  assert.deepEqual(states, [
    [ready, 'ready', 'Mail'],
    [delayed, 'delayed', null],
    [reserved, 'reserved', null],
  ]);
  assert.deepEqual((await all(scanJobs(client, { filter: { type: 'Mail' } }))).map((job) => job.id), [ready]);
  assert.deepEqual((await all(scanJobs(client, { filter: { grep: 'late' } }))).map((job) => job.id), [delayed]);
  assert.deepEqual((await all(scanJobs(client, { filter: { tube }, limit: 1 }))).map((job) => job.id), [ready]);
});

test('a move meets a job a worker reserved after the count: that job stays where it is and is not copied', async (t) => {
  const { url } = await ownServer(t);
  const [client, worker] = await Promise.all([connectFor(t, url), connectFor(t, url)]);
  const [from, to] = [uniqueTube('from'), uniqueTube('to')];
  const ids = await Promise.all(['a', 'b', 'c'].map((body) => client.putInto(from, body, { priority: 7, ttr: 40 })));
  const counted: ScannedJob[] = await all(scanJobs(client, { filter: { tube: from } }));
  await worker.reserveJob(ids[1] ?? 0);

  // The reserve is after the count: the move sees the job reserved and passes over it.
  assert.deepEqual(await bulkAction(client, { kind: 'move', tube: to }, counted, { filter: { tube: from } }), { done: 2, skipped: 1 });
  const [left, moved] = await Promise.all([client.statsTube(from), client.statsTube(to)]);
  assert.deepEqual([left.currentJobsReserved, left.currentJobsReady, moved.currentJobsReady, moved.totalJobs], [1, 0, 2, 2]);
  const copies = await all(scanJobs(client, { filter: { tube: to } }));
  assert.deepEqual(copies.map((job) => [job.body.toString(), job.stats.pri, job.stats.ttr]).sort(), [['a', 7, 40], ['c', 7, 40]]);
});

test('a page of a big tube asks about a few hundred ids and peeks no more bodies than a chunk', async (t) => {
  const { url } = await ownServer(t);
  const client = await connectFor(t, url);
  const tube = uniqueTube();
  await Promise.all(Array.from({ length: 5000 }, (_, index) => client.putInto(tube, String(index))));
  const before = await client.stats();
  const page = await all(scanJobs(client, { filter: { tube }, limit: 50 }));
  const after = await client.stats();
  assert.deepEqual(page.map((job) => job.body.toString()), Array.from({ length: 50 }, (_, index) => String(4999 - index)));
  // The first batch is 250 ids and the next (500) is already asked for; of 250 matches, bodies are
  // fetched a chunk (200) at a time until the limit.
  assert.ok(after.cmdStatsJob - before.cmdStatsJob <= 750, `${after.cmdStatsJob - before.cmdStatsJob} stats-job`);
  assert.ok(after.cmdPeek - before.cmdPeek <= 200, `${after.cmdPeek - before.cmdPeek} peeks`);
});

/**
 * takeSnapshot (src/observe/snapshot.ts) against real servers: every tube with its stats, a tube
 * that vanishes between list-tubes and its stats-tube left out, and servers that are gone or
 * silent reported down with why, never thrown.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../src/client.js';
import { takeSnapshot } from '../../src/observe/snapshot.js';
import { fakeServer } from '../helpers/fake-server.js';
import { connectFor, ownServer } from '../helpers/harness.js';
import { uniqueTube } from '../helpers/server.js';

test('a snapshot holds the server stats and every tube with its counts', async (t) => {
  const server = await ownServer(t);
  const client = await connectFor(t, server.url);
  const tube = uniqueTube('snap');
  await Promise.all([client.putInto(tube, 'a'), client.putInto(tube, 'b', { delay: 600 })]);
  const before = Date.now();
  const snapshot = await takeSnapshot([{ url: server.url, client }]);
  assert.ok(snapshot.at >= before && snapshot.at <= Date.now());
  const [one] = snapshot.servers;
  assert.ok(one?.up === true, JSON.stringify(one));
  assert.equal(one.url, server.url);
  assert.equal(one.stats.totalJobs, 2);
  assert.deepEqual(one.tubes.map((stats) => stats.name).sort(), ['default', tube].sort());
  const mine = one.tubes.find((stats) => stats.name === tube);
  assert.deepEqual([mine?.currentJobsReady, mine?.currentJobsDelayed, mine?.totalJobs], [1, 1, 2]);
});

test('a tube gone between list-tubes and its stats-tube is left out, not an error', async (t) => {
  const server = await ownServer(t);
  const client = await connectFor(t, server.url);
  const tube = uniqueTube('vanishing');
  // The tube lives only while this client uses it.
  await client.use(tube);
  const taking = takeSnapshot([{ url: server.url, client }]);
  // takeSnapshot has sent stats and list-tubes; this goes after them on the same connection and
  // before the stats-tubes, which are sent once the list is in: the tube is gone by then.
  await client.use('default');
  const [one] = (await taking).servers;
  assert.ok(one?.up === true, JSON.stringify(one));
  assert.deepEqual(one.tubes.map((stats) => stats.name), ['default']);
});

test('servers are asked together; one that is gone or silent is down with why, the others are up', async (t) => {
  const live = await ownServer(t);
  const gone = await ownServer(t);
  const silent = await fakeServer(t, () => undefined);
  const liveClient = await connectFor(t, live.url);
  const goneClient = await connectFor(t, gone.url);
  const silentUrl = `beanstalk://127.0.0.1:${silent.port}`;
  const silentClient = await connectFor(t, silentUrl);
  await gone.kill();
  const snapshot = await takeSnapshot(
    [
      { url: live.url, client: liveClient },
      { url: gone.url, client: goneClient },
      { url: silentUrl, client: silentClient },
    ],
    { timeoutMs: 300 },
  );
  assert.deepEqual(snapshot.servers.map((server) => [server.url, server.up]), [[live.url, true], [gone.url, false], [silentUrl, false]]);
  const [, down, quiet] = snapshot.servers;
  assert.ok(down?.up === false && down.error.length > 0, JSON.stringify(down));
  assert.ok(quiet?.up === false, JSON.stringify(quiet));
  assert.equal(quiet.error, `${silentUrl}: no reply within 300 ms`);
});

test('a reconnecting client is down at once rather than queueing the commands', async (t) => {
  const server = await ownServer(t);
  const client = await Client.connect({ port: server.port, host: server.host, reconnect: { minDelayMs: 60_000 } });
  t.after(() => client.destroy());
  const lost = new Promise((resolve) => client.once('reconnecting', resolve));
  await server.kill();
  await lost;
  const started = Date.now();
  const [one] = (await takeSnapshot([{ url: server.url, client }])).servers;
  assert.deepEqual(one, { url: server.url, up: false, error: 'not connected (reconnecting)' });
  assert.ok(Date.now() - started < 1000, 'answered without waiting for the reconnect');
});

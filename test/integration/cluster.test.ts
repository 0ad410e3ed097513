/**
 * Cluster: several beanstalkd servers used as one producer. Each test starts its own servers on
 * free ports, and breaks them for real (SIGKILL, SIGSTOP) where it tests failures.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  Client,
  Cluster,
  ConnectionError,
  defineJob,
  DrainingError,
  enqueue,
  InvalidArgumentError,
  NotFoundError,
  type DrainProgress,
  type JobRef,
  type JobState,
} from '../../src/index.js';
import { fnv1a, owner } from '../../src/cluster/hash.js';
import { connectOnTube } from '../helpers/assertions.js';
import {
  BOUND,
  clusterFor,
  countByServer,
  isInFlightFailure,
  jobsOn,
  keepPutting,
  nextEvent,
  ownServers,
} from '../helpers/cluster.js';
import { rejection, within } from '../helpers/harness.js';
import { freePort, startServer, uniqueTube } from '../helpers/server.js';

/** Retries quick enough for a test to see a server come back without waiting seconds. */
const QUICK_RETRY = { minDelayMs: 20, maxDelayMs: 250 };
/** Owners of order-1..12 over the three URLs of the pinned test, as first computed: a change here re-maps keys. */
const PINNED_OWNERS = [1, 1, 2, 1, 1, 1, 2, 0, 0, 1, 0, 0];

/** Reserves and deletes every ready job of `tube` on one server; resolves with their bodies in order. */
async function takeAll(url: string, tube: string): Promise<string[]> {
  const client = await connectOnTube(url, tube);
  try {
    const bodies: string[] = [];
    for (let job = await client.reserveWithTimeout(0); job !== null; job = await client.reserveWithTimeout(0)) {
      bodies.push(job.body.toString());
      await client.delete(job.id);
    }
    return bodies;
  } finally {
    await client.close();
  }
}

test('the key hash is pinned: FNV-1a and rendezvous scores do not change between versions', () => {
  // FNV-1a's published test vectors: producers on two versions must send a key to the same server.
  assert.deepEqual([fnv1a(''), fnv1a('a'), fnv1a('foobar')], [0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
  const urls = ['beanstalk://10.0.0.1:11300', 'beanstalk://10.0.0.2:11300', 'beanstalk://10.0.0.3:11300'];
  const hashes = urls.map(fnv1a);
  assert.deepEqual(PINNED_OWNERS.map((_, index) => owner(hashes, `order-${index + 1}`)), PINNED_OWNERS);
  const keys = Array.from({ length: 30_000 }, (_, index) => `key-${index}`);
  const owners = keys.map((key) => owner(hashes, key));
  for (const index of [0, 1, 2]) {
    const count = owners.filter((one) => one === index).length;
    assert.ok(Math.abs(count - 10_000) < 500, `${urls[index]} owns ${count} of 30,000 keys`);
  }
  // Without the third server, only its keys move.
  const two = hashes.slice(0, 2);
  keys.forEach((key, index) => {
    if (owners[index] !== 2) assert.equal(owner(two, key), owners[index], key);
  });
});

test('3,000 puts spread within 10% across three servers', async (t) => {
  const servers = await ownServers(t, 3);
  const cluster = await clusterFor(t, servers.map((server) => server.url));
  const tube = uniqueTube('spread');
  const refs = await within(
    Promise.all(Array.from({ length: 3000 }, (_, index) => cluster.put(`job ${index}`, { tube }))),
    BOUND,
    '3,000 puts',
  );
  const counts = countByServer(refs);
  const stats = await cluster.statsTube(tube);
  assert.equal(stats.currentJobsReady, 3000);
  for (const server of servers) {
    const count = counts.get(server.url) ?? 0;
    assert.ok(count >= 900 && count <= 1100, `${server.url} got ${count} of 3,000`);
    const own = stats.byServer[server.url];
    assert.ok(own?.up === true && own.stats !== null);
    assert.equal(own.stats.currentJobsReady, count, 'the server holds what its refs say');
  }
});

test('puts with a key land on one server, in order; keys spread over the servers', async (t) => {
  const servers = await ownServers(t, 3);
  const cluster = await clusterFor(t, servers.map((server) => server.url));
  const tube = uniqueTube('keyed');
  const keys = Array.from({ length: 30 }, (_, index) => `customer-${index}`);
  // Interleaved and all in flight at once, as a busy producer would issue them.
  const puts: Promise<JobRef>[] = [];
  for (let seq = 0; seq < 40; seq += 1) for (const key of keys) puts.push(cluster.put(`${key}:${seq}`, { tube, key }));
  const refs = await within(Promise.all(puts), BOUND, 'keyed puts');
  const serverOf = new Map<string, string>();
  refs.forEach((ref, index) => {
    const key = keys[index % keys.length] as string;
    const seen = serverOf.get(key);
    if (seen === undefined) serverOf.set(key, ref.server);
    else assert.equal(ref.server, seen, `every job of ${key} on one server`);
  });
  assert.equal(new Set(serverOf.values()).size, 3, '30 keys use all three servers');
  for (const server of servers) {
    const order = new Map<string, number>();
    for (const body of await takeAll(server.url, tube)) {
      const [key, seq] = body.split(':') as [string, string];
      assert.equal(serverOf.get(key), server.url);
      assert.ok(Number(seq) > (order.get(key) ?? -1), `${key}: ${seq} reserved after ${order.get(key)}`);
      order.set(key, Number(seq));
    }
  }
});

test('enqueue and definition.enqueue on a cluster resolve with the server', async (t) => {
  const servers = await ownServers(t, 3);
  const cluster = await clusterFor(t, servers.map((server) => server.url));
  const tube = uniqueTube('enqueue');
  const sendEmail = defineJob<{ to: string }>({ type: 'send-email', tube, run: () => undefined });
  const placed = [
    await enqueue(cluster, 'send-email', { to: 'a@example.com' }, { tube }),
    await sendEmail.enqueue(cluster, { to: 'b@example.com' }),
    await sendEmail.enqueue(cluster, { to: 'c@example.com' }, { key: 'c' }),
  ];
  const urls = servers.map((server) => server.url);
  for (const enqueued of placed) {
    assert.ok(enqueued.server !== undefined && urls.includes(enqueued.server), `server ${enqueued.server}`);
    const job = await cluster.peek({ server: enqueued.server, id: enqueued.id });
    assert.ok(job !== null);
    assert.equal(JSON.parse(job.body.toString()).jid, enqueued.jid, 'the ref names the enqueued job');
  }
  assert.equal(new Set(placed.slice(0, 2).map((enqueued) => enqueued.server)).size, 2, 'round-robin: two servers');
});

test('stats and statsTube sum over the servers that answer, with each server in byServer', async (t) => {
  const servers = await ownServers(t, 3);
  const cluster = await clusterFor(t, servers.map((server) => server.url));
  const tube = uniqueTube('stats');
  const counts = [5, 7, 9];
  for (const [index, server] of servers.entries()) {
    const client = await connectOnTube(server.url, tube);
    await Promise.all(Array.from({ length: counts[index] as number }, () => client.put('x')));
    await client.close();
  }
  const stats = await cluster.stats();
  assert.equal(stats.currentJobsReady, 21);
  assert.equal(stats.totalJobs, 21);
  assert.ok(!('pid' in stats) && !('maxJobSize' in stats), 'figures of one server are not summed');
  const tubeStats = await cluster.statsTube(tube);
  assert.equal(tubeStats.name, tube);
  assert.equal(tubeStats.currentJobsReady, 21);
  for (const [index, server] of servers.entries()) {
    const own = stats.byServer[server.url];
    assert.ok(own?.up === true);
    assert.equal(own.stats.currentJobsReady, counts[index]);
  }
  await assert.rejects(cluster.statsTube(uniqueTube('none')), NotFoundError);

  const [, , third] = servers as [never, never, (typeof servers)[number]];
  const down = nextEvent(cluster, 'server:down', 'the killed server marked down');
  await third.kill();
  assert.equal((await down).server, third.url);
  const partial = await cluster.stats();
  assert.equal(partial.currentJobsReady, 12, 'the sums of the two that answered');
  const gone = partial.byServer[third.url];
  assert.ok(gone?.up === false && gone.error instanceof ConnectionError, 'the down server, and why');
  assert.equal((await cluster.statsTube(tube)).currentJobsReady, 12);
});

test('peek, statsJob and delete go where the JobRef says; a JobRef of another server is refused unsent', async (t) => {
  const servers = await ownServers(t, 3);
  const cluster = await clusterFor(t, servers.map((server) => server.url));
  const refs = [await cluster.put('first'), await cluster.put('second'), await cluster.put('third')];
  // Fresh servers: the same id on each, so only the server tells the jobs apart.
  assert.deepEqual(refs.map((ref) => ref.id), [1, 1, 1]);
  assert.deepEqual(new Set(refs.map((ref) => ref.server)), new Set(servers.map((server) => server.url)));
  for (const [index, ref] of refs.entries()) {
    assert.equal((await cluster.peek(ref))?.body.toString(), ['first', 'second', 'third'][index]);
    assert.equal((await cluster.statsJob(ref)).state, 'ready');
  }
  await cluster.delete(refs[1] as JobRef);
  assert.equal(await cluster.peek(refs[1] as JobRef), null);
  await assert.rejects(cluster.delete(refs[1] as JobRef), NotFoundError);
  assert.equal((await cluster.stats()).currentJobsReady, 2);

  const before = await cluster.stats();
  const stranger = `beanstalk://127.0.0.1:${await freePort()}`;
  for (const bad of [
    () => cluster.peek({ server: stranger, id: 1 }),
    () => cluster.statsJob({ server: stranger, id: 1 }),
    () => cluster.delete({ server: stranger, id: 1 }),
    () => cluster.peek({ server: servers[0]?.url as string, id: 0 }),
    () => cluster.put('x', { priority: -1 }),
    () => cluster.put('x', { key: 7 as unknown as string }),
    () => cluster.put('x', { tube: '-bad' }),
    () => cluster.kick('default', 1.5),
  ]) {
    await assert.rejects(bad(), InvalidArgumentError);
  }
  const after = await cluster.stats();
  assert.deepEqual(
    [after.cmdPeek, after.cmdStatsJob, after.cmdDelete, after.cmdPut, after.cmdKick],
    [before.cmdPeek, before.cmdStatsJob, before.cmdDelete, before.cmdPut, before.cmdKick],
    'nothing was sent',
  );
});

test('kick goes to every server, up to the bound in all', async (t) => {
  const servers = await ownServers(t, 3);
  const cluster = await clusterFor(t, servers.map((server) => server.url));
  const tube = uniqueTube('kick');
  const refs = await Promise.all(Array.from({ length: 9 }, () => cluster.put('later', { tube, delay: 600 })));
  assert.equal(countByServer(refs).size, 3);
  assert.equal(await cluster.kick(tube, 4), 4, 'no more than the bound');
  assert.equal(await cluster.kick(tube, 100), 5, 'the rest, from every server');
  assert.equal((await cluster.statsTube(tube)).currentJobsReady, 9);
});

test('connect: a server down at start is retried in the background; none up rejects', async (t) => {
  const [server] = await ownServers(t, 1);
  const live = (server as { url: string }).url;
  const port = await freePort();
  const dead = `beanstalk://127.0.0.1:${port}`;
  const cluster = await clusterFor(t, { servers: [live, dead], retry: QUICK_RETRY });
  assert.deepEqual(
    cluster.status.map((status) => [status.url, status.up]),
    [[live, true], [dead, false]],
  );
  assert.ok(cluster.status[1]?.error instanceof ConnectionError, 'why it is down');
  const refs = await Promise.all(Array.from({ length: 20 }, () => cluster.put('x')));
  assert.deepEqual([...countByServer(refs).keys()], [live], 'puts go to the one that is up');

  // A key owned by the down server is refused, not sent elsewhere; others go to their server.
  const keyed = await Promise.allSettled(Array.from({ length: 20 }, (_, index) => cluster.put('k', { key: `key-${index}` })));
  const refused = keyed.filter((outcome) => outcome.status === 'rejected');
  assert.ok(refused.length > 0 && refused.length < 20, `${refused.length} of 20 keys belong to the down server`);
  for (const outcome of refused) {
    const error = outcome.reason as unknown;
    assert.ok(error instanceof ConnectionError && !error.maybeApplied, `a key's put refused unsent: ${String(error)}`);
  }

  // It comes up on its port: used from then on.
  const up = nextEvent(cluster, 'server:up', 'the late server coming up');
  const late = await startServer({ port });
  t.after(() => late.kill());
  assert.equal((await up).server, dead);
  const spread = await Promise.all(Array.from({ length: 20 }, () => cluster.put('x')));
  assert.equal(countByServer(spread).get(dead), 10);
  const again = await Promise.all(Array.from({ length: 20 }, (_, index) => cluster.put('k', { key: `key-${index}` })));
  assert.equal(again.length, 20, 'every key is taken once its server is up');

  await late.kill();
  await server?.kill();
  const none = await rejection(Cluster.connect([live, dead]), BOUND, 'connect with no server up');
  assert.ok(none instanceof ConnectionError, String(none));
  assert.match(none.message, new RegExp(`${port}`));
});

test('connect with no argument reads $BEANSTALKD_URL as a comma-separated list', async (t) => {
  const servers = await ownServers(t, 2);
  const saved = process.env['BEANSTALKD_URL'];
  process.env['BEANSTALKD_URL'] = servers.map((server) => server.url).join(',');
  let cluster: Cluster;
  try {
    cluster = await within(Cluster.connect(), BOUND, 'Cluster.connect()');
  } finally {
    if (saved === undefined) delete process.env['BEANSTALKD_URL'];
    else process.env['BEANSTALKD_URL'] = saved;
  }
  await using closing = cluster;
  assert.deepEqual(
    closing.status.map((status) => status.url),
    servers.map((server) => server.url),
  );
  await assert.rejects(Cluster.connect({ servers: [] }), InvalidArgumentError);
  await assert.rejects(Cluster.connect([servers[0]?.url as string, servers[0]?.url as string]), InvalidArgumentError);
});

test('exclude and include: only the excluded server\'s keys move; addServer and removeServer', async (t) => {
  const servers = await ownServers(t, 4);
  const [a, b, c, d] = servers as [(typeof servers)[number], (typeof servers)[number], (typeof servers)[number], (typeof servers)[number]];
  const cluster = await clusterFor(t, [a.url, b.url, c.url]);
  const keys = Array.from({ length: 60 }, (_, index) => `order-${index}`);
  const place = async (): Promise<string[]> =>
    (await Promise.all(keys.map((key) => cluster.put('x', { key })))).map((ref) => ref.server);
  const before = await place();
  cluster.exclude(c.url);
  const excluded = await place();
  keys.forEach((key, index) => {
    if (before[index] === c.url) assert.notEqual(excluded[index], c.url, `${key} leaves the excluded server`);
    else assert.equal(excluded[index], before[index], `${key} stays where it was`);
  });
  const spread = await Promise.all(Array.from({ length: 10 }, () => cluster.put('x')));
  assert.ok(!countByServer(spread).has(c.url), 'no put goes to an excluded server');
  cluster.include(c.url);
  assert.deepEqual(await place(), before, 'back as before');

  await cluster.addServer(d.url);
  assert.equal(cluster.status.length, 4);
  const withD = await place();
  keys.forEach((key, index) => {
    if (withD[index] !== d.url) assert.equal(withD[index], before[index], `${key} moves only to the new server`);
  });
  assert.ok(withD.includes(d.url), 'some keys move to the new server');
  const ref = (await Promise.all(Array.from({ length: 4 }, () => cluster.put('x')))).find((one) => one.server === d.url);
  assert.ok(ref !== undefined, 'puts reach the added server');
  await cluster.removeServer(d.url);
  await assert.rejects(cluster.peek(ref), InvalidArgumentError);
  assert.deepEqual(await place(), before);
});

test('a killed server: puts after the failure is known all succeed; in-flight ones fail as maybe applied; back after restart', async (t) => {
  const servers = await ownServers(t, 3);
  const [, victim] = servers as [never, (typeof servers)[number]];
  const cluster = await clusterFor(t, { servers: servers.map((server) => server.url), retry: QUICK_RETRY });
  const tube = uniqueTube('kill');
  const producer = keepPutting(cluster, tube, 50);
  try {
    await producer.reached(500);
    const down = nextEvent(cluster, 'server:down', 'the killed server marked down');
    await victim.kill('SIGKILL');
    assert.equal((await down).server, victim.url);
    // The failure is known: every put from now on goes to the other two.
    const after = await Promise.allSettled(Array.from({ length: 300 }, () => cluster.put('after', { tube })));
    const refs = after.map((outcome) => {
      assert.equal(outcome.status, 'fulfilled', `a put after the failure was known failed: ${String((outcome as PromiseRejectedResult).reason)}`);
      return (outcome as PromiseFulfilledResult<JobRef>).value;
    });
    assert.ok(!countByServer(refs).has(victim.url));
    assert.equal(countByServer(refs).size, 2);
  } finally {
    await producer.stop();
  }
  // Puts that were on the wire when it died: rejected, never re-sent, marked as maybe applied.
  for (const error of producer.failed) assert.ok(isInFlightFailure(error), `an in-flight put failed with ${String(error)}`);
  t.diagnostic(`${producer.failed.length} put(s) in flight when the server died were rejected as maybe applied`);

  const up = nextEvent(cluster, 'server:up', 'the restarted server back');
  const restarted = await startServer({ port: victim.port });
  t.after(() => restarted.kill());
  assert.equal((await up).server, victim.url);
  const spread = await Promise.all(Array.from({ length: 30 }, () => cluster.put('back', { tube })));
  assert.equal(countByServer(spread).get(victim.url), 10, 'used again, in turn');
});

test('a server in drain mode: puts it refuses with DRAINING go to the others, and it stays down', async (t) => {
  const servers = await ownServers(t, 3);
  const [, draining] = servers as [never, (typeof servers)[number]];
  const cluster = await clusterFor(t, { servers: servers.map((server) => server.url), retry: QUICK_RETRY });
  const tube = uniqueTube('draining');
  const down = nextEvent(cluster, 'server:down', 'the draining server marked down');
  draining.drain();
  // Refused unstored, so each may go elsewhere: none of these fails, however the signal lands.
  const refs: JobRef[] = [];
  while (cluster.status[1]?.up === true) refs.push(...(await Promise.all(Array.from({ length: 30 }, () => cluster.put('x', { tube })))));
  const { error } = await down;
  assert.ok(error instanceof DrainingError, String(error));
  const after = await Promise.all(Array.from({ length: 30 }, () => cluster.put('x', { tube })));
  assert.ok(!countByServer(after).has(draining.url));
  const stats = await cluster.statsTube(tube);
  assert.equal(stats.currentJobsReady, refs.length + after.length, 'every put stored once');
  const direct = await Client.connect(draining.url);
  t.after(() => direct.destroy());
  assert.equal((await direct.stats()).currentJobsReady, countByServer(refs).get(draining.url) ?? 0, 'nothing stored twice');
  // Its retries find it still in drain mode (a server leaves it only by restarting): it stays down.
  // The server is the only witness of the attempts: each asks it for `stats` (as does this check, once).
  const first = (await direct.stats()).cmdStats;
  const deadline = Date.now() + BOUND;
  for (let checks = 1; (await direct.stats()).cmdStats - first - checks < 2; checks += 1) {
    assert.ok(Date.now() < deadline, 'the cluster tried the draining server again');
  }
  assert.equal(cluster.status[1]?.up, false);
});

test('a stopped server (SIGSTOP) is marked down within the documented bound, idle or busy, and used again after SIGCONT', async (t) => {
  const servers = await ownServers(t, 3);
  const [, victim] = servers as [never, (typeof servers)[number]];
  const pid = victim.pid as number;
  // The defaults: commandTimeoutMs 2,000 and healthCheckMs 1,000.
  const cluster = await clusterFor(t, { servers: servers.map((server) => server.url), retry: QUICK_RETRY });
  const tube = uniqueTube('stop');
  const SLACK = 750;
  try {
    // Idle: only the health check can notice. Bound: healthCheckMs + commandTimeoutMs * 1.25.
    const idleDown = nextEvent(cluster, 'server:down', 'the idle stopped server marked down');
    let stoppedAt = performance.now();
    process.kill(pid, 'SIGSTOP');
    assert.equal((await idleDown).server, victim.url);
    const idleMs = performance.now() - stoppedAt;
    assert.ok(idleMs <= 3500 + SLACK, `marked down after ${Math.round(idleMs)} ms idle`);
    let up = nextEvent(cluster, 'server:up', 'the server back after SIGCONT');
    process.kill(pid, 'SIGCONT');
    assert.equal((await up).server, victim.url);

    // Busy: the puts on the wire time out. Bound: commandTimeoutMs * 1.25.
    const producer = keepPutting(cluster, tube, 20);
    let busyMs: number;
    try {
      await producer.reached(200);
      const busyDown = nextEvent(cluster, 'server:down', 'the busy stopped server marked down');
      stoppedAt = performance.now();
      process.kill(pid, 'SIGSTOP');
      assert.equal((await busyDown).server, victim.url);
      busyMs = performance.now() - stoppedAt;
      const after = await Promise.all(Array.from({ length: 100 }, () => cluster.put('after', { tube })));
      assert.ok(!countByServer(after).has(victim.url), 'puts carry on with the others');
    } finally {
      await producer.stop();
    }
    assert.ok(busyMs <= 2500 + SLACK, `marked down after ${Math.round(busyMs)} ms with puts in flight`);
    for (const error of producer.failed) assert.ok(isInFlightFailure(error), `a put on the stopped server failed with ${String(error)}`);
    t.diagnostic(`idle: down after ${Math.round(idleMs)} ms; busy: ${Math.round(busyMs)} ms, ${producer.failed.length} put(s) in flight failed`);

    up = nextEvent(cluster, 'server:up', 'the server back after the second SIGCONT');
    process.kill(pid, 'SIGCONT');
    assert.equal((await up).server, victim.url);
    const spread = await Promise.all(Array.from({ length: 30 }, () => cluster.put('back', { tube })));
    assert.equal(countByServer(spread).get(victim.url), 10, 'used again');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
});

interface Expected {
  readonly body: Buffer;
  readonly tube: string;
  readonly state: Exclude<JobState, 'reserved'>;
  readonly priority: number;
  readonly ttr: number;
  readonly delay: number;
}

const DRAIN_JOBS = 10_000;

test(`drainServer moves ${DRAIN_JOBS.toLocaleString('en')} ready, delayed and buried jobs with a worker running: each once, in its state, byte for byte`, async (t) => {
  const servers = await ownServers(t, 3);
  const [source, ...others] = servers as [(typeof servers)[number], ...typeof servers];
  const cluster = await clusterFor(t, servers.map((server) => server.url));
  const tubes = [uniqueTube('drain-a'), uniqueTube('drain-b'), uniqueTube('drain-c')];
  const [workTube] = tubes as [string];

  // The jobs, put straight onto the server to drain: bodies of every byte value, CRLF and NUL included.
  const expected: Expected[] = Array.from({ length: DRAIN_JOBS }, (_, index) => {
    const state = index % 10 < 6 ? 'ready' : index % 10 < 8 ? 'delayed' : 'buried';
    const body = Buffer.concat([Buffer.from(`${index}\0`), randomBytes(index % 300), Buffer.from('\r\n')]);
    return { body, tube: tubes[index % 3] as string, state, priority: (index % 7) * 100, ttr: 30 + (index % 5), delay: state === 'delayed' ? 300 + (index % 500) : 0 };
  });
  const filler = await Client.connect(source.url);
  const putAt = Date.now();
  await Promise.all(
    expected.map(async (job) => {
      const delay = job.state === 'ready' ? 0 : job.state === 'delayed' ? job.delay : 3600;
      const id = await filler.put(job.body, { tube: job.tube, priority: job.priority, ttr: job.ttr, delay });
      if (job.state === 'buried') await Promise.all([filler.reserveJob(id), filler.bury(id, job.priority)]);
    }),
  );
  await filler.close();

  // A worker on the drained server, taking ready jobs of one tube while the drain runs.
  const worker = await connectOnTube(source.url, workTube);
  const handled: Buffer[] = [];
  let working = true;
  const workerLoop = (async () => {
    while (working) {
      const job = await worker.reserveWithTimeout(1);
      if (job === null) continue;
      handled.push(job.body);
      await worker.delete(job.id);
    }
  })();

  const progress: DrainProgress[] = [];
  const started = performance.now();
  const during: Promise<JobRef>[] = [];
  const result = await within(
    cluster.drainServer(source.url, {
      onProgress: (step) => {
        progress.push(step);
        // Puts issued while the drain runs never go to the server being drained.
        if (step.moved % 1000 === 0) during.push(cluster.put('during', { tube: 'during' }));
      },
    }),
    30_000,
    'drainServer',
  );
  const drainMs = performance.now() - started;
  working = false;
  await within(workerLoop, BOUND, 'the worker stopping');
  await worker.close();
  t.diagnostic(`drained ${result.moved} jobs in ${Math.round(drainMs)} ms; the worker handled ${handled.length}`);

  assert.ok(!countByServer(await Promise.all(during)).has(source.url), 'no put went to the server being drained');
  assert.equal(result.duplicated, 0);
  assert.equal(result.remaining, 0);
  assert.ok(result.reserved <= 1, `reserved by the worker at the end: ${result.reserved}`);
  assert.equal(progress.at(-1)?.moved, result.moved);
  const total = progress[0]?.total ?? 0;
  assert.ok(total <= DRAIN_JOBS && total >= DRAIN_JOBS - handled.length - 1, `total ${total}: the jobs not yet taken by the worker`);

  // The drained server holds nothing now the worker has stopped.
  const left = (await cluster.stats()).byServer[source.url];
  assert.ok(left?.up === true);
  assert.deepEqual(
    [left.stats.currentJobsReady, left.stats.currentJobsDelayed, left.stats.currentJobsBuried, left.stats.currentJobsReserved],
    [0, 0, 0, 0],
    'the drained server is empty',
  );

  // Every job is once on another server, in its state, or was handled by the worker: never both, never neither.
  const seen = new Map<number, string>();
  const counted = { ready: 0, delayed: 0, buried: 0 };
  const found = await Promise.all(others.map(async (other) => ({ url: other.url, jobs: await jobsOn(other.url) })));
  // Taken after the reading, which takes seconds on a loaded machine: each delay counted down meanwhile.
  const elapsed = Math.ceil((Date.now() - putAt) / 1000);
  for (const other of found) {
    for (const job of other.jobs) {
      if (job.stats.tube === 'during') continue;
      const index = Number(job.body.subarray(0, job.body.indexOf(0)).toString());
      const want = expected[index];
      assert.ok(want !== undefined, `a job on ${other.url} that was not put: ${job.body.subarray(0, 20).toString()}`);
      assert.ok(!seen.has(index), `job ${index} on ${seen.get(index)} and on ${other.url}`);
      seen.set(index, other.url);
      assert.ok(job.body.equals(want.body), `job ${index}: the body is byte-identical`);
      assert.deepEqual(
        { tube: job.stats.tube, state: job.stats.state, priority: job.stats.pri, ttr: job.stats.ttr },
        { tube: want.tube, state: want.state, priority: want.priority, ttr: want.ttr },
        `job ${index}`,
      );
      if (want.state === 'delayed') {
        assert.ok(
          job.stats.timeLeft <= want.delay + 1 && job.stats.timeLeft >= want.delay - elapsed - 1,
          `job ${index}: ${job.stats.timeLeft} s left of a ${want.delay} s delay put ${elapsed} s ago`,
        );
      }
      counted[want.state] += 1;
    }
  }
  for (const body of handled) {
    const index = Number(body.subarray(0, body.indexOf(0)).toString());
    assert.ok(!seen.has(index), `job ${index} both handled by the worker and moved to ${seen.get(index)}`);
    assert.ok(body.equals(expected[index]?.body as Buffer));
    assert.equal(expected[index]?.state, 'ready');
    seen.set(index, 'worker');
  }
  assert.equal(seen.size, DRAIN_JOBS, 'no job lost');
  assert.deepEqual(result.byState, counted);
  assert.equal(result.moved + handled.length, DRAIN_JOBS);
  assert.equal(counted.delayed, DRAIN_JOBS / 5);
  assert.equal(counted.buried, DRAIN_JOBS / 5);

  // Drained, it stays out of the rotation until included again.
  assert.equal(cluster.status.find((status) => status.url === source.url)?.excluded, true);
  const afterDrain = await Promise.all(Array.from({ length: 9 }, () => cluster.put('x', { tube: 'after' })));
  assert.ok(!countByServer(afterDrain).has(source.url));
  cluster.include(source.url);
  const included = await Promise.all(Array.from({ length: 9 }, () => cluster.put('x', { tube: 'after' })));
  assert.equal(countByServer(included).get(source.url), 3);
});

test('drainServer refuses what it cannot do, before anything is moved', async (t) => {
  const servers = await ownServers(t, 2);
  const [a, b] = servers as [(typeof servers)[number], (typeof servers)[number]];
  const cluster = await clusterFor(t, [a.url, b.url]);
  await assert.rejects(cluster.drainServer(`beanstalk://127.0.0.1:${await freePort()}`), InvalidArgumentError);
  cluster.exclude(b.url);
  await assert.rejects(cluster.drainServer(a.url), InvalidArgumentError, 'no other server to take the jobs');
});

/**
 * Which tube a command runs in, against a real beanstalkd, when nobody awaits anything: the
 * caller's own `use` tube, puts that name their tube, and the `use` the client sends for them. The
 * server is the witness: `stats-job` tells where each job landed, `cmd-use` how many `use`
 * commands it got.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Client, defineJob, enqueue, type ClientState } from '../../src/index.js';
import { behindProxy, BOUND } from '../helpers/faults.js';
import { connectFor, ownServer, within } from '../helpers/harness.js';
import { serverForFile, uniqueTube } from '../helpers/server.js';

const server = await serverForFile();

test("a use still in flight, then enqueue into default: the job lands in default, and the caller's use holds", async (t) => {
  const client = await connectFor(t, server.url);
  const a = uniqueTube();
  const using = client.use(a);
  const { id } = await enqueue(client, 'x', {}, { tube: 'default' });
  assert.equal(await using, a);
  assert.equal((await client.statsJob(id)).tube, 'default');
  // The put without a tube goes where the caller's last use said.
  const next = await client.put('after');
  assert.equal((await client.statsJob(next)).tube, a);
  assert.equal(client.using, a);
  assert.equal(await client.listTubeUsed(), a);
});

test('1,000 enqueues into tube x from a client using default send one use, then one more for a plain put', async (t) => {
  const own = await ownServer(t);
  const client = await connectFor(t, own.url);
  const x = uniqueTube();
  const job = defineJob<{ n: number }>({ type: 'count', tube: x, run: () => undefined });
  const before = (await client.stats()).cmdUse;
  const ids = await Promise.all(Array.from({ length: 1000 }, (_, n) => job.enqueue(client, { n })));
  const afterEnqueues = (await client.stats()).cmdUse;
  assert.equal(afterEnqueues - before, 1, 'one use for 1,000 puts into x');
  assert.equal((await client.statsTube(x)).currentJobsReady, 1000);
  const plain = await client.put('plain');
  assert.equal((await client.statsJob(plain)).tube, 'default');
  assert.equal((await client.stats()).cmdUse - before, 2, 'and one back to default for the plain put');
  assert.equal(client.using, 'default', 'puts into a named tube never change the caller\'s use tube');
  assert.equal(ids.length, 1000);
});

test('peek-ready and kick act on the caller\'s use tube, even right after a put into another tube', async (t) => {
  const client = await connectFor(t, server.url);
  const [a, b] = [uniqueTube(), uniqueTube()];
  void client.use(a);
  const inA = client.put('in a');
  const inB = client.put('in b', { tube: b });
  const peeked = client.peekReady();
  assert.equal((await peeked)?.id, await inA);
  assert.equal((await client.statsJob(await inB)).tube, b);
  assert.equal(await client.kick(10), 0, 'kick ran in a, which has nothing buried or delayed');
});

type Step = { op: 'use'; tube: number } | { op: 'put' } | { op: 'putInto'; tube: number };

test('property: un-awaited use / put / put({ tube }) in any order land where a sequential reading says', async (t) => {
  const tubes = [uniqueTube(), uniqueTube(), uniqueTube()];
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ op: fc.constant('use' as const), tube: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ op: fc.constant('put' as const) }),
    fc.record({ op: fc.constant('putInto' as const), tube: fc.integer({ min: 0, max: 2 }) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
      const client = await Client.connect(server.url);
      t.after(() => client.destroy());
      try {
        let own = 'default';
        const expected: string[] = [];
        const puts: Promise<number>[] = [];
        const uses: Promise<string>[] = [];
        for (const next of steps) {
          if (next.op === 'use') {
            own = tubes[next.tube] as string;
            uses.push(client.use(own));
          } else if (next.op === 'put') {
            expected.push(own);
            puts.push(client.put('p'));
          } else {
            const tube = tubes[next.tube] as string;
            expected.push(tube);
            puts.push(client.put('q', { tube }));
          }
        }
        const ids = await Promise.all(puts);
        await Promise.all(uses);
        const landed = await Promise.all(ids.map(async (id) => (await client.statsJob(id)).tube));
        assert.deepEqual(landed, expected);
        assert.equal(client.using, own);
        assert.equal(await client.listTubeUsed(), own);
        await Promise.all(ids.map((id) => client.delete(id)));
      } finally {
        await client.close();
      }
    }),
    { numRuns: 40 },
  );
});

test('client.state: ready, then closing and closed on close(), each change a state event', async () => {
  const client = await Client.connect(server.url);
  const seen: [ClientState, ClientState][] = [];
  client.on('state', (state, previous) => seen.push([state, previous]));
  assert.equal(client.state, 'ready');
  await client.close();
  assert.equal(client.state, 'closed');
  assert.deepEqual(seen, [
    ['closing', 'ready'],
    ['closed', 'closing'],
  ]);
});

test('client.state across a reconnect: reconnecting, connecting, ready; the tubes are restored', async (t) => {
  const a = uniqueTube();
  const { proxy, client } = await behindProxy(t, server, { reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  await client.use(a);
  const seen: ClientState[] = [];
  client.on('state', (state) => seen.push(state));
  const back = new Promise<void>((resolve) => client.once('reconnect', () => resolve()));
  proxy.cut();
  await within(back, BOUND, 'the reconnect');
  assert.deepEqual(seen.slice(0, 2), ['reconnecting', 'connecting']);
  assert.equal(seen.at(-1), 'ready');
  assert.equal(client.state, 'ready');
  // A put into another tube, then a plain one: each lands where it should on the new connection.
  const other = uniqueTube();
  const [intoOther, plain] = await Promise.all([client.put('o', { tube: other }), client.put('p')]);
  assert.equal((await client.statsJob(intoOther)).tube, other);
  assert.equal((await client.statsJob(plain)).tube, a);
});

/**
 * Rates from snapshots (src/observe/rates.ts), with no server: hand-made snapshots in, rates out.
 * Counter deltas over the elapsed time, restarts giving 0, history capped, tubes summed over
 * servers and sorted busiest first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerStats, TubeStats } from '../../src/protocol/stats.js';
import { Rates } from '../../src/observe/rates.js';
import type { ServerSnapshot, Snapshot } from '../../src/observe/snapshot.js';

const A = 'beanstalk://a:11300';
const B = 'beanstalk://b:11300';

/** Server stats with every counter 0, then `given`. Only the fields rates.ts reads matter. */
function serverStats(given: Partial<Record<keyof ServerStats, number>> = {}): ServerStats {
  const base = {
    totalJobs: 0,
    cmdReserve: 0,
    cmdReserveWithTimeout: 0,
    cmdDelete: 0,
    currentProducers: 0,
    currentWorkers: 0,
    currentWaiting: 0,
    currentConnections: 0,
    pid: 1,
    uptime: 100,
  };
  return { ...base, ...given } as unknown as ServerStats;
}

function tube(name: string, given: Partial<Record<Exclude<keyof TubeStats, 'name'>, number>> = {}): TubeStats {
  const base = {
    currentJobsUrgent: 0,
    currentJobsReady: 0,
    currentJobsReserved: 0,
    currentJobsDelayed: 0,
    currentJobsBuried: 0,
    totalJobs: 0,
    currentUsing: 0,
    currentWatching: 0,
    currentWaiting: 0,
    cmdDelete: 0,
    cmdPauseTube: 0,
    pause: 0,
    pauseTimeLeft: 0,
  };
  return { name, ...base, ...given };
}

function up(url: string, stats: ServerStats, tubes: TubeStats[] = []): ServerSnapshot {
  return { url, up: true, stats, tubes };
}

function snap(at: number, ...servers: ServerSnapshot[]): Snapshot {
  return { at, servers };
}

test('before any snapshot the view is empty', () => {
  assert.deepEqual(new Rates().view(), { at: 0, servers: [], tubes: [] });
});

test('one snapshot gives counts and zero rates', () => {
  const rates = new Rates();
  rates.add(snap(1000, up(A, serverStats({ totalJobs: 50, currentProducers: 2, currentWorkers: 3, currentWaiting: 1, currentConnections: 7 }), [tube('mail', { currentJobsReady: 4, totalJobs: 50 })])));
  const view = rates.view();
  assert.equal(view.at, 1000);
  const [server] = view.servers;
  assert.equal(server?.up, true);
  assert.equal(server?.putsPerSecond, 0);
  assert.deepEqual([server?.producers, server?.workers, server?.waiting, server?.connections], [2, 3, 1, 7]);
  assert.equal(view.tubes[0]?.ready, 4);
  assert.equal(view.tubes[0]?.putsPerSecond, 0);
  assert.deepEqual(view.tubes[0]?.history, [], 'no rate yet, so no sample');
});

test('server rates are counter deltas over the seconds between the two latest snapshots', () => {
  const rates = new Rates();
  rates.add(snap(10_000, up(A, serverStats({ totalJobs: 100, cmdReserve: 10, cmdReserveWithTimeout: 5, cmdDelete: 20 }))));
  rates.add(snap(12_000, up(A, serverStats({ totalJobs: 140, cmdReserve: 30, cmdReserveWithTimeout: 9, cmdDelete: 26 }))));
  const server = rates.view().servers[0];
  assert.equal(server?.putsPerSecond, 20);
  assert.equal(server?.reservesPerSecond, 12, 'reserve and reserve-with-timeout both count');
  assert.equal(server?.deletesPerSecond, 3);
  // Only the two latest count, not the first ever.
  rates.add(snap(13_000, up(A, serverStats({ totalJobs: 141, cmdReserve: 30, cmdReserveWithTimeout: 9, cmdDelete: 26 }))));
  assert.equal(rates.view().servers[0]?.putsPerSecond, 1);
});

test('tube rates come from total-jobs and cmd-delete', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats(), [tube('mail', { totalJobs: 10, cmdDelete: 2 })])));
  rates.add(snap(500, up(A, serverStats(), [tube('mail', { totalJobs: 15, cmdDelete: 3 })])));
  const [mail] = rates.view().tubes;
  assert.equal(mail?.putsPerSecond, 10);
  assert.equal(mail?.deletesPerSecond, 2);
  assert.deepEqual(mail?.history, [10]);
});

test('a counter that goes down gives a rate of 0, never negative', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats({ totalJobs: 500, cmdDelete: 400 }), [tube('mail', { totalJobs: 90, cmdDelete: 80 })])));
  rates.add(snap(1000, up(A, serverStats({ totalJobs: 3, cmdDelete: 1 }), [tube('mail', { totalJobs: 2, cmdDelete: 1 })])));
  const view = rates.view();
  assert.equal(view.servers[0]?.putsPerSecond, 0);
  assert.equal(view.servers[0]?.deletesPerSecond, 0);
  assert.equal(view.tubes[0]?.putsPerSecond, 0);
  assert.equal(view.tubes[0]?.deletesPerSecond, 0);
});

test('a restarted server (new pid, or uptime gone back) gives 0 even where a counter grew', () => {
  for (const restarted of [serverStats({ totalJobs: 900, pid: 2, uptime: 200 }), serverStats({ totalJobs: 900, uptime: 5 })]) {
    const rates = new Rates();
    rates.add(snap(0, up(A, serverStats({ totalJobs: 100 }), [tube('mail', { totalJobs: 100 })])));
    rates.add(snap(1000, up(A, restarted, [tube('mail', { totalJobs: 900 })])));
    assert.equal(rates.view().servers[0]?.putsPerSecond, 0);
    assert.equal(rates.view().tubes[0]?.putsPerSecond, 0);
  }
});

test('a tube created between two snapshots counts its whole total as this interval', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats(), [])));
  rates.add(snap(2000, up(A, serverStats(), [tube('new', { totalJobs: 8 })])));
  assert.equal(rates.view().tubes[0]?.putsPerSecond, 4);
});

test('a server down, then back, shows down with its error, then counts with rates from 0', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats({ totalJobs: 10 }))));
  rates.add(snap(1000, { url: A, up: false, error: 'connect ECONNREFUSED' }));
  const down = rates.view().servers[0];
  assert.equal(down?.up, false);
  assert.equal(down?.error, 'connect ECONNREFUSED');
  assert.equal(down?.stats, undefined);
  assert.equal(down?.putsPerSecond, 0);
  rates.add(snap(2000, up(A, serverStats({ totalJobs: 30 }))));
  assert.equal(rates.view().servers[0]?.up, true);
  assert.equal(rates.view().servers[0]?.putsPerSecond, 0, 'no baseline while it was down');
  rates.add(snap(3000, up(A, serverStats({ totalJobs: 35 }))));
  assert.equal(rates.view().servers[0]?.putsPerSecond, 5);
});

test('history keeps one sample per snapshot, oldest first, at most windowSeconds', () => {
  const rates = new Rates(3);
  for (let i = 0; i <= 5; i += 1) {
    // i*i jobs in all: puts/s of 1, 3, 5, 7, 9 after the first.
    rates.add(snap(i * 1000, up(A, serverStats(), [tube('mail', { totalJobs: i * i })])));
  }
  assert.deepEqual(rates.view().tubes[0]?.history, [5, 7, 9]);
});

test('a tube that goes away loses its history', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats(), [tube('mail', { totalJobs: 1 })])));
  rates.add(snap(1000, up(A, serverStats(), [tube('mail', { totalJobs: 2 })])));
  rates.add(snap(2000, up(A, serverStats(), [])));
  rates.add(snap(3000, up(A, serverStats(), [tube('mail', { totalJobs: 3 })])));
  assert.deepEqual(rates.view().tubes[0]?.history, [3]);
});

test('the view is not changed by later snapshots, nor its history by the caller', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats(), [tube('mail', { totalJobs: 1 })])));
  rates.add(snap(1000, up(A, serverStats(), [tube('mail', { totalJobs: 2 })])));
  const first = rates.view();
  first.tubes[0]?.history.push(99);
  rates.add(snap(2000, up(A, serverStats(), [tube('mail', { totalJobs: 4 })])));
  assert.deepEqual(first.tubes[0]?.history, [1, 99]);
  assert.deepEqual(rates.view().tubes[0]?.history, [1, 2]);
});

test('a tube on two servers is one row: counts and rates summed, servers listed', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats(), [tube('mail', { totalJobs: 10 })]), up(B, serverStats(), [tube('mail', { totalJobs: 100 }), tube('logs')])));
  rates.add(
    snap(
      1000,
      up(A, serverStats(), [tube('mail', { totalJobs: 12, cmdDelete: 1, currentJobsReady: 2, currentJobsBuried: 1, currentWaiting: 1, pauseTimeLeft: 5 })]),
      up(B, serverStats(), [tube('mail', { totalJobs: 103, currentJobsReady: 3, currentJobsReserved: 4, currentJobsDelayed: 5, currentJobsUrgent: 2, pauseTimeLeft: 9 }), tube('logs')]),
    ),
  );
  const view = rates.view();
  assert.equal(view.tubes.length, 2);
  const mail = view.tubes.find((one) => one.name === 'mail');
  assert.deepEqual(mail, {
    name: 'mail',
    ready: 5,
    reserved: 4,
    delayed: 5,
    buried: 1,
    urgent: 2,
    waiting: 1,
    pausedSecondsLeft: 9,
    total: 115,
    putsPerSecond: 5,
    deletesPerSecond: 1,
    history: [5],
    servers: [A, B],
  });
  assert.deepEqual(view.tubes.find((one) => one.name === 'logs')?.servers, [B]);
});

test('a down server adds no tubes, and the others still count', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats(), [tube('mail', { totalJobs: 1 })]), { url: B, up: false, error: 'refused' }));
  rates.add(snap(1000, up(A, serverStats(), [tube('mail', { totalJobs: 3 })]), { url: B, up: false, error: 'refused' }));
  const view = rates.view();
  assert.deepEqual(view.servers.map((server) => [server.url, server.up]), [[A, true], [B, false]]);
  assert.deepEqual(view.tubes.map((one) => [one.name, one.putsPerSecond, one.servers]), [['mail', 2, [A]]]);
});

test('tubes are sorted by puts/s + deletes/s, then jobs held, then name', () => {
  const rates = new Rates();
  rates.add(snap(0, up(A, serverStats(), [tube('busy'), tube('deleting'), tube('full'), tube('b-idle'), tube('a-idle')])));
  rates.add(
    snap(
      1000,
      up(A, serverStats(), [
        tube('b-idle'),
        tube('a-idle'),
        tube('full', { currentJobsBuried: 7 }),
        tube('deleting', { cmdDelete: 2 }),
        tube('busy', { totalJobs: 2, cmdDelete: 1 }),
      ]),
    ),
  );
  assert.deepEqual(
    rates.view().tubes.map((one) => one.name),
    ['busy', 'deleting', 'full', 'a-idle', 'b-idle'],
  );
});

test('windowSeconds must be a whole number from 1', () => {
  assert.throws(() => new Rates(0), RangeError);
  assert.throws(() => new Rates(1.5), RangeError);
});

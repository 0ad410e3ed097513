/**
 * The Scheduler against a real server: one leader among schedulers started at once, every tick
 * enqueued once across leader crashes (SIGKILL) and freezes (SIGSTOP) of scheduler processes, the
 * misfire policies after all schedulers were down for 10 ticks (the last tick kept in beanstalkd
 * across the restart), and a Worker running what the scheduler enqueued. Every tick is checked in
 * the job tube itself: the server is the witness, not the schedulers' own reports.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import {
  defineJob,
  parseEnvelope,
  Scheduler,
  Worker,
  type Client,
  type JobContext,
  type MisfireInfo,
  type ScheduleTick,
  type TickInfo,
} from '../../src/index.js';
import { acquireLease, createLease, type LeaseOptions } from '../../src/schedule/lease.js';
import { connectOnTube } from '../helpers/assertions.js';
import { connectFor, ownServer, untilWaiting, within } from '../helpers/harness.js';
import { SchedulerProcess } from '../helpers/scheduler-process.js';
import { uniqueTube } from '../helpers/server.js';

const BOUND_MS = 10_000;
const SECOND = 1000;

/** Takes every job out of `tube` and returns the schedule ticks they carry, in id order. */
async function drainTicks(client: Client, tube: string): Promise<ScheduleTick[]> {
  await client.watch(tube);
  await client.ignore('default');
  const ticks: ScheduleTick[] = [];
  for (;;) {
    const job = await client.reserveWithTimeout(0);
    if (job === null) return ticks;
    const parsed = parseEnvelope(job.body);
    assert.ok(parsed.ok && parsed.envelope.schedule !== undefined, `job ${job.id} carries its schedule`);
    ticks.push(parsed.envelope.schedule);
    await client.delete(job.id);
  }
}

/** How many times each tick (ms since the epoch) was enqueued. */
function counts(ticks: readonly ScheduleTick[], id?: string): Map<number, number> {
  const seen = new Map<number, number>();
  for (const tick of ticks) {
    if (id !== undefined && tick.id !== id) continue;
    const ms = Date.parse(tick.tick);
    seen.set(ms, (seen.get(ms) ?? 0) + 1);
  }
  return seen;
}

/** Every whole second from the first tick to the last is there. */
function assertEverySecond(ticks: Iterable<number>, what: string): void {
  const sorted = [...ticks].sort((a, b) => a - b);
  const first = sorted[0] as number;
  const last = sorted[sorted.length - 1] as number;
  const missing: string[] = [];
  for (let ms = first; ms <= last; ms += SECOND) if (!sorted.includes(ms)) missing.push(new Date(ms).toISOString());
  assert.deepEqual(missing, [], `${what}: ticks missing between ${new Date(first).toISOString()} and ${new Date(last).toISOString()}`);
}

/**
 * The ticks a stopped leader may leave to its successor, which then enqueues them again: the record
 * gap, between a tick's put and the put of the record of it. The last tick the leader reported (the
 * report comes right after the put), or the one after it (put, but stopped before reporting it).
 */
function recordGap(stopped: SchedulerProcess): number[] {
  const last = Date.parse(stopped.all('tick').at(-1)?.line.tick ?? '');
  return [last, last + SECOND];
}

/** Each tick at most twice, and a tick twice only in the record gap of a stopped leader, one per stop. */
function assertOnlyGapDuplicates(enqueued: Map<number, number>, gaps: readonly number[][]): void {
  const twice = [...enqueued].filter(([, count]) => count > 1).map(([tick]) => tick);
  const show = (ticks: readonly number[]): string => ticks.map((tick) => new Date(tick).toISOString()).join(', ');
  assert.ok([...enqueued.values()].every((count) => count <= 2), `no tick three times: ${JSON.stringify([...enqueued])}`);
  assert.ok(twice.length <= gaps.length, `at most one duplicate per stopped leader: ${show(twice)}`);
  for (const tick of twice) {
    assert.ok(gaps.some((gap) => gap.includes(tick)), `the duplicate ${show([tick])} is in a record gap (${gaps.map(show).join('; ')})`);
  }
}

/** Resolves once `done()` holds, checked whenever `emitter` emits `event`; bounded. */
function until(emitters: readonly Scheduler[], event: 'tick' | 'leader' | 'misfire', done: () => boolean, what: string): Promise<void> {
  const reached = new Promise<void>((resolve) => {
    const check = (): void => {
      if (!done()) return;
      for (const emitter of emitters) emitter.off(event, check);
      resolve();
    };
    for (const emitter of emitters) emitter.on(event, check);
    check();
  });
  return within(reached, BOUND_MS, what);
}

const everySecond = defineJob<{ n: number }>({ type: 'schedule-test', run: () => undefined });

interface Watched {
  readonly scheduler: Scheduler;
  readonly ticks: TickInfo[];
  readonly misfires: MisfireInfo[];
  readonly leaderEvents: boolean[];
}

/** A scheduler whose events are kept, stopped when the test ends. */
function watched(t: TestContext, options: ConstructorParameters<typeof Scheduler>[0]): Watched {
  const scheduler = new Scheduler(options);
  const seen: Watched = { scheduler, ticks: [], misfires: [], leaderEvents: [] };
  scheduler.on('tick', (info) => seen.ticks.push(info));
  scheduler.on('misfire', (info) => seen.misfires.push(info));
  scheduler.on('leader', (leading) => seen.leaderEvents.push(leading));
  scheduler.on('error', (error) => assert.fail(`scheduler ${scheduler.name}: ${error.message}`));
  t.after(() => scheduler.stop());
  return seen;
}

test('leases created at the same instant: the lowest id stays, every other creator deletes its own', async (t) => {
  const server = await ownServer(t);
  const tube = uniqueTube('lock');
  const options: LeaseOptions = { tube, ttr: 2, pollSeconds: 1 };
  const creators = await Promise.all([1, 2, 3, 4, 5].map(() => connectOnTube(server.url, tube)));
  t.after(() => creators.forEach((client) => client.destroy()));
  await Promise.all(creators.map((client) => createLease(client, options)));
  const observer = await connectOnTube(server.url, tube);
  t.after(() => observer.destroy());
  const stats = await observer.statsTube(tube);
  assert.deepEqual({ delayed: stats.currentJobsDelayed, ready: stats.currentJobsReady, total: stats.totalJobs, deleted: stats.cmdDelete }, { delayed: 1, ready: 0, total: 5, deleted: 4 });
});

test('a newcomer holding a second lease yields it; it takes over when the holder goes', async (t) => {
  const server = await ownServer(t);
  const tube = uniqueTube('lock');
  const options: LeaseOptions = { tube, ttr: 2, pollSeconds: 1 };
  const [holder, newcomer, observer] = await Promise.all([1, 2, 3].map(() => connectOnTube(server.url, tube)));
  t.after(() => [holder, newcomer, observer].forEach((client) => client?.destroy()));
  const [a, b, o] = [holder, newcomer, observer] as [Client, Client, Client];
  await o.put('beanline-schedule-lease', { priority: 0, ttr: 2 });
  const held = await within(acquireLease(a, options, () => false, () => undefined), BOUND_MS, 'the first lease');
  // A stray second lease, as a creator stalled past the creation delay would leave.
  const stray = await o.put('beanline-schedule-lease', { priority: 0, ttr: 2 });
  const waiting = acquireLease(b, options, () => false, () => undefined);
  await untilWaiting(o, tube);
  assert.equal(await o.peek(stray), null, 'the newcomer deleted the stray lease it took');
  a.destroy();
  const taken = await within(waiting, BOUND_MS, 'the takeover');
  assert.equal(taken?.id, held?.id, 'the first lease, back from the closed connection');
});

test('three schedulers started at the same instant: exactly one leader, and only it enqueues', async (t) => {
  const server = await ownServer(t);
  const observer = await connectFor(t, server.url);
  for (let round = 1; round <= 2; round += 1) {
    const lockTube = uniqueTube('lock');
    const jobTube = uniqueTube('jobs');
    const three = [1, 2, 3].map((n) =>
      watched(t, {
        connection: server.url,
        lockTube,
        leaseTtr: 2,
        name: `s${n}`,
        schedules: [{ id: 'every', cron: '* * * * * *', job: everySecond, args: { n }, enqueue: { tube: jobTube } }],
      }),
    );
    const schedulers = three.map(({ scheduler }) => scheduler);
    await Promise.all(schedulers.map((scheduler) => scheduler.start()));
    const ticks = (): number => three.reduce((sum, seen) => sum + seen.ticks.length, 0);
    await until(schedulers, 'tick', () => ticks() >= 2, `round ${round}: two ticks`);

    const leaders = three.filter(({ scheduler }) => scheduler.leader);
    assert.equal(leaders.length, 1, `round ${round}: one leader`);
    assert.deepEqual(
      three.map(({ leaderEvents }) => leaderEvents.length),
      three.map(({ scheduler }) => (scheduler.leader ? 1 : 0)),
      `round ${round}: no other scheduler ever led`,
    );
    assert.equal((leaders[0] as Watched).ticks.length, ticks(), 'every tick came from the leader');
    const lock = await observer.statsTube(lockTube);
    assert.deepEqual(
      { reserved: lock.currentJobsReserved, ready: lock.currentJobsReady, delayed: lock.currentJobsDelayed },
      { reserved: 1, ready: 0, delayed: 0 },
      'one lease left, held',
    );
    await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    const enqueued = counts(await drainTicks(observer, jobTube));
    assert.ok([...enqueued.values()].every((count) => count === 1), `round ${round}: no tick twice`);
  }
});

test('three scheduler processes, the leader SIGKILLed twice: every tick once, but for the record gap; takeover within the lease TTR', async (t) => {
  const server = await ownServer(t);
  const leaseTtr = 3;
  const config = { url: server.url, lockTube: uniqueTube('lock'), jobTube: uniqueTube('jobs'), leaseTtr };
  const processes = [1, 2, 3].map(() => SchedulerProcess.spawn(t, config));
  const leading = (): SchedulerProcess | undefined =>
    processes.find((process) => process.alive && process.all('leader').at(-1)?.line.leading === true);
  const ticksOf = (process: SchedulerProcess): number => process.all('tick').length;
  const gaps: number[][] = [];
  const takeovers: number[] = [];

  await Promise.all(processes.map((process) => process.until(() => process.all('ready').length > 0, 'ready')));
  for (let kill = 1; kill <= 2; kill += 1) {
    // Some ticks from the current leader, then kill it right after one, inside its record gap if it can be.
    await firstOf(processes, () => leading() !== undefined, 'a leader');
    const leader = leading() as SchedulerProcess;
    const before = ticksOf(leader);
    await leader.until(() => ticksOf(leader) >= before + 4, 'four ticks');
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    gaps.push(recordGap(leader));
    await firstOf(processes, () => leading() !== undefined, 'a new leader');
    const took = (leading() as SchedulerProcess).all('leader').at(-1)?.at as number;
    takeovers.push(took - killedAt);
  }
  const last = leading() as SchedulerProcess;
  const before = ticksOf(last);
  await last.until(() => ticksOf(last) >= before + 4, 'four ticks from the third leader');
  await last.kill('SIGTERM');

  for (const [n, ms] of takeovers.entries()) {
    assert.ok(ms < leaseTtr * SECOND, `takeover ${n + 1} took ${ms} ms, more than the lease TTR`);
  }
  const observer = await connectFor(t, server.url);
  const enqueued = counts(await drainTicks(observer, config.jobTube));
  assert.ok(enqueued.size >= 10, `about 15 s of ticks, got ${enqueued.size}`);
  assertEverySecond(enqueued.keys(), 'across two crashes');
  assertOnlyGapDuplicates(enqueued, gaps);
});

/** Resolves once `done()` holds, checked on every line of every process; bounded. */
async function firstOf(processes: readonly SchedulerProcess[], done: () => boolean, what: string): Promise<void> {
  const alive = processes.filter((process) => process.alive);
  await Promise.any(alive.map((process) => process.until(done, what)));
}

test('a leader frozen past its lease TTR (SIGSTOP) is replaced, and enqueues nothing when it wakes', async (t) => {
  const server = await ownServer(t);
  const leaseTtr = 2;
  const config = { url: server.url, lockTube: uniqueTube('lock'), jobTube: uniqueTube('jobs'), leaseTtr };
  const processes = [1, 2].map(() => SchedulerProcess.spawn(t, config));
  const leadingNow = (process: SchedulerProcess): boolean => process.all('leader').at(-1)?.line.leading === true;
  await firstOf(processes, () => processes.some(leadingNow), 'a leader');
  const frozen = processes.find(leadingNow) as SchedulerProcess;
  const other = processes.find((process) => process !== frozen) as SchedulerProcess;
  const ticked = frozen.all('tick').length;
  await frozen.until(() => frozen.all('tick').length >= ticked + 2, 'two ticks');

  const frozenAt = Date.now();
  process.kill(frozen.pid, 'SIGSTOP');
  t.after(() => {
    if (frozen.alive) process.kill(frozen.pid, 'SIGCONT');
  });
  await other.until(() => leadingNow(other), 'takeover').catch(async (error: Error) => {
    const observer = await connectFor(t, server.url);
    const lock = await observer.statsTube(config.lockTube);
    throw new Error(`${error.message}; lock tube: ${JSON.stringify(lock)}; frozen: ${frozen.describe()}`);
  });
  const took = (other.all('leader').at(-1)?.at as number) - frozenAt;
  // The lease ends one TTR after the last touch, which came before the freeze. When beanstalkd keeps
  // it reserved past its TTR (see src/schedule/lease.ts), a follower sees a negative time-left a
  // second later, at its next poll (a second here), and creates a lease, ready a second after that.
  assert.ok(took <= leaseTtr * SECOND + 3500, `takeover after ${took} ms`);
  const otherTicks = other.all('tick').length;
  await other.until(() => other.all('tick').length >= otherTicks + 2, 'two ticks from the new leader');

  const frozenTicks = frozen.all('tick').length;
  process.kill(frozen.pid, 'SIGCONT');
  await frozen.until(() => !leadingNow(frozen), 'the woken leader stepping down');
  assert.equal(frozen.all('tick').length, frozenTicks, 'the woken leader enqueued nothing');
  await Promise.all(processes.map((process) => process.kill('SIGTERM')));

  const observer = await connectFor(t, server.url);
  const enqueued = counts(await drainTicks(observer, config.jobTube));
  assertOnlyGapDuplicates(enqueued, [recordGap(frozen)]);
  assertEverySecond(enqueued.keys(), 'across the freeze');
});

test('misfire policies after every scheduler was down for 10 ticks; the restart keeps the last tick', async (t) => {
  const server = await ownServer(t);
  const lockTube = uniqueTube('lock');
  const jobTube = uniqueTube('jobs');
  const schedules = [
    { id: 'skip', misfire: 'skip' as const },
    { id: 'once', misfire: 'once' as const },
    { id: 'all', misfire: 'all' as const },
    { id: 'all-3', misfire: 'all' as const, misfireLimit: 3 },
  ].map((schedule) => ({ ...schedule, cron: '* * * * * *', job: everySecond, args: { n: 0 }, enqueue: { tube: jobTube } }));
  const make = (name: string): Watched => watched(t, { connection: server.url, lockTube, leaseTtr: 2, name, schedules });

  const first = [make('a'), make('b')];
  await Promise.all(first.map(({ scheduler }) => scheduler.start()));
  const firstTicks = (): TickInfo[] => first.flatMap((seen) => seen.ticks);
  await until(
    first.map(({ scheduler }) => scheduler),
    'tick',
    () => schedules.every(({ id }) => firstTicks().filter((tick) => tick.id === id).length >= 2),
    'two ticks of each schedule',
  );
  await Promise.all(first.map(({ scheduler }) => scheduler.stop()));
  const lastBefore = new Map(schedules.map(({ id }) => [id, Math.max(...firstTicks().filter((tick) => tick.id === id).map((tick) => tick.tick.getTime()))]));

  // Downtime: nothing runs; time passing is the point, so this is a sleep.
  const downUntil = Math.max(...lastBefore.values()) + 10 * SECOND + 500;
  await sleep(downUntil - Date.now());

  const second = [make('c'), make('d')];
  await Promise.all(second.map(({ scheduler }) => scheduler.start()));
  const misfires = (): MisfireInfo[] => second.flatMap((seen) => seen.misfires);
  const secondTicks = (): TickInfo[] => second.flatMap((seen) => seen.ticks);
  await until(second.map(({ scheduler }) => scheduler), 'misfire', () => misfires().length >= schedules.length, 'a misfire per schedule');
  const byId = new Map(misfires().map((misfire) => [misfire.id, misfire]));
  await until(
    second.map(({ scheduler }) => scheduler),
    'tick',
    () => schedules.every(({ id }) => secondTicks().some((tick) => tick.id === id && tick.tick > (byId.get(id) as MisfireInfo).last)),
    'a regular tick of each schedule after the restart',
  );
  const leader = second.find(({ scheduler }) => scheduler.leader) as Watched;
  const listed = await leader.scheduler.list();
  await Promise.all(second.map(({ scheduler }) => scheduler.stop()));

  const observer = await connectFor(t, server.url);
  const all = await drainTicks(observer, jobTube);
  for (const { id, misfire } of schedules) {
    const info = byId.get(id) as MisfireInfo;
    const before = lastBefore.get(id) as number;
    const enqueued = counts(all, id);
    assert.ok([...enqueued.values()].every((count) => count === 1), `${id}: no tick twice, none of before the stop again`);
    assert.equal(info.policy, misfire);
    assert.equal(info.first.getTime(), before + SECOND, `${id}: the gap starts after the last tick recorded before the stop`);
    assert.ok(info.missed >= 10, `${id}: at least 10 ticks missed, got ${info.missed}`);
    const gap = [...enqueued.keys()].filter((tick) => tick > before && tick <= info.last.getTime()).sort((a, b) => a - b);
    const expected = {
      skip: [],
      once: [info.last.getTime()],
      all: Array.from({ length: info.missed }, (_, n) => before + (n + 1) * SECOND),
      'all-3': [0, 1, 2].map((n) => info.last.getTime() - (2 - n) * SECOND),
    }[id] as number[];
    assert.deepEqual(gap, expected, `${id}: the missed ticks enqueued`);
    assert.equal(info.fired, expected.length);
    const after = [...enqueued.keys()].filter((tick) => tick > info.last.getTime());
    assert.ok(after.length >= 1, `${id}: ticks go on after the gap`);
    assertEverySecond(after, `${id} after the gap`);
    const status = listed.find((entry) => entry.id === id);
    assert.ok(status?.last !== null && ['c', 'd'].includes(status?.last.by as string), `${id}: list() names the new leader`);
    assert.equal(status?.misfire, misfire);
  }
});

test('a Worker runs scheduled jobs like any other, with ctx.schedule set', async (t) => {
  const server = await ownServer(t);
  const tube = uniqueTube('jobs');
  const runs: (JobContext['schedule'] | 'none')[] = [];
  let ran: () => void = () => undefined;
  const twoRuns = new Promise<void>((resolve) => {
    ran = () => {
      if (runs.length >= 2) resolve();
    };
  });
  const report = defineJob<{ to: string }>({
    type: 'report',
    tube,
    run: (_args, ctx) => {
      runs.push(ctx.schedule ?? 'none');
      ran();
    },
  });
  const { scheduler } = watched(t, {
    connection: server.url,
    lockTube: uniqueTube('lock'),
    leaseTtr: 2,
    schedules: [{ id: 'daily-report', cron: '* * * * * *', job: report, args: { to: 'ops@example.com' } }],
  });
  const worker = new Worker({ connection: server.url, jobs: [report] });
  t.after(() => worker.stop());
  const producer = await connectFor(t, server.url);
  await report.enqueue(producer, { to: 'by-hand' });
  await worker.start();
  await scheduler.start();
  await within(twoRuns, BOUND_MS, 'two runs');
  await scheduler.stop();
  await worker.stop();
  assert.ok(runs.includes('none'), 'a job enqueued by hand has no schedule');
  const scheduled = runs.find((run) => run !== 'none') as ScheduleTick;
  assert.equal(scheduled.id, 'daily-report');
  assert.match(scheduled.tick, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/, 'the tick, in UTC, on the second');
});

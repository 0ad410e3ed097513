/**
 * The scheduler's maths with no server: cron times at real DST transitions, which ticks a leader
 * enqueues round after round under a made-up clock (so a transition, a handover or a skewed clock
 * can be walked through minute by minute), the misfire policies, the record of last ticks, and the
 * checks made at construction.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineJob, InvalidArgumentError, parseEnvelope, Scheduler } from '../../src/index.js';
import { parseCron, type CronTimes } from '../../src/schedule/cron.js';
import { dueTicks, MISSED_COUNT_CAP, nextTick, type MisfirePolicy } from '../../src/schedule/due.js';
import { decodeLastTicks, encodeLastTicks, mergeLastTicks, type LastTicks } from '../../src/schedule/record.js';

const iso = (date: Date): string => date.toISOString();
const at = (text: string): Date => new Date(text);

/** The cron's ticks from `from` (excluded) to `to` (included). */
function ticks(cron: CronTimes, from: string, to: string): string[] {
  const out: string[] = [];
  for (let tick = cron.next(at(from)); tick !== null && tick <= at(to); tick = cron.next(tick)) out.push(iso(tick));
  return out;
}

interface Run {
  fired: string[];
  missed: number;
}

/**
 * A leader's rounds under a made-up clock: starting with `handled`, a round every `stepMs` from
 * `from` to `to`, each enqueuing what dueTicks says. Returns every tick enqueued, in order.
 */
function rounds(cron: CronTimes, handled: string, from: string, to: string, stepMs: number, policy: MisfirePolicy = 'skip'): Run {
  const fired: string[] = [];
  let missed = 0;
  let done: Date | null = at(handled);
  for (let now = at(from).getTime(); now <= at(to).getTime(); now += stepMs) {
    const due = dueTicks({ cron, handled: done, now: new Date(now), policy, limit: 100, graceMs: 12_000 });
    fired.push(...due.fire.map(iso));
    if (due.missed !== null) missed += 1;
    done = due.handled;
  }
  return { fired, missed };
}

describe('cron times at DST transitions', () => {
  // Europe/Berlin: 2025-03-30 02:00 CET -> 03:00 CEST (01:00Z); 2025-10-26 03:00 CEST -> 02:00 CET (01:00Z).
  // America/New_York: 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z); 2025-11-02 02:00 EDT -> 01:00 EST (06:00Z).

  test('Europe/Berlin spring forward: a fixed time in the skipped hour runs at 03:00, once', () => {
    const cron = parseCron('30 2 * * *', 'Europe/Berlin', 's');
    assert.deepEqual(ticks(cron, '2025-03-28T12:00:00Z', '2025-03-31T12:00:00Z'), [
      '2025-03-29T01:30:00.000Z', // 02:30 CET
      '2025-03-30T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST, the first time after the gap
      '2025-03-31T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  test('Europe/Berlin spring forward: an interval schedule skips the times that do not exist', () => {
    const cron = parseCron('*/30 * * * *', 'Europe/Berlin', 's');
    // 01:00 CET, 01:30 CET, then 03:00 CEST: 02:00 and 02:30 never happen, and no instant is skipped.
    assert.deepEqual(ticks(cron, '2025-03-29T23:45:00Z', '2025-03-30T01:00:00Z'), [
      '2025-03-30T00:00:00.000Z',
      '2025-03-30T00:30:00.000Z',
      '2025-03-30T01:00:00.000Z',
    ]);
  });

  test('Europe/Berlin fall back: a fixed time in the repeated hour runs once, at its first occurrence', () => {
    const cron = parseCron('30 2 * * *', 'Europe/Berlin', 's');
    assert.deepEqual(ticks(cron, '2025-10-25T12:00:00Z', '2025-10-27T12:00:00Z'), [
      '2025-10-26T00:30:00.000Z', // 02:30 CEST; 02:30 CET an hour later does not run
      '2025-10-27T01:30:00.000Z',
    ]);
  });

  test('Europe/Berlin fall back: an interval schedule runs through both passes of the hour, each a tick of its own', () => {
    const cron = parseCron('*/30 * * * *', 'Europe/Berlin', 's');
    assert.deepEqual(ticks(cron, '2025-10-25T23:45:00Z', '2025-10-26T01:30:00Z'), [
      '2025-10-26T00:00:00.000Z', // 02:00 CEST
      '2025-10-26T00:30:00.000Z', // 02:30 CEST
      '2025-10-26T01:00:00.000Z', // 02:00 CET
      '2025-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  test('America/New_York spring forward and fall back', () => {
    const fixed = parseCron('30 2 * * *', 'America/New_York', 's');
    assert.deepEqual(ticks(fixed, '2025-03-08T12:00:00Z', '2025-03-10T12:00:00Z'), [
      '2025-03-09T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT
      '2025-03-10T06:30:00.000Z',
    ]);
    const repeated = parseCron('30 1 * * *', 'America/New_York', 's');
    assert.deepEqual(ticks(repeated, '2025-11-01T12:00:00Z', '2025-11-03T12:00:00Z'), [
      '2025-11-02T05:30:00.000Z', // 01:30 EDT only, not 01:30 EST
      '2025-11-03T06:30:00.000Z',
    ]);
    const interval = parseCron('*/30 * * * *', 'America/New_York', 's');
    assert.deepEqual(ticks(interval, '2025-11-02T04:45:00Z', '2025-11-02T06:30:00Z'), [
      '2025-11-02T05:00:00.000Z', // 01:00 EDT
      '2025-11-02T05:30:00.000Z', // 01:30 EDT
      '2025-11-02T06:00:00.000Z', // 01:00 EST
      '2025-11-02T06:30:00.000Z', // 01:30 EST
    ]);
  });

  test('going back gives the same instants as going forward (the misfire maths counts back)', () => {
    const cron = parseCron('30 2 * * *', 'Europe/Berlin', 's');
    assert.deepEqual(cron.previous(at('2025-03-31T12:00:00Z'), 3).map(iso), [
      '2025-03-31T00:30:00.000Z',
      '2025-03-30T01:00:00.000Z',
      '2025-03-29T01:30:00.000Z',
    ]);
  });

  test('a leader whose clock walks minute by minute through each transition enqueues each tick once', () => {
    const cases: [string, string, string, string][] = [
      ['Europe/Berlin', '30 2 * * *', '2025-03-29T23:00:00Z', '2025-03-30T03:00:00Z'],
      ['Europe/Berlin', '30 2 * * *', '2025-10-25T23:00:00Z', '2025-10-26T03:00:00Z'],
      ['America/New_York', '30 2 * * *', '2025-03-09T05:00:00Z', '2025-03-09T09:00:00Z'],
      ['America/New_York', '30 1 * * *', '2025-11-02T04:00:00Z', '2025-11-02T08:00:00Z'],
    ];
    for (const [zone, expression, from, to] of cases) {
      const cron = parseCron(expression, zone, 's');
      const run = rounds(cron, from, from, to, 60_000);
      assert.deepEqual(run.fired, ticks(cron, from, to), `${zone} ${expression}`);
      assert.equal(run.fired.length, 1, `${zone} ${expression}: one run on the transition day`);
      assert.equal(run.missed, 0);
    }
    const interval = parseCron('*/15 * * * *', 'Europe/Berlin', 's');
    const run = rounds(interval, '2025-10-25T23:50:00Z', '2025-10-25T23:50:00Z', '2025-10-26T01:50:00Z', 60_000);
    assert.equal(run.fired.length, 8, 'two real hours of quarter-hours, the repeated hour included');
    assert.equal(new Set(run.fired).size, 8, 'no tick twice');
  });
});

describe('cron expressions', () => {
  test('a seconds field: six fields, seconds first', () => {
    const cron = parseCron('*/15 * * * * *', 'UTC', 's');
    assert.deepEqual(ticks(cron, '2025-01-01T00:00:00Z', '2025-01-01T00:01:00Z'), [
      '2025-01-01T00:00:15.000Z',
      '2025-01-01T00:00:30.000Z',
      '2025-01-01T00:00:45.000Z',
      '2025-01-01T00:01:00.000Z',
    ]);
    assert.equal(iso(parseCron('@hourly', 'UTC', 's').next(at('2025-01-01T00:10:00Z')) as Date), '2025-01-01T01:00:00.000Z');
  });

  const job = defineJob<{ n: number }>({ type: 'unit-scheduled', run: () => undefined });
  const build = (schedule: Record<string, unknown>, options: Record<string, unknown> = {}): Scheduler =>
    new Scheduler({ ...options, schedules: [{ id: 'a', cron: '* * * * *', job, ...schedule }] } as never);

  test('an invalid cron or time zone is an InvalidArgumentError at construction, naming the field', () => {
    const refused: [Record<string, unknown>, string, RegExp][] = [
      [{ cron: '* * * *' }, 'schedules[0].cron', /5 fields, or 6 with seconds/],
      [{ cron: '61 * * * *' }, 'schedules[0].cron', /minute/],
      [{ cron: '* * * * * * *' }, 'schedules[0].cron', /5 fields/],
      [{ cron: '2025-01-01T00:00:00' }, 'schedules[0].cron', /cron expression/],
      [{ cron: 5 }, 'schedules[0].cron', /cron expression/],
      [{ timezone: 'Mars/Olympus' }, 'schedules[0].timezone', /not a time zone/],
      [{ timezone: '' }, 'schedules[0].timezone', /IANA/],
      [{ misfire: 'sometimes' }, 'schedules[0].misfire', /skip, once, all/],
      [{ misfireLimit: 0 }, 'schedules[0].misfireLimit', /1 or more/],
      [{ enqueue: { at: new Date() } }, 'schedules[0].enqueue.at', /tick decides/],
      [{ args: { n: () => 1 } }, 'args', /function/],
      [{ id: '' }, 'schedules[0].id', /non-empty/],
      [{ job: { type: 'x' } }, 'schedules[0].job', /defineJob/],
    ];
    for (const [schedule, argument, message] of refused) {
      assert.throws(
        () => build(schedule),
        (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument && message.test(error.message),
        JSON.stringify(schedule),
      );
    }
  });

  test('the scheduler options are checked too', () => {
    const refused: [Record<string, unknown>, string][] = [
      [{ leaseTtr: 1 }, 'leaseTtr'],
      [{ leaseTtr: 2.5 }, 'leaseTtr'],
      [{ lockTube: 'default' }, 'lockTube'],
      [{ lockTube: '-bad' }, 'lockTube'],
      [{ lockTube: 'x'.repeat(195) }, 'lockTube'],
      [{ name: '' }, 'name'],
    ];
    for (const [options, argument] of refused) {
      assert.throws(() => build({}, options), (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument);
    }
    assert.throws(
      () => new Scheduler({ schedules: [{ id: 'a', cron: '* * * * *', job }, { id: 'a', cron: '@daily', job }] }),
      (error: unknown) => error instanceof InvalidArgumentError && /given twice/.test(error.message),
    );
    const ok = new Scheduler({ schedules: [{ id: 'a', cron: '0 9 * * MON-FRI', job, args: { n: 1 }, timezone: 'Europe/Berlin' }] });
    assert.equal(ok.leader, false);
    assert.equal(ok.leaseTtr, 10);
    assert.equal(ok.lockTube, 'beanline.schedules');
  });
});

describe('which ticks are due', () => {
  const everySecond = parseCron('* * * * * *', 'UTC', 's');
  const T0 = '2025-06-01T12:00:00.000Z';
  const plus = (seconds: number): Date => new Date(at(T0).getTime() + seconds * 1000);
  const due = (handled: Date | null, now: Date, policy: MisfirePolicy = 'skip', limit = 100) =>
    dueTicks({ cron: everySecond, handled, now, policy, limit, graceMs: 4000 });

  test('a schedule never handled starts now: nothing from before it existed is due', () => {
    const result = due(null, plus(0.5));
    assert.deepEqual(result.fire, []);
    assert.equal(result.missed, null);
    assert.deepEqual(due(result.handled, plus(1)).fire, [plus(1)]);
  });

  test('ticks up to the grace late are a handover: all are enqueued, whatever the policy', () => {
    for (const policy of ['skip', 'once', 'all'] as const) {
      const result = due(plus(0), plus(3.5), policy);
      assert.deepEqual(result.fire, [plus(1), plus(2), plus(3)], policy);
      assert.equal(result.missed, null);
      assert.deepEqual(result.handled, plus(3));
    }
  });

  test('after 10 ticks of downtime: skip enqueues none, once the newest, all every one', () => {
    const skip = due(plus(0), plus(10.2), 'skip');
    assert.deepEqual(skip.fire, []);
    assert.deepEqual(skip.missed, { first: plus(1), last: plus(10), missed: 10, fired: 0 });
    assert.deepEqual(skip.handled, plus(10), 'the gap is handled: the next round enqueues only the next tick');
    assert.deepEqual(due(skip.handled, plus(11)).fire, [plus(11)]);

    const once = due(plus(0), plus(10.2), 'once');
    assert.deepEqual(once.fire, [plus(10)]);
    assert.deepEqual(once.missed, { first: plus(1), last: plus(10), missed: 10, fired: 1 });

    const all = due(plus(0), plus(10.2), 'all');
    assert.deepEqual(all.fire, Array.from({ length: 10 }, (_, i) => plus(i + 1)));
    assert.equal(all.missed?.fired, 10);

    const capped = due(plus(0), plus(10.2), 'all', 3);
    assert.deepEqual(capped.fire, [plus(8), plus(9), plus(10)], 'the newest ones, oldest first');
    assert.deepEqual(capped.missed, { first: plus(1), last: plus(10), missed: 10, fired: 3 });
    assert.deepEqual(capped.handled, plus(10));
  });

  test('a long downtime is counted up to the cap, and all enqueues only its limit', () => {
    const day = due(plus(0), plus(86_400), 'all');
    assert.equal(day.fire.length, 100);
    assert.deepEqual(day.fire[99], plus(86_400));
    assert.equal(day.missed?.missed, MISSED_COUNT_CAP);
  });

  test('clock skew: a leader behind the one before it enqueues nothing already handled', () => {
    // Leader A's clock is 3 s ahead: it enqueued up to its now, T0+13 (real time T0+10).
    const fast = rounds(everySecond, T0, iso(plus(1)), iso(plus(13)), 250);
    assert.equal(fast.fired.at(-1), iso(plus(13)));
    // A dies; B, 3 s behind real time, takes over with A's record: its clock reads T0+7.
    const slow = rounds(everySecond, iso(plus(13)), iso(plus(7)), iso(plus(20)), 250);
    assert.deepEqual(slow.fired[0], iso(plus(14)), 'B goes on after the last tick recorded, late but not twice');
    assert.equal(new Set([...fast.fired, ...slow.fired]).size, fast.fired.length + slow.fired.length);
    assert.equal(slow.missed, 0);
  });

  test('nextTick: after now, or after the last tick handled when that is ahead', () => {
    assert.deepEqual(nextTick(everySecond, plus(0), plus(5.5)), plus(6));
    assert.deepEqual(nextTick(everySecond, plus(9), plus(5.5)), plus(10));
    assert.deepEqual(nextTick(everySecond, null, plus(5.5)), plus(6));
  });
});

describe('the record of last ticks', () => {
  const record = (seq: number, handled: string, tick: string | null, by = 'a', lease: number | null = null): LastTicks => ({
    seq,
    schedules: new Map([['s', { handled: at(handled), last: tick === null ? null : { tick: at(tick), by, at: at(tick) } }]]),
    lease,
    stale: [],
  });

  test('round-trips through its JSON body', () => {
    const original = { ...record(3, '2025-01-01T00:00:05Z', '2025-01-01T00:00:04Z', 'a', 7), stale: [2, 5] };
    assert.deepEqual(decodeLastTicks(Buffer.from(encodeLastTicks(original))), original);
  });

  test('carries each schedule\'s plan for operators; the newer copy\'s plan wins a merge', () => {
    const plan = { cron: '*/5 * * * *', timezone: 'Europe/Berlin', misfire: 'once', type: 'Report', next: at('2025-01-01T00:05:00Z') };
    const withPlan = (seq: number, cron: string): LastTicks => {
      const base = record(seq, '2025-01-01T00:00:00Z', null);
      return { ...base, schedules: new Map([['s', { handled: at('2025-01-01T00:00:00Z'), last: null, plan: { ...plan, cron } }]]) };
    };
    const original = withPlan(3, plan.cron);
    assert.deepEqual(decodeLastTicks(Buffer.from(encodeLastTicks(original))), original);
    assert.equal(mergeLastTicks(withPlan(4, 'old'), withPlan(5, 'new')).schedules.get('s')?.plan?.cron, 'new');
    assert.equal(mergeLastTicks(withPlan(5, 'new'), withPlan(4, 'old')).schedules.get('s')?.plan?.cron, 'new');
    assert.equal(decodeLastTicks(Buffer.from(encodeLastTicks(record(1, '2025-01-01T00:00:00Z', null))))?.schedules.get('s')?.plan, undefined, 'a record without plans reads as before');
  });

  test('anything else in its tube is not a record', () => {
    for (const body of ['', 'not json', '[]', '{"seq":1,"schedules":{}}', '{"kind":"other","seq":1,"schedules":{}}']) {
      assert.equal(decodeLastTicks(Buffer.from(body)), null, body);
    }
  });

  test('two copies merge to the later of each: nothing moves back', () => {
    const merged = mergeLastTicks(record(4, '2025-01-01T00:00:09Z', '2025-01-01T00:00:07Z', 'a'), record(5, '2025-01-01T00:00:08Z', '2025-01-01T00:00:08Z', 'b'));
    assert.equal(merged.seq, 5);
    const entry = merged.schedules.get('s');
    assert.equal(iso(entry?.handled as Date), '2025-01-01T00:00:09.000Z');
    assert.equal(entry?.last?.by, 'b');
  });

  test('the newer copy names the lease; the older copy\'s lease joins the stale ones', () => {
    const merged = mergeLastTicks(record(4, '2025-01-01T00:00:09Z', null, 'a', 3), record(5, '2025-01-01T00:00:09Z', null, 'b', 8));
    assert.equal(merged.lease, 8);
    assert.deepEqual(merged.stale, [3]);
  });
});

describe('the envelope of a scheduled job', () => {
  const base = { jid: 'j', type: 't', args: null, tube: 'default', createdAt: 'x', enqueuedAt: 'x', retry: 0, priority: 0, ttr: 1 };

  test('carries schedule { id, tick }', () => {
    const parsed = parseEnvelope(Buffer.from(JSON.stringify({ ...base, schedule: { id: 's', tick: '2025-01-01T00:00:00.000Z' } })));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.envelope.schedule, { id: 's', tick: '2025-01-01T00:00:00.000Z' });
  });

  test('a malformed schedule field is refused with a reason', () => {
    const parsed = parseEnvelope(Buffer.from(JSON.stringify({ ...base, schedule: { id: 1 } })));
    assert.equal(parsed.ok, false);
  });
});

/**
 * ReadPacer is pure decision logic over (depth, replies, time): these tests drive it with a made-up
 * clock and made-up reply rates, and check when it holds, how it picks the faster mode, and that
 * stretches the application paced (shallow pipeline, pauses) do not count as the server's speed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReadPacer } from '../../src/read-pacer.js';

const DEEP = ReadPacer.MIN_DEPTH;
const READ_EVERY_MS = 1;

/** A pacer and a clock: `epochs(n, rate)` reads every ms for n whole epochs at `rate` replies per ms. */
function driven() {
  const pacer = new ReadPacer();
  let now = 1000;
  const read = (due: number, answered: number): boolean => pacer.afterRead(due, answered, now);
  return {
    pacer,
    read,
    advance(ms: number): void {
      now += ms;
    },
    /** The hold decisions of the reads, in order. */
    epochs(count: number, rate: number): boolean[] {
      const decisions: boolean[] = [];
      const reads = (count * ReadPacer.EPOCH_MS) / READ_EVERY_MS;
      for (let i = 0; i < reads; i += 1) {
        now += READ_EVERY_MS;
        decisions.push(read(DEEP, rate * READ_EVERY_MS));
      }
      return decisions;
    },
  };
}

/** Runs `epochs` epochs at a rate that depends on whether the pacer holds; counts the epochs it held. */
function settle(rates: { hold: number; free: number }, epochs: number) {
  const run = driven();
  run.read(DEEP, 0);
  let heldEpochs = 0;
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    const holding = run.pacer.holds;
    run.epochs(1, holding ? rates.hold : rates.free);
    if (holding) heldEpochs += 1;
  }
  return { heldEpochs };
}

describe('ReadPacer', () => {
  test('holds only with at least MIN_DEPTH replies due', () => {
    const { read } = driven();
    assert.equal(read(DEEP - 1, 10), false);
    assert.equal(read(1, 1), false);
    assert.equal(read(DEEP, 10), true);
    assert.equal(read(DEEP * 40, 10), true);
  });

  test('starts holding, then tries reading freely once the first run is judged', () => {
    const run = driven();
    run.read(DEEP, 0);
    const first = run.epochs(ReadPacer.MIN_RUN, 50);
    assert.ok(first.slice(0, -1).every(Boolean), 'the first run holds');
    assert.equal(run.pacer.holds, false, 'then the other mode gets a run');
  });

  test('reads freely when that is clearly faster, trying holds again now and then', () => {
    const { heldEpochs } = settle({ hold: 40, free: 80 }, 200);
    // The first run plus one short run per EXPLORE_AFTER epochs.
    const tries = 1 + Math.ceil(200 / (ReadPacer.EXPLORE_AFTER + ReadPacer.MIN_RUN));
    assert.ok(heldEpochs <= tries * ReadPacer.MIN_RUN, `held ${heldEpochs} of 200 epochs`);
    assert.ok(heldEpochs > ReadPacer.MIN_RUN, 'holding was tried again after the first run');
  });

  test('keeps holding when holding is faster, trying free reads now and then', () => {
    const { heldEpochs } = settle({ hold: 90, free: 60 }, 200);
    assert.ok(heldEpochs >= 200 * 0.85, `held only ${heldEpochs} of 200 epochs`);
    assert.ok(heldEpochs < 200, 'reading freely was tried again');
  });

  test('keeps holding when reading freely is only 10% faster (a near tie is noise)', () => {
    const { heldEpochs } = settle({ hold: 90, free: 99 }, 200);
    assert.ok(heldEpochs >= 200 * 0.8, `held only ${heldEpochs} of 200 epochs`);
  });

  test('follows a change: holding loses once the server gets faster than holds allow', () => {
    const run = driven();
    run.read(DEEP, 0);
    for (let epoch = 0; epoch < 60; epoch += 1) run.epochs(1, run.pacer.holds ? 90 : 60);
    assert.equal(run.pacer.holds, true);
    for (let epoch = 0; epoch < 60; epoch += 1) run.epochs(1, run.pacer.holds ? 90 : 150);
    assert.equal(run.pacer.holds, false);
  });

  test('a shallow read restarts the epoch: an application-paced stretch is not scored', () => {
    const run = driven();
    run.read(DEEP, 0);
    for (let i = 0; i < 10 * ReadPacer.EPOCH_MS; i += 1) {
      run.advance(1);
      // Every tenth read finds the pipeline nearly empty, so no epoch is ever complete.
      run.read(i % 10 === 9 ? 1 : DEEP, 50);
    }
    assert.equal(run.pacer.holds, true, 'still in its first mode: nothing was judged');
  });

  test('a pause between reads restarts the epoch: an idle stretch does not score as a slow server', () => {
    const run = driven();
    run.read(DEEP, 0);
    run.epochs(ReadPacer.MIN_RUN, 50);
    assert.equal(run.pacer.holds, false, 'a free run after the first hold run');
    run.epochs(ReadPacer.MIN_RUN - 1, 80);
    // Counted, the pause would make the free run's last epoch score near 0 and holding win.
    run.advance(5000);
    run.read(DEEP, 1);
    run.epochs(1, 80);
    assert.equal(run.pacer.holds, false, 'free reads (80/ms) still beat holds (50/ms)');
  });
});

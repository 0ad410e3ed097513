/** The job filter of `beanline jobs` and the dashboard: which parts look at stats, which at bodies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/index.js';
import { bodyMatch, checkFilter, needsBody, statsMatch } from '../../src/observe/filter.js';
import type { JobEnvelope, JobStats } from '../../src/index.js';
import { thrown } from '../helpers/assertions.js';

const STATS: JobStats = { id: 7, tube: 'mail', state: 'buried', pri: 1, age: 3, delay: 0, ttr: 60, timeLeft: 0, file: 0, reserves: 1, timeouts: 0, releases: 0, buries: 1, kicks: 0 };

function mail(message?: string): JobEnvelope {
  const failure = message === undefined ? {} : { failure: { retryCount: 1, failedAt: 'f', message, errorType: 'Error' } };
  return { jid: 'j', type: 'Mail', args: [], tube: 'mail', createdAt: 'c', enqueuedAt: 'e', retry: 1, priority: 1, ttr: 60, custom: {}, ...failure } as JobEnvelope;
}

test('tube and state are matched on the stats; an empty filter matches everything', () => {
  assert.equal(statsMatch({}, STATS), true);
  assert.equal(statsMatch({ tube: 'mail', state: 'buried' }, STATS), true);
  assert.equal(statsMatch({ tube: 'sms' }, STATS), false);
  assert.equal(statsMatch({ state: 'ready' }, STATS), false);
});

test('only type and text need bodies', () => {
  assert.equal(needsBody({ tube: 'x', state: 'ready' }), false);
  assert.equal(needsBody({ type: 'Mail' }), true);
  assert.equal(needsBody({ grep: 'x' }), true);
});

test('the type matches envelopes only; the text is found in the body or in the failure message', () => {
  const body = Buffer.from('{"note":"say \\"hi\\""}');
  assert.equal(bodyMatch({ type: 'Mail' }, body, null), false, 'a body that is no envelope has no type');
  assert.equal(bodyMatch({ type: 'Mail' }, body, mail()), true);
  assert.equal(bodyMatch({ type: 'Sms' }, body, mail()), false);
  assert.equal(bodyMatch({ grep: 'note' }, body, null), true);
  // JSON escapes the quotes in the body; the message is looked at as the text it is.
  assert.equal(bodyMatch({ grep: 'said "no"' }, body, mail('server said "no"')), true);
  assert.equal(bodyMatch({ grep: 'said "no"' }, body, mail('server said yes')), false);
  assert.equal(bodyMatch({ type: 'Mail', grep: 'absent' }, body, mail()), false, 'both parts must match');
});

test('a bad tube, state, empty type or empty text is an InvalidArgumentError', () => {
  for (const filter of [{ tube: 'a b' }, { state: 'sleeping' }, { type: '' }, { grep: '' }]) {
    const error = thrown(() => checkFilter(filter as never));
    assert.ok(error instanceof InvalidArgumentError, `${JSON.stringify(filter)}: ${String(error)}`);
  }
  assert.deepEqual(checkFilter({ tube: 'mail', state: 'buried' }), { tube: 'mail', state: 'buried' });
});

/** The keys of the live `top` (src/cli/top-screen.ts), read from raw terminal input with no terminal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keysIn } from '../../src/cli/top-screen.js';

test('arrows, pages, home and end in both cursor modes', () => {
  assert.deepEqual(keysIn('\u001b[A\u001bOA\u001b[B\u001bOB'), ['up', 'up', 'down', 'down']);
  assert.deepEqual(keysIn('\u001b[5~\u001b[6~'), ['pageUp', 'pageDown']);
  assert.deepEqual(keysIn('\u001b[H\u001bOH\u001b[1~\u001b[F\u001bOF\u001b[4~'), ['home', 'home', 'home', 'end', 'end', 'end']);
});

test('q, Q and Ctrl-C quit; j, k and space scroll', () => {
  assert.deepEqual(keysIn('qQ\u0003'), ['quit', 'quit', 'quit']);
  assert.deepEqual(keysIn('jk '), ['down', 'up', 'pageDown']);
});

test('anything else is skipped, unknown escape sequences whole', () => {
  // Right and Left arrows, F5, then x: nothing; the "[C" of Right is not read as keys.
  assert.deepEqual(keysIn('\u001b[C\u001b[D\u001b[15~x'), []);
  assert.deepEqual(keysIn('x\u001b[Cq'), ['quit']);
  assert.deepEqual(keysIn('\u001b'), []);
});

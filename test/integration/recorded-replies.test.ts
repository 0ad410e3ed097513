/**
 * The parser's unit tests replay replies recorded once from beanstalkd (test/fixtures/
 * recorded-replies.bin). This records them again from the beanstalkd on this machine and compares:
 * every word, argument and body the same, stats bodies down to their field names (their values,
 * such as pid and uptime, differ from run to run). A server that answers differently fails here.
 *
 * BEANLINE_RECORD=1 writes the new recording over the committed one instead (after a deliberate
 * server upgrade; review the diff of the shapes this test prints).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_JOB_SIZE, readRecording, recordFrom, shapeOf, writeRecording } from '../helpers/recorded.js';
import { serverForFile } from '../helpers/server.js';

test('the committed reply recording matches what this beanstalkd sends for the same script', async () => {
  // A fresh server of its own, whatever BEANSTALKD_URL says: the script relies on job ids from 1.
  const server = await serverForFile({ maxJobSize: MAX_JOB_SIZE });
  const live = await recordFrom(server);
  if (process.env['BEANLINE_RECORD'] === '1') writeRecording(live);
  assert.deepEqual(shapeOf(live), shapeOf(readRecording()));
});

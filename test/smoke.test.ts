import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../src/index.js';
import { sharedServer, uniqueTube } from './helpers/server.js';

const server = await sharedServer();

test('put, reserve, delete round trip', async () => {
  const client = await Client.connect(server.url);
  const tube = uniqueTube();
  assert.equal(await client.use(tube), tube);
  await client.watch(tube);
  await client.ignore('default');
  const id = await client.put('hello');
  const job = await client.reserve();
  assert.equal(job.id, id);
  assert.equal(job.body.toString(), 'hello');
  await client.delete(id);
  const stats = await client.stats();
  assert.equal(stats.version, '1.12');
  assert.equal(typeof stats.maxJobSize, 'number');
  await client.close();
});

/**
 * TLS against a real beanstalkd behind a TLS terminator (beanstalkd itself speaks only plain TCP):
 * the certificate is verified, by a CA given in `tls`, by the system's CAs with `tls: true` or a
 * `beanstalks://` URL (and then refused, the test CA being unknown to the system), and by name; a
 * TLS connection with reconnect survives a cut. The certificate is a committed fixture for
 * 127.0.0.1 and localhost (see test/helpers/tls-terminator.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Client, ConnectionError, parseUrl, TimeoutError, type ConnectOptions } from '../../src/index.js';
import { connectOnTube } from '../helpers/assertions.js';
import { connectFor, onFreshTube, rejection, untilWaiting, within } from '../helpers/harness.js';
import { serverForFile } from '../helpers/server.js';
import { TEST_CA, tlsTerminatorFor } from '../helpers/tls-terminator.js';
import { BOUND, untilStats } from '../helpers/worker.js';

const server = await serverForFile();

const trusted = [
  { label: "tls: { ca } to 127.0.0.1 (the certificate's IP address)", target: (port: number) => ({ host: '127.0.0.1', port, tls: { ca: TEST_CA } }) },
  { label: "tls: { ca } to localhost (the certificate's DNS name)", target: (port: number) => ({ host: 'localhost', port, tls: { ca: TEST_CA } }) },
  {
    label: 'a beanstalks://localhost URL read by parseUrl, with tls: { ca } added (a URL cannot carry a CA)',
    target: (port: number) => ({ ...parseUrl(`beanstalks://localhost:${port}`), tls: { ca: TEST_CA } }),
  },
];

for (const { label, target } of trusted) {
  test(`${label}: put and reserve round trip over TLS, binary body intact`, async (t) => {
    const terminator = await tlsTerminatorFor(t, server.port);
    const { client } = await onFreshTube(t, target(terminator.port));
    // Larger than a TLS record (16 KiB): the body arrives in pieces that the parser joins by its count.
    const body = randomBytes(60_000);
    const id = await client.put(body);
    const job = await within(client.reserve(), BOUND, 'reserve over TLS');
    assert.equal(job.id, id);
    assert.ok(job.body.equals(body), 'the body came back byte for byte');
    await client.delete(id);
    assert.equal(terminator.accepted, 1, 'the commands went through the TLS terminator');
  });
}

const refused = [
  {
    label: 'tls: true (the system CAs, which do not know the test CA)',
    target: (port: number): string | ConnectOptions => ({ host: '127.0.0.1', port, tls: true }),
    code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    message: /unable to verify/,
  },
  {
    label: 'a beanstalks://localhost URL (TLS on, the system CAs)',
    target: (port: number): string | ConnectOptions => `beanstalks://localhost:${port}`,
    code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    message: /unable to verify/,
  },
  {
    label: 'the right CA, but the certificate is not for the name asked for',
    target: (port: number): string | ConnectOptions => ({ host: '127.0.0.1', port, tls: { ca: TEST_CA, servername: 'queue.example' } }),
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    message: /queue\.example/,
  },
];

for (const { label, target, code, message } of refused) {
  test(`${label}: the connect is refused with ConnectionError (${code}), nothing reaches the server`, async (t) => {
    const terminator = await tlsTerminatorFor(t, server.port);
    const connecting = Client.connect(target(terminator.port));
    // Should it connect after all, the client must not outlive the test.
    t.after(() => connecting.then((client) => client.destroy(), () => undefined));
    const error = await rejection(connecting, BOUND, 'connecting with a certificate that must be refused');

    assert.ok(error instanceof ConnectionError, `got ${String(error)}`);
    const cause = error.cause as NodeJS.ErrnoException | undefined;
    assert.equal(cause?.code, code, `cause: ${String(cause)}`);
    assert.match(error.message, message);
    assert.equal(terminator.accepted, 0, 'no TLS connection was established');
  });
}

test('beanstalks:// to a plain beanstalkd: the server never answers the handshake, so connectTimeoutMs ends it with TimeoutError', async (t) => {
  const observer = await connectFor(t, server.url);
  const connections = (await observer.stats()).currentConnections;
  const connecting = Client.connect({ ...parseUrl(`beanstalks://127.0.0.1:${server.port}`), connectTimeoutMs: 300 });
  const error = await rejection(connecting, BOUND, 'a TLS handshake with a plain server');

  assert.ok(error instanceof TimeoutError, `got ${String(error)}`);
  assert.equal(error.command, 'connect');
  // The socket is closed, not left open on the server.
  await untilStats(() => observer.stats(), (stats) => stats.currentConnections === connections, 'the connection closed on the server');
});

test('TLS with reconnect survives a cut of the connections: a new handshake, tubes restored, commands go on', async (t) => {
  const terminator = await tlsTerminatorFor(t, server.port);
  const { client, tube } = await onFreshTube(t, {
    host: '127.0.0.1',
    port: terminator.port,
    tls: { ca: TEST_CA },
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
  });
  const observer = await connectOnTube(server.url, tube);
  t.after(() => observer.destroy());
  const waiting = client.reserve();
  await within(untilWaiting(observer, tube), BOUND, 'the reserve parked in the server');
  const reconnected = new Promise((resolve) => client.once('reconnect', resolve));

  terminator.cut();
  const lost = await rejection(waiting, BOUND, 'the reserve in flight at the cut');
  assert.ok(lost instanceof ConnectionError && lost.maybeApplied, `the reserve got ${String(lost)}`);
  const put = client.put('after the cut');
  await within(reconnected, BOUND, "the 'reconnect' event");
  const id = await within(put, BOUND, 'a put issued while reconnecting');

  assert.equal(terminator.accepted, 2, 'a second TLS connection, verified like the first');
  assert.equal(await client.listTubeUsed(), tube);
  assert.deepEqual(await client.listTubesWatched(), [tube]);
  const job = await within(client.reserve(), BOUND, 'reserve after the reconnect');
  assert.equal(job.id, id);
  assert.equal(job.body.toString(), 'after the cut');
  await client.delete(id);
});

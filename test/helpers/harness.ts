/**
 * Small tools for tests that must not hang: bounded awaits, promises whose state can be read, and
 * clients and servers that are closed when the test ends, whatever the outcome.
 */
import type { TestContext } from 'node:test';
import { Client, type ConnectOptions } from '../../src/index.js';
import { connectOnTube } from './assertions.js';
import { startServer, uniqueTube, type TestServer } from './server.js';

/** Resolves or rejects like `promise`, but rejects if it is still pending after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error `promise` rejects with, within `ms`; fails if it resolves or stays pending. */
export async function rejection(promise: Promise<unknown>, ms: number, what: string): Promise<Error> {
  const outcome = await within(
    promise.then(
      (value: unknown) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    ms,
    what,
  );
  if (!('error' in outcome)) throw new Error(`${what}: expected a rejection, got ${String(outcome.value)}`);
  if (!(outcome.error instanceof Error)) throw new Error(`${what}: rejected with a non-Error ${String(outcome.error)}`);
  return outcome.error;
}

export interface Tracked<T> {
  readonly promise: Promise<T>;
  /** True once the promise has resolved or rejected. */
  readonly settled: boolean;
}

/** Wraps a promise so a test can ask whether it has settled yet (its rejection is still seen by awaiting `promise`). */
export function track<T>(promise: Promise<T>): Tracked<T> {
  let settled = false;
  const mark = (): void => {
    settled = true;
  };
  promise.then(mark, mark);
  return {
    promise,
    get settled() {
      return settled;
    },
  };
}

/** A client that is destroyed when the test ends (a no-op if the test closed it). */
export async function connectFor(t: TestContext, target: string | ConnectOptions): Promise<Client> {
  const client = await Client.connect(target);
  t.after(() => client.destroy());
  return client;
}

/** A client that uses and watches only a fresh tube, destroyed when the test ends. */
export async function onFreshTube(t: TestContext, target: string | ConnectOptions): Promise<{ client: Client; tube: string }> {
  const tube = uniqueTube();
  const client = await connectOnTube(target, tube);
  t.after(() => client.destroy());
  return { client, tube };
}

/** A beanstalkd of the test's own, killed when the test ends. */
export async function ownServer(t: TestContext): Promise<TestServer> {
  const server = await startServer();
  t.after(() => server.kill());
  return server;
}

/**
 * Resolves once the server reports a connection blocked in `reserve` on `tube`. Each check is a
 * round trip on `observer`; there is no event for "the server has parked the reserve".
 */
export async function untilWaiting(observer: Client, tube: string, waiting = 1): Promise<void> {
  for (let check = 0; check < 10_000; check += 1) {
    if ((await observer.statsTube(tube)).currentWaiting >= waiting) return;
  }
  throw new Error(`no reserve became waiting on ${tube}`);
}

/** The error the client's next 'close' event carries (undefined for a clean close). */
export function closeEvent(client: Client): Promise<Error | undefined> {
  return new Promise((resolve) => client.once('close', resolve));
}

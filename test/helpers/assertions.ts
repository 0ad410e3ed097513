/** Assertions and client set-up shared by the command, validation and body tests. */
import assert from 'node:assert/strict';
import {
  BeanstalkError,
  Client,
  InvalidArgumentError,
  type ConnectOptions,
  type ServerErrorCode,
} from '../../src/index.js';

/** A client that puts into `tube` and reserves only from it (so it never sees another test's jobs). */
export async function connectOnTube(target: string | ConnectOptions, tube: string): Promise<Client> {
  const client = await Client.connect(target);
  try {
    await client.use(tube);
    await client.watch(tube);
    await client.ignore('default');
  } catch (error) {
    client.destroy();
    throw error;
  }
  return client;
}

/** For `assert.rejects`: the error class of one server reply word, naming the command. */
export function isReplyError(
  type: new (...args: never[]) => BeanstalkError,
  code: ServerErrorCode,
  command: string,
): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.ok(error instanceof BeanstalkError);
    assert.equal(error.code, code);
    assert.equal(error.command, command);
    return true;
  };
}

/**
 * `reply` rejects with the error class for one server reply word, naming the command; afterwards the
 * same client still answers a command.
 */
export async function rejectsWithReply(
  client: Client,
  reply: Promise<unknown>,
  type: new (...args: never[]) => BeanstalkError,
  code: ServerErrorCode,
  command: string,
): Promise<void> {
  await assert.rejects(reply, isReplyError(type, code, command));
  assert.equal(client.usable, true, 'an error reply must not close the connection');
  assert.equal(await client.listTubeUsed(), client.using);
}

/** `call` returns a promise (it does not throw) that rejects with InvalidArgumentError for `argument`. */
export async function rejectsAsInvalid(call: () => Promise<unknown>, argument: string, label = argument): Promise<void> {
  let pending: Promise<unknown> = Promise.resolve();
  assert.doesNotThrow(() => {
    pending = call();
  }, `${label}: a bad argument must reject the promise, not throw`);
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `${label}: expected InvalidArgumentError, got ${String(error)}`);
    assert.ok(error instanceof TypeError);
    assert.equal(error.argument, argument, label);
    return true;
  });
}

/** What `action` throws; fails the test when it throws nothing. */
export function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return assert.fail('expected an exception');
}

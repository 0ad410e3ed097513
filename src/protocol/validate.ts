import { InvalidArgumentError } from '../errors.js';

/** beanstalkd reads priorities, delays, TTRs, timeouts and kick bounds as unsigned 32-bit numbers. */
export const MAX_UINT32 = 4294967295;
export const MAX_TUBE_NAME_BYTES = 200;

// The server's charset for names; a name may not start with '-'.
const TUBE_NAME = /^[A-Za-z0-9+/;.$_()][A-Za-z0-9\-+/;.$_()]*$/;

export function checkTube(tube: unknown, argument = 'tube'): string {
  if (typeof tube !== 'string') {
    throw new InvalidArgumentError(argument, `${argument} must be a string, got ${describe(tube)}`);
  }
  if (tube.length === 0 || tube.length > MAX_TUBE_NAME_BYTES) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be 1 to ${MAX_TUBE_NAME_BYTES} bytes long, got ${tube.length}`,
    );
  }
  if (!TUBE_NAME.test(tube)) {
    throw new InvalidArgumentError(
      argument,
      `${argument} ${JSON.stringify(tube)} is not a valid tube name: use letters, digits and - + / ; . $ _ ( ), not starting with -`,
    );
  }
  return tube;
}

/** A whole number from 0 to 2^32-1 (priority, delay, ttr, seconds, kick bound). */
export function checkUint32(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be a whole number from 0 to ${MAX_UINT32}, got ${describe(value)}`,
    );
  }
  return value;
}

/** A job id: a positive whole number (JavaScript's safe range covers every id a server hands out). */
export function checkId(value: unknown, argument = 'id'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(argument, `${argument} must be a positive whole number, got ${describe(value)}`);
  }
  return value;
}

export function checkBody(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new InvalidArgumentError('body', `body must be a Buffer, Uint8Array or string, got ${describe(body)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return typeof value;
}

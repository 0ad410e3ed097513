/**
 * beanline as built in another checkout (`--baseline DIR`), measured beside this one in the same
 * run. Nothing here may import ../../src: the two versions must never share a process.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectWith, type Library } from '../library.js';
import type { AdapterModule } from './index.js';

/** The build the baseline is loaded from, inside DIR. */
export const BASELINE_ENTRY = join('dist', 'src', 'index.js');

export async function open(dir: string): Promise<AdapterModule> {
  const library = (await import(pathToFileURL(join(dir, BASELINE_ENTRY)).href)) as Library;
  return { library, connect: (port) => connectWith(library, port) };
}

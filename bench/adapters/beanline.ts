/** beanline itself: its Client already has the interface the cases use. */
import * as beanline from '../../src/index.js';
import { connectWith, type Library } from '../library.js';
import type { BenchClient } from './index.js';

export const library: Library = beanline;

export function connect(port: number): Promise<BenchClient> {
  return connectWith(library, port);
}

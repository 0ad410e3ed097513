/** beanline itself: its Client already has the interface the cases use. */
import { Client } from '../../src/index.js';
import type { BenchClient } from './index.js';

export function connect(port: number): Promise<BenchClient> {
  return Client.connect({ host: '127.0.0.1', port });
}

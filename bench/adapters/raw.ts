/** The ceiling: a bare pipelined socket (see raw-client.ts). */
import { RawClient } from '../raw-client.js';
import type { BenchClient } from './index.js';

export function connect(port: number): Promise<BenchClient> {
  return RawClient.connect(port);
}

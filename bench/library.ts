/**
 * beanline as the cases use it, wherever it was loaded from: this checkout's src/ (adapters/beanline)
 * or another commit's build (adapters/baseline). The import of src/ here is types only, erased when
 * compiled, so a child that measures the baseline never loads this checkout's code.
 */
import type { BenchClient } from './adapters/index.js';

type Beanline = typeof import('../src/index.js');

/**
 * What the cases use of beanline (typed by this checkout: a baseline is assumed to offer the same;
 * `Cluster` only in case (h), which the baseline does not run).
 */
export type Library = Pick<Beanline, 'Client' | 'Cluster' | 'defineJob' | 'Worker'>;

export function connectWith(library: Library, port: number): Promise<BenchClient> {
  return library.Client.connect({ host: '127.0.0.1', port });
}

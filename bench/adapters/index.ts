/**
 * The clients under test, one small adapter module each, loaded only in the child process that
 * measures it (so that no other client's code is in its memory). Every adapter offers the same
 * promise-per-command interface to the cases.
 */
export interface BenchJob {
  id: number | string;
  body: Uint8Array;
}

/** One connection of a client. */
export interface BenchClient {
  put(body: Buffer): Promise<unknown>;
  /** A job from the default tube, waiting for one if need be. */
  reserve(): Promise<BenchJob>;
  delete(id: BenchJob['id']): Promise<unknown>;
  close(): Promise<void>;
}

export interface AdapterModule {
  connect(port: number): Promise<BenchClient>;
}

export interface AdapterInfo {
  name: string;
  /** The npm package measured, whose version the report shows; none for beanline and raw. */
  npm: string | null;
  /** False when the client waits for each reply before it sends the next command. */
  pipelines: boolean;
  /** Another npm client, compared with beanline (raw and beanline are not peers). */
  peer: boolean;
  load(): Promise<AdapterModule>;
}

export const ADAPTERS: readonly AdapterInfo[] = [
  { name: 'beanline', npm: null, pipelines: true, peer: false, load: () => import('./beanline.js') },
  { name: 'raw', npm: null, pipelines: true, peer: false, load: () => import('./raw.js') },
  { name: 'node-beanstalk', npm: 'node-beanstalk', pipelines: false, peer: true, load: () => import('./node-beanstalk.js') },
  { name: 'fivebeans', npm: 'fivebeans', pipelines: true, peer: true, load: () => import('./fivebeans.js') },
  { name: 'jackd', npm: 'jackd', pipelines: true, peer: true, load: () => import('./jackd.js') },
  { name: 'beanstalkd', npm: 'beanstalkd', pipelines: false, peer: true, load: () => import('./beanstalkd.js') },
];

export function adapterNamed(name: string): AdapterInfo {
  const adapter = ADAPTERS.find((candidate) => candidate.name === name);
  if (adapter === undefined) {
    throw new Error(`unknown client ${JSON.stringify(name)}; known: ${ADAPTERS.map((a) => a.name).join(', ')}`);
  }
  return adapter;
}

/**
 * The clients under test, one small adapter module each, loaded only in the child process that
 * measures it (so that no other client's code is in its memory). Every adapter offers the same
 * promise-per-command interface to the cases.
 */
import type { CaseId } from '../cases.js';
import type { Library } from '../library.js';

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
  /** Selects the tube later puts go to; only the clients that put plainly into a named tube need it. */
  use?(tube: string): Promise<unknown>;
  /** A job's tube and state, null when the server answers NOT_FOUND; only the loop of case (i) needs it. */
  jobState?(id: number): Promise<JobLook | null>;
  /** A job's body, null when the server answers NOT_FOUND; only the loop of case (i) needs it. */
  peekBody?(id: number): Promise<Uint8Array | null>;
}

/** What `stats-job` tells the loop of case (i). */
export interface JobLook {
  tube: string;
  state: string;
}

export interface AdapterModule {
  connect(port: number): Promise<BenchClient>;
  /** beanline's Client, defineJob and Worker, for the cases that go through them (beanline and baseline only). */
  library?: Library;
}

export interface LoadOptions {
  /** `--baseline DIR`, a checkout of another commit with its dist/ built; null without the option. */
  baselineDir: string | null;
}

export interface AdapterInfo {
  name: string;
  /** The npm package measured, whose version the report shows; none for beanline, baseline and raw. */
  npm: string | null;
  /** False when the client waits for each reply before it sends the next command. */
  pipelines: boolean;
  /** Another npm client, compared with beanline (raw, beanline and baseline are not). */
  peer: boolean;
  /** When set, the client runs in these cases only (whatever else the cases say). */
  onlyIn?: readonly CaseId[];
  load(options: LoadOptions): Promise<AdapterModule>;
}

export const BASELINE = 'baseline';

async function loadBaseline({ baselineDir }: LoadOptions): Promise<AdapterModule> {
  if (baselineDir === null) throw new Error(`the ${BASELINE} client needs --baseline DIR`);
  return (await import('./baseline.js')).open(baselineDir);
}

export const ADAPTERS: readonly AdapterInfo[] = [
  { name: 'beanline', npm: null, pipelines: true, peer: false, load: () => import('./beanline.js') },
  { name: BASELINE, npm: null, pipelines: true, peer: false, load: loadBaseline },
  { name: 'raw', npm: null, pipelines: true, peer: false, load: () => import('./raw.js') },
  // beanline's Client driven one command at a time: the loop other tools run, for the scan case.
  { name: 'loop', npm: null, pipelines: false, peer: false, onlyIn: ['i'], load: () => import('./loop.js') },
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

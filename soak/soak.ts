/**
 * `npm run soak`: many jobs through a real beanstalkd that is killed and restarted under load.
 *
 * A producer `Client` (reconnect on) enqueues numbered jobs, keeping a bounded window of puts in
 * flight, while a `Worker` runs them; a few runs fail once and are retried. Meanwhile the server is
 * SIGKILLed and started again on the same port and binlog. At the end every number enqueued must
 * have run to success (more than once is allowed: at-least-once) and memory must be flat.
 *
 *   node --expose-gc dist/soak/soak.js --jobs 200000 --concurrency 20 --restarts 2 --fail-rate 0.01
 *
 * Exit code 1 when a job was lost, the run stalled, or RSS grew by more than 50% from the middle to the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, ConnectionError, defineJob, Worker } from '../src/index.js';
import { startServer, type TestServer } from '../test/helpers/server.js';

const TUBE = 'soak';
const STALL_MS = 60_000;
const MAX_RSS_GROWTH = 1.5;

const { values: argv } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200000' },
    concurrency: { type: 'string', default: '20' },
    restarts: { type: 'string', default: '2' },
    'fail-rate': { type: 'string', default: '0.01' },
    window: { type: 'string', default: '1000' },
    backlog: { type: 'string', default: '10000' },
    downtime: { type: 'string', default: '0' },
    'drain-timeout': { type: 'string', default: '120' },
  },
});

function option(name: keyof typeof argv, min: number, max = Infinity): number {
  const value = Number(argv[name]);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
  return value;
}

const jobs = option('jobs', 1);
const concurrency = option('concurrency', 1);
const restarts = option('restarts', 0);
const failRate = option('fail-rate', 0, 1);
const window = option('window', 1);
const backlog = option('backlog', 1);
/** Milliseconds the server stays down at each restart. */
const downtimeMs = option('downtime', 0);
const drainTimeoutMs = option('drain-timeout', 1) * 1000;
/** Job `seq` fails its first run when seq % failEvery is 0. */
const failEvery = failRate > 0 ? Math.round(1 / failRate) : 0;

// Per job number, in arrays sized once, so that the bookkeeping does not show in the memory figures.
const enqueued = new Uint8Array(jobs); // its put resolved
const uncertain = new Uint8Array(jobs); // a put of it failed with maybeApplied: it may exist twice
const succeeded = new Uint16Array(jobs); // runs that succeeded

const count = {
  enqueued: 0,
  done: 0,
  runs: 0,
  plannedFailures: 0,
  retries: 0,
  jobLost: 0,
  uncertainPuts: 0,
  refusedPuts: 0,
  producerReconnects: 0,
  restarts: 0,
};
const workerErrors = new Map<string, number>();
/** Per restart: ms from the kill until a job ran to success on the new server. */
const recoveries: number[] = [];
/** idle: before any job; start: 10% done (warmed up); middle: 50% done; end: drained. */
const memory: Partial<Record<'idle' | 'start' | 'middle' | 'end', NodeJS.MemoryUsage>> = {};

function sampleMemory(): NodeJS.MemoryUsage {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
}

const restartAt = Array.from({ length: restarts }, (_, i) => Math.floor((jobs * (i + 1)) / (restarts + 1)));
let restarting: Promise<void> = Promise.resolve();
let killedAt: number | undefined;

let fail!: (error: Error) => void;
const failed = new Promise<never>((_, reject) => {
  fail = reject;
});
failed.catch(() => {});
let finished = false;
/** The producer waits on this for a put to settle or a job to be done. */
let wakeProducer = (): void => {};

const soakJob = defineJob<{ seq: number }>({
  type: 'soak',
  tube: TUBE,
  backoff: () => 0,
  run: ({ seq }, context) => {
    if (failEvery > 0 && seq % failEvery === 0 && context.attempt === 1) {
      count.plannedFailures += 1;
      throw new Error(`planned failure of job ${seq}`);
    }
    count.runs += 1;
    succeeded[seq]! += 1;
    if (succeeded[seq] === 1) onFirstSuccess();
  },
});

function onFirstSuccess(): void {
  count.done += 1;
  wakeProducer();
  if (killedAt !== undefined && count.restarts === recoveries.length + 1) {
    recoveries.push(performance.now() - killedAt);
  }
  if (count.done === Math.ceil(jobs / 10)) memory.start = sampleMemory();
  if (count.done === Math.ceil(jobs / 2)) memory.middle = sampleMemory();
  if (count.done === restartAt[0]) {
    restartAt.shift();
    restarting = restarting.then(restartServer).catch(fail);
  }
}

const binlogDir = await mkdtemp(path.join(os.tmpdir(), 'beanline-soak-'));
let server: TestServer | undefined;

/** SIGKILL, then (after `downtimeMs`) a new server on the same port with the same binlog. */
async function restartServer(): Promise<void> {
  if (server === undefined) return;
  killedAt = performance.now();
  await server.kill('SIGKILL');
  await sleep(downtimeMs);
  server = await startServer({ port: server.port, binlogDir });
  count.restarts += 1;
}

/** Puts job `seq` until a put of it resolves; a put that may have been applied is counted as uncertain. */
async function putSurely(producer: Client, seq: number): Promise<void> {
  while (!finished) {
    try {
      await soakJob.enqueue(producer, { seq });
      enqueued[seq] = 1;
      count.enqueued += 1;
      return;
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      if (error.maybeApplied) {
        uncertain[seq] = 1;
        count.uncertainPuts += 1;
      } else {
        count.refusedPuts += 1;
        await sleep(50); // the reconnect queue is full or timed out: give the reconnect time
      }
    }
  }
}

/**
 * Keeps up to `window` puts in flight, and the producer at most `backlog` jobs ahead of the worker,
 * so that puts are going on whenever the server is killed.
 */
async function produce(producer: Client): Promise<void> {
  let inFlight = 0;
  const settled = (): void => {
    inFlight -= 1;
    wakeProducer();
  };
  for (let seq = 0; seq < jobs && !finished; ) {
    if (inFlight >= window || seq - count.done >= backlog) {
      await new Promise<void>((resolve) => (wakeProducer = resolve));
      continue;
    }
    inFlight += 1;
    putSurely(producer, seq++).then(settled, fail);
  }
  while (inFlight > 0 && !finished) await new Promise<void>((resolve) => (wakeProducer = resolve));
}

/** Waits until every job ran to success and the tube is empty; false when the deadline came first. */
async function drain(producer: Client, deadline: number): Promise<boolean> {
  await restarting;
  while (!finished && performance.now() < deadline) {
    if (count.done === jobs && (await jobsInTube(producer)) === 0) return true;
    await sleep(100);
  }
  return false;
}

async function jobsInTube(producer: Client): Promise<number> {
  const tube = await producer.statsTube(TUBE).catch(() => null);
  if (tube === null) return NaN;
  return tube.currentJobsReady + tube.currentJobsReserved + tube.currentJobsDelayed + tube.currentJobsBuried;
}

/** Prints progress every 5 s, and fails the run when nothing moved for STALL_MS. */
function watch(started: number): NodeJS.Timeout {
  let last = { enqueued: -1, done: -1, at: performance.now() };
  return setInterval(() => {
    const now = performance.now();
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(
      `[${((now - started) / 1000).toFixed(0)} s] enqueued ${count.enqueued}, done ${count.done}, ` +
        `restarts ${count.restarts}, rss ${rss.toFixed(0)} MB`,
    );
    if (count.enqueued !== last.enqueued || count.done !== last.done) last = { enqueued: count.enqueued, done: count.done, at: now };
    else if (now - last.at > STALL_MS) fail(new Error(`no progress for ${STALL_MS / 1000} s`));
  }, 5000);
}

function tally(): { lost: number[]; duplicates: number; uncertainDuplicates: number } {
  const lost: number[] = [];
  let duplicates = 0;
  let uncertainDuplicates = 0;
  for (let seq = 0; seq < jobs; seq += 1) {
    if (enqueued[seq] === 1 && succeeded[seq] === 0) lost.push(seq);
    if (succeeded[seq]! > 1) {
      duplicates += 1;
      if (uncertain[seq] === 1) uncertainDuplicates += 1;
    }
  }
  return { lost, duplicates, uncertainDuplicates };
}

function machine(beanstalkdVersion: string): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.availableParallelism()} CPUs (${cpu}), Node ${process.version}, beanstalkd ${beanstalkdVersion}`;
}

const mbs = (field: 'rss' | 'heapUsed'): string =>
  [memory.idle, memory.start, memory.middle, memory.end].map((m) => (m === undefined ? '?' : (m[field] / 2 ** 20).toFixed(1))).join(' / ');
const ratio = (a: number | undefined, b: number | undefined): number => (a === undefined || b === undefined ? NaN : a / b);
const n = (value: number): string => value.toLocaleString('en-US');

let producer: Client | undefined;
let worker: Worker | undefined;
let timer: NodeJS.Timeout | undefined;
try {
  server = await startServer({ binlogDir });
  const { host, port } = server;
  producer = await Client.connect({ host, port, reconnect: true });
  producer.on('reconnect', () => (count.producerReconnects += 1));
  producer.on('error', () => {}); // a lost connection: the puts in flight reject, and are counted there
  await producer.use(TUBE);
  const version = (await producer.stats()).version;

  worker = new Worker({ connection: { host, port }, jobs: [soakJob], concurrency });
  worker.on('job:retry', () => (count.retries += 1));
  worker.on('job:lost', () => (count.jobLost += 1));
  worker.on('error', (error) => workerErrors.set(error.name, (workerErrors.get(error.name) ?? 0) + 1));
  await worker.start();

  memory.idle = sampleMemory();
  console.log(
    `soak: ${n(jobs)} jobs, concurrency ${concurrency}, window ${window}, backlog ${backlog}, fail rate ${failRate}, ` +
      `${restarts} restart(s); beanstalkd on port ${port}, binlog ${binlogDir}`,
  );
  const started = performance.now();
  timer = watch(started);
  let error: Error | undefined;
  let drained = false;
  try {
    await Promise.race([produce(producer), failed]);
    drained = await Promise.race([drain(producer, performance.now() + drainTimeoutMs), failed]);
  } catch (caught) {
    error = caught as Error;
  }
  finished = true;
  const seconds = (performance.now() - started) / 1000;
  memory.end = sampleMemory();
  const left = await Promise.race([jobsInTube(producer), sleep(2000, NaN, { ref: false })]);
  const { lost, duplicates, uncertainDuplicates } = tally();
  const growth = ratio(memory.end?.rss, memory.middle?.rss);
  const problems = [
    ...(error === undefined ? [] : [error.message]),
    ...(lost.length > 0 ? [`${lost.length} lost`] : []),
    ...(count.enqueued < jobs ? [`${jobs - count.enqueued} never enqueued`] : []),
    ...(growth > MAX_RSS_GROWTH ? [`RSS grew ×${growth.toFixed(2)} from the middle to the end`] : []),
  ];
  process.exitCode = problems.length === 0 ? 0 : 1;

  const errors = [...workerErrors].map(([name, times]) => `${name} ×${times}`).join(', ') || 'none';
  const rows: [string, string][] = [
    ['result', problems.length === 0 ? 'PASS' : `FAIL: ${problems.join('; ')}`],
    ['command', `--jobs ${jobs} --concurrency ${concurrency} --restarts ${restarts} --fail-rate ${failRate} --window ${window} --backlog ${backlog} --downtime ${downtimeMs}`],
    ['machine', machine(version)],
    ['date', new Date().toISOString()],
    ['enqueued (put resolved)', `${n(count.enqueued)} of ${n(jobs)}`],
    ['processed (distinct jobs run to success)', n(count.done)],
    ['runs to success', n(count.runs)],
    ['duplicates (jobs run to success twice or more)', `${n(duplicates)} (${n(uncertainDuplicates)} of them after an uncertain put)`],
    ['lost (enqueued, never run to success)', `${n(lost.length)}${lost.length > 0 ? ` (first: ${lost.slice(0, 10).join(', ')})` : ''}`],
    ['uncertain puts (maybeApplied, put again)', n(count.uncertainPuts)],
    ['puts refused while disconnected (put again)', n(count.refusedPuts)],
    ['planned failures / retries seen (job:retry)', `${n(count.plannedFailures)} / ${n(count.retries)}`],
    ['job:lost events', n(count.jobLost)],
    ['worker errors', errors],
    ['restarts (kill → next job done)', `${count.restarts} (${recoveries.map((ms) => `${ms.toFixed(0)} ms`).join(', ') || '-'})`],
    ['producer reconnects', n(count.producerReconnects)],
    ['drained (all done, tube empty)', `${drained ? 'yes' : 'no'}; jobs left in tube: ${Number.isNaN(left) ? '?' : n(left)}`],
    ['duration', `${seconds.toFixed(1)} s`],
    ['rate', `${n(Math.round(count.done / seconds))} jobs/s`],
    ['RSS idle / start (10% done) / middle (50%) / end', `${mbs('rss')} MB`],
    ['RSS end/start, end/middle', `${ratio(memory.end?.rss, memory.start?.rss).toFixed(2)}, ${growth.toFixed(2)}`],
    ['heap used idle / start / middle / end', `${mbs('heapUsed')} MB`],
  ];
  console.log(['', '### beanline soak', '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), ''].join('\n'));
} finally {
  finished = true;
  clearInterval(timer);
  await worker?.stop({ timeoutMs: 5000 });
  producer?.destroy();
  await restarting.catch(() => {});
  await server?.kill();
  await rm(binlogDir, { recursive: true, force: true });
}

// Everything is closed: if something of beanline still holds the event loop, say so instead of hanging.
setTimeout(() => {
  console.error('soak: the process did not exit 5 s after cleanup (a handle is still open)');
  process.exit(1);
}, 5000).unref();

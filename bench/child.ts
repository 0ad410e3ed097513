/**
 * One measurement in a process of its own, so that its CPU time and memory are the client's alone:
 * `node child.js '<ChildTask as JSON>'`. It reports a ChildResult over IPC and exits.
 */
import { BENCH_JOB_TYPE, makeArgs, makeBody, Tally, type BodyArgs } from './bodies.js';
import { adapterNamed, type AdapterModule } from './adapters/index.js';
import { DEFAULT_TUBE, type Plan } from './cases.js';
import { runDeleteCase } from './delete-case.js';
import { drive } from './drive.js';
import type { Library } from './library.js';
import { runOverviewCase } from './overview-case.js';
import { scanLoop, scanPipelined } from './scan-case.js';
import { cpuTimeNs } from './schedstat.js';
import type { ChildResult, ChildTask, Timing } from './task.js';
import { runWorkerCase } from './worker-case.js';

const task = JSON.parse(process.argv[2] ?? '') as ChildTask;

/** The servers' CPU time so far, summed, in ns; null if /proc cannot tell for any of them. */
function serversCpuNs(): number | null {
  const times = task.serverPids.map(cpuTimeNs);
  return times.includes(null) ? null : (times as number[]).reduce((sum, time) => sum + time, 0);
}

async function timed(work: () => Promise<unknown>): Promise<Timing> {
  const serverCpu = serversCpuNs();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const serverCpuAfter = serversCpuNs();
  const serverCpuNs = serverCpu === null || serverCpuAfter === null ? null : serverCpuAfter - serverCpu;
  return { elapsedMs, cpuUs: used.user + used.system, serverCpuNs };
}

/** `maxRssKb` only where the client is another process than this one (case (j)'s CLI). */
type Outcome = Omit<ChildResult, 'maxRssKb' | 'error'> & { problems: string[]; maxRssKb?: number };

/** The plan's warm-up operations untimed, then its jobs timed; tickets run on from one to the other. */
async function warmThenTime(
  plan: Plan,
  lanes: number,
  operation: (ticket: number, lane: number) => Promise<unknown>,
): Promise<Timing> {
  await drive(plan.warmup, lanes, operation);
  return timed(() => drive(plan.jobs, lanes, (ticket, lane) => operation(plan.warmup + ticket, lane)));
}

async function putJobs(client: AdapterModule, port: number, plan: Extract<Plan, { kind: 'put' }>): Promise<Outcome> {
  const connection = await client.connect(port);
  if (plan.tube !== DEFAULT_TUBE) {
    if (connection.use === undefined) throw new Error(`${task.client} cannot put into tube ${plan.tube}`);
    await connection.use(plan.tube);
  }
  const timing = await warmThenTime(plan, plan.window, (index) => connection.put(makeBody(index)));
  await connection.close();
  return { timing, tally: null, enqueue: null, problems: [] };
}

async function enqueueJobs(library: Library, port: number, plan: Extract<Plan, { kind: 'enqueue' }>): Promise<Outcome> {
  const client = await library.Client.connect({ host: '127.0.0.1', port });
  // Only enqueued here: the parent drains and checks the tube.
  const benchJob = library.defineJob<BodyArgs>({ type: BENCH_JOB_TYPE, tube: plan.tube, run: () => {} });
  const timing = await warmThenTime(plan, plan.window, (index) => benchJob.enqueue(client, makeArgs(index)));
  await client.close();
  return { timing, tally: null, enqueue: null, problems: [] };
}

/**
 * Puts through one Cluster of every server, round robin (no key). The parent drains every server and
 * checks each job came back once, wherever it went.
 */
async function clusterPutJobs(library: Library, ports: number[], plan: Extract<Plan, { kind: 'cluster-put' }>): Promise<Outcome> {
  const cluster = await library.Cluster.connect(ports.map((port) => `beanstalk://127.0.0.1:${port}`));
  const problems: string[] = [];
  cluster.on('server:down', ({ server, error }) => problems.push(`${server} marked down: ${error.message}`));
  const options = { tube: plan.tube };
  const timing = await warmThenTime(plan, plan.window, (index) => cluster.put(makeBody(index), options));
  await cluster.close();
  return { timing, tally: null, enqueue: null, problems };
}

async function reserveJobs(client: AdapterModule, port: number, plan: Extract<Plan, { kind: 'reserve' }>): Promise<Outcome> {
  const connections = await Promise.all(Array.from({ length: plan.connections }, () => client.connect(port)));
  const tally = new Tally(plan.warmup + plan.jobs);
  const timing = await warmThenTime(plan, plan.connections, async (_, lane) => {
    const connection = connections[lane]!;
    const job = await connection.reserve();
    tally.see(job.body);
    await connection.delete(job.id);
  });
  await Promise.all(connections.map((connection) => connection.close()));
  return { timing, tally: tally.summary(), enqueue: null, problems: [] };
}

/** beanline's own API, from this checkout or the baseline's, for the plans that go through it. */
function libraryOf(client: AdapterModule): Library {
  if (client.library === undefined) throw new Error(`${task.client} is not beanline: it has no defineJob or Worker`);
  return client.library;
}

async function carryOut(task: ChildTask): Promise<Outcome> {
  const { plan, ports } = task;
  const port = ports[0] as number;
  const client = await adapterNamed(task.client).load({ baselineDir: task.baselineDir });
  switch (plan.kind) {
    case 'put':
      return putJobs(client, port, plan);
    case 'enqueue':
      return enqueueJobs(libraryOf(client), port, plan);
    case 'reserve':
      return reserveJobs(client, port, plan);
    case 'cluster-put':
      return clusterPutJobs(libraryOf(client), ports, plan);
    case 'worker': {
      const { run, ...rest } = await runWorkerCase(libraryOf(client), port, plan, timed);
      return { timing: run, ...rest };
    }
    case 'scan': {
      const scan = plan.loop === null ? scanPipelined(libraryOf(client), port, plan, timed) : scanLoop(client, port, plan, timed);
      const { timing, ids, problems } = await scan;
      return { timing, units: ids, tally: null, enqueue: null, problems };
    }
    case 'bulk-delete':
      return { ...(await runDeleteCase(port, plan, timed)), tally: null, enqueue: null };
    case 'overview': {
      const { timing, refresh, problems } = await runOverviewCase(port, plan, timed);
      return { timing, units: plan.refreshes, refresh, tally: null, enqueue: null, problems };
    }
  }
}

const result: ChildResult = await carryOut(task).then(
  ({ problems, ...outcome }) => ({
    maxRssKb: process.resourceUsage().maxRSS,
    ...outcome,
    error: problems.length === 0 ? null : problems.slice(0, 3).join('; '),
  }),
  (error: unknown) => ({
    timing: null,
    tally: null,
    enqueue: null,
    maxRssKb: process.resourceUsage().maxRSS,
    error: error instanceof Error ? error.message : String(error),
  }),
);
// Some clients leave sockets or timers behind: exit once the parent has the result.
process.send?.(result, () => process.exit(0));

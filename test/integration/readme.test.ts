/**
 * Every TypeScript snippet in README.md compiles under `tsc --strict` against the built package, as
 * an app would import it (`import ... from 'beanline'`), and runs against the test run's server (a
 * real beanstalkd, or the embedded one) as the README says it does. Snippets are marked `<!-- snippet: name -->` on the line before their fence;
 * a snippet without a marker, or a marker without a scenario here, fails the test, so a new snippet
 * cannot slip in untested.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/index.js';
import { ownServer, within } from '../helpers/harness.js';
import { freePort, type TestServer } from '../helpers/server.js';

const BOUND_MS = 20_000;
/** The checkout: this file runs from dist/test/integration/. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Snippet {
  readonly name: string;
  readonly code: string;
  /** 1-based line of the fence in README.md, for messages. */
  readonly line: number;
}

/** The ```ts blocks of the README, each with the name its marker gives. */
function readSnippets(readme: string): Snippet[] {
  const lines = readme.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i] as string)) continue;
    const marker = /^<!-- snippet: ([a-z0-9-]+) -->$/.exec(lines[i - 1] ?? '');
    if (marker === null) throw new Error(`README.md:${i + 1}: a TypeScript snippet without a <!-- snippet: name --> line above it`);
    const end = lines.indexOf('```', i + 1);
    if (end === -1) throw new Error(`README.md:${i + 1}: the snippet has no closing fence`);
    snippets.push({ name: marker[1] as string, code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return snippets;
}

const snippets = readSnippets(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

/** A scratch app holding every snippet as a module, with `beanline` installed as a link to this checkout. */
const app = mkdtempSync(path.join(tmpdir(), 'beanline-readme-'));
after(() => rmSync(app, { recursive: true, force: true }));

function buildApp(): { ok: boolean; output: string } {
  mkdirSync(path.join(app, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, path.join(app, 'node_modules', 'beanline'), 'dir');
  symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(app, 'node_modules', '@types', 'node'), 'dir');
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'readme-snippets', private: true, type: 'module' }));
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'ESNext.Disposable'],
        types: ['node'],
        outDir: 'out',
        rootDir: 'src',
      },
      include: ['src'],
    }),
  );
  mkdirSync(path.join(app, 'src'));
  for (const snippet of snippets) writeFileSync(path.join(app, 'src', `${snippet.name}.ts`), `${snippet.code}\n`);
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { ok: tsc.status === 0, output: `${tsc.stdout}${tsc.stderr}` };
}

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** One snippet running as a program of the scratch app, with $BEANSTALKD_URL set to `server`. */
class Program {
  private readonly child;
  private text = '';
  private readonly finished: Promise<Finished>;
  private readonly waiters = new Set<() => void>();

  /** `server.url` may list several servers, comma-separated, as $BEANSTALKD_URL can. */
  constructor(name: string, server: { readonly url: string }) {
    this.child = spawn(process.execPath, [path.join(app, 'out', `${name}.js`)], {
      cwd: app,
      env: { ...process.env, BEANSTALKD_URL: server.url, DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      this.text += chunk.toString();
      for (const wake of [...this.waiters]) wake();
    };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
    this.finished = once(this.child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      output: this.text,
    }));
    after(() => this.kill('SIGKILL'));
  }

  /** How it ends; fails if it is still running after BOUND_MS. */
  exit(): Promise<Finished> {
    return within(this.finished, BOUND_MS, `snippet exiting; output so far: ${this.text}`);
  }

  /** Resolves once its output matches `pattern`. */
  printed(pattern: RegExp): Promise<void> {
    const seen = new Promise<void>((resolve) => {
      const check = (): void => {
        if (!pattern.test(this.text)) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
    return within(seen, BOUND_MS, `output matching ${pattern}; output so far: ${this.text}`);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

async function runToExit(name: string, server: { readonly url: string }): Promise<string> {
  const { code, signal, output } = await new Program(name, server).exit();
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `${name} failed:\n${output}`);
  return output;
}

/** Polls the server's tube stats until `done`; the server is the only witness of what a worker did. */
async function untilTube(observer: Client, tube: string, done: (ready: number, reserved: number) => boolean): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  for (;;) {
    const stats = await observer.statsTube(tube).catch(() => null);
    if (stats !== null && done(stats.currentJobsReady, stats.currentJobsReserved)) return;
    if (Date.now() > deadline) throw new Error(`tube ${tube} did not reach the expected state: ${JSON.stringify(stats)}`);
  }
}

/** What running each snippet must show, by its name. Each gets a beanstalkd of its own. */
/** Servers of the scenario's own beyond the first, each with an observer; stopped when the test ends. */
async function moreServers(t: TestContext, count: number): Promise<{ server: TestServer; observer: Client }[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const server = await ownServer(t);
      const observer = await Client.connect(server.url);
      t.after(() => observer.destroy());
      return { server, observer };
    }),
  );
}

/** How many jobs a server holds in `tube` (0 when it has no such tube). */
async function jobsIn(observer: Client, tube: string): Promise<{ ready: number; delayed: number; buried: number }> {
  const stats = await observer.statsTube(tube).catch(() => null);
  return { ready: stats?.currentJobsReady ?? 0, delayed: stats?.currentJobsDelayed ?? 0, buried: stats?.currentJobsBuried ?? 0 };
}

const scenarios: Record<string, (server: TestServer, observer: Client, t: TestContext) => Promise<void>> = {
  cluster: async (server, observer, t) => {
    const all = [{ server, observer }, ...(await moreServers(t, 2))];
    const output = await runToExit('cluster', { url: all.map((each) => each.server.url).join(',') });
    assert.match(output, /job \d+ on beanstalk:\/\/127\.0\.0\.1:\d+ is ready/);
    assert.match(output, /3 ready in orders/);
    const holding = [];
    for (const each of all) if ((await jobsIn(each.observer, 'orders')).ready > 0) holding.push(each);
    assert.equal(holding.length, 1, 'the key puts every order event on one server');
    const owner = holding[0] as { observer: Client };
    await owner.observer.watch('orders');
    const steps: unknown[] = [];
    for (let job = await owner.observer.reserveWithTimeout(0); job !== null; job = await owner.observer.reserveWithTimeout(0)) {
      steps.push((JSON.parse(job.body.toString()) as { args: { step: string } }).args.step);
    }
    assert.deepEqual(steps, ['created', 'paid', 'shipped'], 'in the order put');
  },
  'recurring-jobs': async (server, observer) => {
    const program = new Program('recurring-jobs', server);
    await program.printed(/digest for ops, tick \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z/);
    program.kill('SIGTERM');
    const { code, signal, output } = await program.exit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `it exits on SIGTERM, cleanly:\n${output}`);
    const lease = await observer.statsTube('beanline.schedules');
    assert.deepEqual({ ready: lease.currentJobsReady, reserved: lease.currentJobsReserved }, { ready: 1, reserved: 0 }, 'the lease, given back at stop');
    assert.equal((await observer.statsTube('beanline.schedules.ticks')).currentJobsReady, 1, 'the record of last ticks');
    assert.equal((await observer.stats()).currentJobsBuried, 0);
  },
  'cluster-drain': async (server, observer, t) => {
    const [other] = await moreServers(t, 1);
    if (other === undefined) return;
    await observer.use('emails');
    await Promise.all(Array.from({ length: 1500 }, (_, n) => observer.put(`mail ${n}`)));
    await observer.put('later 1', { delay: 600 });
    await observer.put('later 2', { delay: 600 });
    const dead = await observer.put('dead');
    await observer.reserveJob(dead);
    await observer.bury(dead);
    const output = await runToExit('cluster-drain', { url: `${server.url},${other.server.url}` });
    assert.match(output, /1000 of about 1503 moved/);
    assert.match(output, /moved 1503: 1500 ready, 2 delayed, 1 buried/);
    assert.match(output, /0 still reserved/);
    assert.deepEqual(await jobsIn(observer, 'emails'), { ready: 0, delayed: 0, buried: 0 });
    assert.deepEqual(await jobsIn(other.observer, 'emails'), { ready: 1500, delayed: 2, buried: 1 });
  },
  'quick-start-producer': async (server, observer) => {
    await runToExit('quick-start-producer', server);
    const stats = await observer.statsTube('emails');
    assert.equal(stats.currentJobsReady, 1001, 'the one put and the 1,000 pipelined ones');
    // Then the worker snippet takes every one of them: none is buried as unreadable.
    const worker = new Program('quick-start-worker', server);
    await untilTube(observer, 'emails', (ready, reserved) => ready === 0 && reserved === 0);
    worker.kill('SIGKILL');
    const after = await observer.statsTube('emails');
    assert.equal(after.currentJobsBuried, 0, 'no job of the producer is buried by the worker');
    assert.equal(after.cmdDelete, 1001);
  },
  'quick-start-worker': async () => {
    // Run with its producer, above.
  },
  'jobs-and-workers': async (server, observer) => {
    const program = new Program('jobs-and-workers', server);
    await program.printed(/sent hi to a@example\.com/);
    program.kill('SIGTERM');
    const { code, signal, output } = await program.exit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `it exits on SIGTERM, cleanly:\n${output}`);
    // The tube is gone once empty and unused, so the server's totals tell what happened.
    const stats = await observer.stats();
    assert.deepEqual(
      { put: stats.totalJobs, deleted: stats.cmdDelete, ready: stats.currentJobsReady, buried: stats.currentJobsBuried },
      { put: 1, deleted: 1, ready: 0, buried: 0 },
    );
  },
  pool: async (server, observer) => {
    const output = await runToExit('pool', server);
    assert.match(output, /1 ready in emails/);
    assert.equal((await observer.stats()).currentConnections, 1, 'the pool closed its connections');
  },
  'dashboard-mount': async (server) => {
    // The snippet listens on $PORT: a free one, for this run only.
    const port = await freePort();
    process.env['PORT'] = String(port);
    const program = new Program('dashboard-mount', server);
    delete process.env['PORT'];
    await program.printed(new RegExp(`dashboard on http://127\\.0\\.0\\.1:${port}/queues/`));
    const overview = await fetch(`http://127.0.0.1:${port}/queues/api/overview`, { signal: AbortSignal.timeout(BOUND_MS) });
    assert.equal(overview.status, 200);
    const view = (await overview.json()) as { servers: Array<{ url: string; up: boolean }> };
    assert.deepEqual(view.servers.map(({ url, up }) => ({ url, up })), [{ url: server.url, up: true }]);
    const bare = await fetch(`http://127.0.0.1:${port}/queues`, { redirect: 'manual', signal: AbortSignal.timeout(BOUND_MS) });
    assert.equal(bare.headers.get('location'), '/queues/');
    assert.equal((await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(BOUND_MS) })).status, 404);
    program.kill('SIGTERM');
    const { code, signal, output } = await program.exit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `it exits on SIGTERM, cleanly:\n${output}`);
  },
  'testing-embedded-server': async (server, observer) => {
    // A node:test file run as a program: it exits non-zero if its test fails. Under `node --test`
    // its report is serialized for a parent runner, but the test's name shows in either form.
    const output = await runToExit('testing-embedded-server', server);
    assert.match(output, /signing up queues a welcome email/, 'its test ran');
    assert.equal((await observer.stats()).totalJobs, 0, 'the job went to the embedded server, not $BEANSTALKD_URL');
  },
};

test('README.md: every TypeScript snippet has a scenario, and every scenario a snippet', () => {
  assert.ok(snippets.length > 0);
  assert.deepEqual(
    snippets.map(({ name }) => name).sort(),
    Object.keys(scenarios).sort(),
  );
});

test('README.md: the snippets compile under tsc --strict against the built package', { timeout: 90_000 }, () => {
  const { ok, output } = buildApp();
  assert.ok(ok, `tsc --strict failed on the README's snippets:\n${output}`);
});

for (const snippet of snippets) {
  test(`README.md:${snippet.line} (${snippet.name}) runs as the README says`, { timeout: 60_000 }, async (t) => {
    const server = await ownServer(t);
    const observer = await Client.connect(server.url);
    t.after(() => observer.destroy());
    const scenario = scenarios[snippet.name];
    assert.ok(scenario !== undefined, `no scenario for snippet ${snippet.name}`);
    await scenario(server, observer, t);
  });
}

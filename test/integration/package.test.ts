/**
 * The package as an app gets it. A clean copy of the checkout (the files git tracks, plus new files it
 * does not ignore: no dist/, no node_modules/) is packed with `npm pack`, which must build what it
 * ships; the tarball is then checked file by file and installed into a scratch app, which imports
 * beanline at run time and type-checks against it under `--strict` without skipLibCheck.
 *
 * No network: the copy borrows the project's node_modules through a symlink, and the app installs
 * with `npm ci --offline` from a lockfile whose entries for beanline's dependencies are copied from
 * the project's package-lock.json, so npm takes their tarballs from its cache by integrity (where
 * the project's own `npm ci` left them). A plain `npm install --offline <tarball>` would need the
 * dependencies' registry metadata to resolve their ranges, which a lockfile install does not cache.
 * Should the tarballs be missing from the cache too, the package is unpacked into
 * node_modules/beanline instead and its declared dependencies linked from the project.
 *
 * The scratch directories go where no node_modules sits above them, since node and tsc would look
 * there too. Every child process is bounded, and every temporary directory is removed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** Packing builds the library, so it gets more time than the other steps. */
const PACK_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 60_000;

/** The checkout: the nearest beanline package.json above the compiled test, else above the cwd. */
function projectRoot(): string {
  for (const start of [fileURLToPath(new URL('.', import.meta.url)), process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const manifest = path.join(dir, 'package.json');
      if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'beanline') {
        return dir;
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error('no beanline package.json above the test file or the working directory');
}

const ROOT = projectRoot();

/** The first node_modules in `dir` or above it, if any. */
function nodeModulesAbove(dir: string): string | undefined {
  for (let at = dir; ; at = path.dirname(at)) {
    if (existsSync(path.join(at, 'node_modules'))) return path.join(at, 'node_modules');
    if (path.dirname(at) === at) return undefined;
  }
}

/**
 * A temporary directory with no node_modules above it: node and tsc look in every node_modules up
 * the tree, and one there (a /tmp/node_modules, say) could lend the app a package (or @types/debug)
 * that the tarball does not bring. The system's temporary directory if it is clean, else another.
 */
function scratchBase(): string {
  const candidates = [...new Set([tmpdir(), '/var/tmp', '/dev/shm'])].filter((dir) => existsSync(dir));
  const clean = candidates.find((dir) => nodeModulesAbove(dir) === undefined);
  assert.ok(
    clean !== undefined,
    `every temporary directory has a node_modules above it (${candidates.map((dir) => nodeModulesAbove(dir)).join(', ')}): ` +
      'set TMPDIR to a directory without one',
  );
  return clean;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a child npm: without the variables of an npm that may be running this test
 * (its package and lifecycle, its local prefix), never online, and with nothing to report home.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };
}

/** Runs a command to its end, or kills it and everything it started after `timeoutMs`. */
function run(command: string, args: string[], cwd: string, timeoutMs = STEP_TIMEOUT_MS): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends what it started (npm's scripts, tsc).
    const child = spawn(command, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}

function describeRun(what: string, result: Run): string {
  const ended = result.timedOut ? 'timed out' : result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`;
  return `${what} ${ended}\n--- stdout ---\n${result.stdout.trim()}\n--- stderr ---\n${result.stderr.trim()}`;
}

function assertRan(what: string, result: Run): void {
  assert.ok(result.code === 0 && !result.timedOut, describeRun(what, result));
}

/** The files of a .tgz by path (npm's leading `package/` taken off). */
function readTarball(tgz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(tgz);
  const files = new Map<string, Buffer>();
  let longPath: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number): string =>
      header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(257, 5) === 'ustar' ? field(345, 155) : '';
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      // A pax header: a long path for the entry that follows.
      longPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    const name = longPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longPath = undefined;
    if (type === '0') files.set(name.replace(/^package\//, ''), Buffer.from(body));
  }
  return files;
}

/** A copy of the checkout as git would give it (tracked files, and new ones not ignored), uncommitted edits included. */
async function cleanCopy(to: string): Promise<void> {
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
  assertRan('git ls-files', listed);
  const files = listed.stdout.split('\0').filter((file) => file !== '');
  assert.ok(files.includes('package.json'), 'git lists package.json');
  for (const file of files) {
    const from = path.join(ROOT, file);
    if (!existsSync(from)) continue; // tracked, but deleted in the working tree
    await mkdir(path.dirname(path.join(to, file)), { recursive: true });
    if ((await lstat(from)).isSymbolicLink()) await symlink(await readlink(from), path.join(to, file));
    else await copyFile(from, path.join(to, file));
  }
}

interface PackageLock {
  packages: Record<string, { dependencies?: Record<string, string>; dev?: boolean; devOptional?: boolean }>;
}

/** Where node would find `name` from the package at lockfile path `from` ('' for the root). */
function lockPath(lock: PackageLock, from: string, name: string): string | undefined {
  for (let dir = from; ; ) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (candidate in lock.packages) return candidate;
    if (dir === '') return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

/** The project's lockfile entries for `names` and everything they depend on, at the same paths. */
function lockEntries(lock: PackageLock, names: string[]): PackageLock['packages'] {
  const entries: PackageLock['packages'] = {};
  const queue = names.map((name) => ({ from: '', name }));
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const at = lockPath(lock, next.from, next.name);
    assert.ok(at !== undefined, `${next.name} (needed by ${next.from || 'beanline'}) is not in package-lock.json`);
    if (at in entries) continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock.packages[at]!;
    entries[at] = entry;
    for (const dependency of Object.keys(entry.dependencies ?? {})) queue.push({ from: at, name: dependency });
  }
  return entries;
}

/**
 * A scratch ESM app with the tarball installed, and @types/node (but not @types/debug) linked from
 * the project for the type check.
 */
async function installApp(t: TestContext, work: string, tarballName: string, files: Map<string, Buffer>): Promise<string> {
  const app = path.join(work, 'app');
  await mkdir(app);
  const shipped = JSON.parse(files.get('package.json')!.toString('utf8')) as { version: string; dependencies?: Record<string, string> };
  const dependencies = shipped.dependencies ?? {};
  const spec = `file:../${tarballName}`;
  await writeFile(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true, type: 'module', dependencies: { beanline: spec } }, null, 2),
  );
  const projectLock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as PackageLock;
  const lock = {
    name: 'scratch-app',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'scratch-app', version: '1.0.0', dependencies: { beanline: spec } },
      'node_modules/beanline': { version: shipped.version, resolved: spec, dependencies },
      ...lockEntries(projectLock, Object.keys(dependencies)),
    },
  };
  await writeFile(path.join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));

  const installed = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
  if (installed.code !== 0 && /ENOTCACHED/.test(installed.stdout + installed.stderr)) {
    t.diagnostic("npm's cache lacks beanline's dependencies: unpacking the tarball and linking them from the project");
    for (const [file, body] of files) {
      const to = path.join(app, 'node_modules', 'beanline', file);
      await mkdir(path.dirname(to), { recursive: true });
      await writeFile(to, body);
    }
    // Only what the package declares: an undeclared import then fails as it would for an app.
    for (const name of Object.keys(dependencies)) {
      await mkdir(path.dirname(path.join(app, 'node_modules', name)), { recursive: true });
      await symlink(path.join(ROOT, 'node_modules', name), path.join(app, 'node_modules', name), 'dir');
    }
  } else {
    assertRan('npm ci --offline in the scratch app', installed);
  }
  // After the install: npm ci empties node_modules first.
  await mkdir(path.join(app, 'node_modules', '@types'), { recursive: true });
  await symlink(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(app, 'node_modules', '@types', 'node'), 'dir');
  return app;
}

/** An app's use of the API: typed arguments, a context, a client and a worker. */
const APP_TS = `import { Client, Worker, defineJob, type JobContext } from 'beanline';

export const sendEmail = defineJob<{ to: string }>({
  type: 'send-email',
  run: async (args: { to: string }, context: JobContext): Promise<string> => \`\${args.to} #\${context.attempt}\`,
});

export async function main(): Promise<void> {
  const client: Client = await Client.connect('beanstalk://127.0.0.1:11300');
  const { id } = await sendEmail.enqueue(client, { to: 'a@example.com' });
  // @ts-expect-error the arguments are typed: if beanline's types were lost (any), this line would pass
  await sendEmail.enqueue(client, { to: 42 });
  const worker = new Worker();
  console.log(id, worker instanceof Worker);
  await client.close();
}
`;

const CHECK_MJS = `const beanline = await import('beanline');
console.log(JSON.stringify({
  from: import.meta.resolve('beanline'),
  Client: typeof beanline.Client,
  Worker: typeof beanline.Worker,
  defineJob: typeof beanline.defineJob,
}));
`;

/** The dashboard from the installed package: its page, its own script and uPlot, all from the tarball. */
const CHECK_DASHBOARD_MJS = `import http from 'node:http';
const { createDashboard } = await import('beanline/dashboard');
const dashboard = createDashboard({ servers: ['beanstalk://127.0.0.1:11300'] });
const server = http.createServer(dashboard);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const statuses = {};
for (const path of ['/', '/assets/app.js', '/assets/vendor/uplot.js', '/assets/vendor/uplot.css']) {
  const reply = await fetch('http://127.0.0.1:' + port + path, { signal: AbortSignal.timeout(5000) });
  statuses[path] = [reply.status, (await reply.text()).length > 0];
}
dashboard.close();
server.close();
console.log(JSON.stringify(statuses));
`;

test('a clean checkout packs into a package an app can install, import and type-check', { timeout: 300_000 }, async (t) => {
  const git = await run('git', ['rev-parse', '--is-inside-work-tree'], ROOT).catch(() => undefined);
  if (git?.code !== 0) {
    t.skip(`${ROOT} is not a git checkout`);
    return;
  }
  const work = await mkdtemp(path.join(scratchBase(), 'beanline-package-'));
  t.after(() => rm(work, { recursive: true, force: true }));

  const copy = path.join(work, 'checkout');
  await cleanCopy(copy);
  assert.ok(!existsSync(path.join(copy, 'dist')), 'the copy has no dist/');
  await symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], copy, PACK_TIMEOUT_MS);
  assertRan('npm pack', packed);
  const [summary] = JSON.parse(packed.stdout) as [{ filename: string }];
  const tarballName = summary.filename;
  const files = readTarball(await readFile(path.join(work, tarballName)));
  const paths = [...files.keys()].sort();

  await t.test('the tarball holds the built library and its sources, and no tests, benchmarks or examples', () => {
    for (const file of ['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'src/index.ts']) {
      assert.ok(files.has(file), `${file} is in the tarball, which holds:\n${paths.join('\n')}`);
    }
    const stray = paths.filter((file) => /^(dist\/)?(test|bench|examples|soak)\//.test(file));
    assert.deepEqual(stray, [], 'no test, bench, examples or soak files');
  });

  await t.test('every source map names files that are in the tarball', () => {
    const maps = paths.filter((file) => file.endsWith('.js.map'));
    assert.ok(maps.length > 0, `the tarball has source maps; it holds:\n${paths.join('\n')}`);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(files.get(map)!.toString('utf8')) as { sources: string[]; sourceRoot?: string };
      assert.ok(sources.length > 0, `${map} names its sources`);
      for (const source of sources) {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(map), sourceRoot, source));
        if (!files.has(resolved)) missing.push(`${map} -> ${source} (${resolved})`);
      }
    }
    assert.deepEqual(missing, [], 'sources named by maps but not in the tarball');
  });

  const app = await installApp(t, work, tarballName, files);

  await t.test('an ESM app imports Client, Worker and defineJob from the installed package', async () => {
    await writeFile(path.join(app, 'check.mjs'), CHECK_MJS);
    const checked = await run(process.execPath, ['check.mjs'], app);
    assertRan('node check.mjs', checked);
    const found = JSON.parse(checked.stdout) as Record<string, string>;
    assert.ok(
      fileURLToPath(found.from!).startsWith(path.join(app, 'node_modules', 'beanline') + path.sep),
      `beanline came from the app's node_modules, not ${found.from}`,
    );
    assert.deepEqual(
      { Client: found.Client, Worker: found.Worker, defineJob: found.defineJob },
      { Client: 'function', Worker: 'function', defineJob: 'function' },
    );
  });

  await t.test('the dashboard serves its page, its scripts and uPlot from the installed package; the bin runs', async () => {
    await writeFile(path.join(app, 'dashboard.mjs'), CHECK_DASHBOARD_MJS);
    const served = await run(process.execPath, ['dashboard.mjs'], app);
    assertRan('node dashboard.mjs', served);
    assert.deepEqual(JSON.parse(served.stdout), {
      '/': [200, true],
      '/assets/app.js': [200, true],
      '/assets/vendor/uplot.js': [200, true],
      '/assets/vendor/uplot.css': [200, true],
    });
    const help = await run(process.execPath, [path.join(app, 'node_modules', 'beanline', 'dist', 'src', 'cli', 'main.js'), '--help'], app);
    assertRan('beanline --help', help);
    assert.match(help.stdout, /^Usage: beanline /);
  });

  await t.test('the types check under --strict, without skipLibCheck and without @types/debug', async () => {
    await writeFile(path.join(app, 'app.ts'), APP_TS);
    assert.ok(!existsSync(path.join(app, 'node_modules', '@types', 'debug')), 'the app has no @types/debug');
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // Defaults but for what an ESM app on Node needs (module nodenext) and --strict.
    const checked = await run(process.execPath, [tsc, '--strict', '--noEmit', '--pretty', 'false', '--module', 'nodenext', 'app.ts'], app);
    assertRan('tsc --strict --noEmit --module nodenext app.ts', checked);
  });
});

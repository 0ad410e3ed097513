/**
 * The `beanline` bin, run as a child process (the compiled dist/src/cli/main.js) against a server of
 * the test's own: what each subcommand prints, and the one line and exit code of each failure
 * (1: the command failed, 2: bad input, 3: no server reached). Every child is killed if it outlives its bound.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN, CHILD_MS, cli, failed, ok, on } from '../helpers/cli.js';
import { connectFor, ownServer, within } from '../helpers/harness.js';
import { uniqueTube } from '../helpers/server.js';

/** A server of the test's own with its URL. */
async function serverUrl(t: TestContext): Promise<string> {
  return (await ownServer(t)).url;
}

test('put (argument and stdin) prints the id; job shows stats then the body', async (t) => {
  const url = await serverUrl(t);
  const tube = uniqueTube();
  const [first] = ok(await on(url, 'put', tube, 'hello there'));
  const [second] = ok(await cli(['--url', url, 'put', tube, '-'], { input: Buffer.from([0, 1, 2, 0x41]) }));
  assert.match(first ?? '', /^\d+$/);
  assert.equal(Number(second), Number(first) + 1);

  const text = ok(await on(url, 'job', first ?? ''));
  assert.ok(text.includes(`id:        ${first}`), text.join('\n'));
  assert.ok(text.includes(`tube:      ${tube}`));
  assert.ok(text.includes('state:     ready'));
  assert.deepEqual(text.slice(-2), ['body: text, 11 bytes', 'hello there']);

  const binary = ok(await on(url, 'job', second ?? ''));
  assert.deepEqual(binary.slice(-2), ['body: binary, 4 bytes', `00000000  00 01 02 41${' '.repeat(36)}  |...A|`]);
});

test('put takes --priority, --delay and --ttr; job shows an envelope', async (t) => {
  const url = await serverUrl(t);
  const tube = uniqueTube();
  const envelope = { jid: 'j1', type: 'Mail', args: [1], tube, createdAt: 'c', enqueuedAt: 'e', retry: 2, priority: 5, ttr: 30, custom: {} };
  const [id] = ok(await on(url, 'put', tube, JSON.stringify(envelope), '--priority', '5', '--delay', '100', '--ttr', '30'));
  const lines = ok(await on(url, 'job', id ?? ''));
  assert.ok(lines.includes('state:     delayed'), lines.join('\n'));
  assert.ok(lines.includes('pri:       5'));
  assert.ok(lines.includes('ttr:       30'));
  assert.ok(lines.includes('type: Mail'));
  assert.ok(lines.includes('args: ['));
});

test('stats prints aligned key: value lines', async (t) => {
  const lines = ok(await on(await serverUrl(t), 'stats'));
  assert.ok(lines.length > 20);
  assert.match(lines.find((line) => line.startsWith('current-jobs-ready:')) ?? '', /^current-jobs-ready: +0$/);
  const column = new Set(lines.map((line) => line.indexOf(' ', line.indexOf(':')) + line.slice(line.indexOf(':') + 1).search(/\S/)));
  assert.equal(column.size, 1, 'every value starts in one column');
});

test('tubes prints a table of counts; tube <name> one tube', async (t) => {
  const url = await serverUrl(t);
  const client = await connectFor(t, url);
  const tube = uniqueTube();
  await client.putInto(tube, 'a', { priority: 0 });
  await client.putInto(tube, 'b');
  await client.putInto(tube, 'c', { delay: 100 });
  await client.pauseTube(tube, 60);

  const lines = ok(await on(url, 'tubes'));
  assert.match(lines[0] ?? '', /^tube +ready +reserved +delayed +buried +urgent +waiting +paused +total$/);
  const row = lines.find((line) => line.startsWith(`${tube} `))?.split(/ +/);
  assert.ok(row !== undefined, lines.join('\n'));
  assert.deepEqual(row.slice(1, 7), ['2', '0', '1', '0', '1', '0']);
  assert.match(row[7] ?? '', /^\d+s$/);
  assert.equal(row[8], '3');

  const one = ok(await on(url, 'tube', tube));
  assert.match(one[0] ?? '', new RegExp(`^name: +${tube.replace(/[.$()+]/g, '\\$&')}$`));
  assert.ok(one.some((line) => /^current-jobs-ready: +2$/.test(line)));
  failed(await on(url, 'tube', 'no-such-tube'), 1, 'beanline: tube no-such-tube not found');
  failed(await on(url, 'tube', 'bad name!'), 2, /^beanline: tube "bad name!" is not a valid tube name/);
});

test('peek shows the next job in a state, or says there is none', async (t) => {
  const url = await serverUrl(t);
  const client = await connectFor(t, url);
  const tube = uniqueTube();
  const ready = await client.putInto(tube, 'ready one');
  const delayed = await client.putInto(tube, 'later', { delay: 100 });
  assert.deepEqual(ok(await on(url, 'peek', 'ready', tube)), [`id: ${ready}`, 'body: text, 9 bytes', 'ready one']);
  assert.equal(ok(await on(url, 'peek', 'delayed', tube))[0], `id: ${delayed}`);
  failed(await on(url, 'peek', 'buried', tube), 1, `beanline: tube ${tube} has no buried job`);
  failed(await on(url, 'peek', 'ready', 'no-such-tube'), 1, 'beanline: tube no-such-tube not found');
  failed(await on(url, 'peek', 'sleeping', tube), 2, 'beanline: peek: the state must be ready, delayed or buried, got "sleeping"');
});

test('delete, kick, kick-job and pause act and say what they did', async (t) => {
  const url = await serverUrl(t);
  const client = await connectFor(t, url);
  const tube = uniqueTube();
  await client.watch(tube);
  await client.ignore('default');
  for (const body of ['1', '2', '3']) await client.putInto(tube, body);
  const buried: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const job = await client.reserve();
    await client.bury(job.id);
    buried.push(job.id);
  }
  assert.deepEqual(ok(await on(url, 'kick', tube, '2')), [`kicked 2 jobs in tube ${tube}`]);
  assert.deepEqual(ok(await on(url, 'kick-job', String(buried[2]))), [`kicked job ${buried[2]}`]);
  failed(await on(url, 'kick-job', String(buried[2])), 1, `beanline: job ${buried[2]} not found, or neither buried nor delayed`);
  assert.equal((await client.statsTube(tube)).currentJobsReady, 3);

  assert.deepEqual(ok(await on(url, 'delete', String(buried[0]))), [`deleted job ${buried[0]}`]);
  failed(await on(url, 'delete', String(buried[0])), 1, `beanline: job ${buried[0]} not found (or reserved by another connection)`);

  assert.deepEqual(ok(await on(url, 'pause', tube, '30')), [`paused tube ${tube} for 30 seconds`]);
  assert.ok((await client.statsTube(tube)).pause === 30);
  assert.deepEqual(ok(await on(url, 'pause', tube, '0')), [`resumed tube ${tube}`]);
  failed(await on(url, 'pause', 'no-such-tube', '5'), 1, 'beanline: tube no-such-tube not found');
  failed(await on(url, 'kick', 'no-such-tube'), 1, 'beanline: tube no-such-tube not found');
  failed(await on(url, 'kick', tube, 'lots'), 2, 'beanline: n must be a whole number from 1, got "lots"');
});

test('bad input: ids, subcommands, arguments and servers are usage errors (exit 2)', async (t) => {
  const url = await serverUrl(t);
  failed(await on(url, 'job', '999999'), 1, 'beanline: job 999999 not found');
  failed(await on(url, 'job', 'abc'), 2, 'beanline: job id must be a whole number from 1, got "abc"');
  failed(await on(url, 'job', '0'), 2, 'beanline: job id must be a whole number from 1, got "0"');
  failed(await on(url, 'delete', '-5'), 2, 'beanline: job id must be a whole number from 1, got "-5"');
  failed(await on(url, 'stats', '--verbose'), 2, "beanline stats: unknown option '--verbose'");
  failed(await on(url, 'frobnicate'), 2, "beanline: unknown command 'frobnicate'");
  failed(await on(url, 'job'), 2, "beanline job: missing required argument 'id'");
  failed(await on(url, 'pause', 'x', '1.5'), 2, 'beanline: seconds must be a whole number, got "1.5"');
  failed(await on(url, 'kick', uniqueTube(), '-3'), 2, 'beanline: n must be a whole number from 1, got "-3"');
  failed(await on(url, 'tube', 'has space'), 2, /^beanline: .*tube/);
  failed(await on(url, 'put', 'has space', 'x'), 2, /^beanline: .*tube/);
  failed(await cli(['--url', 'http://x', 'stats']), 2, /^beanline: "http:\/\/x": the scheme must be beanstalk:\/\//);
  failed(await cli([]), 2, /^Usage: beanline/);
});

test('the server comes from --url, else $BEANSTALKD_URL; an unreachable one fails in one line (exit 3)', async (t) => {
  const url = await serverUrl(t);
  assert.ok(ok(await cli(['stats'], { env: { BEANSTALKD_URL: url } })).length > 20);
  failed(await cli(['stats'], { env: { BEANSTALKD_URL: `${url},beanstalk://127.0.0.1:notaport` } }), 2, /^beanline: .*port/);
  failed(await cli(['--url', 'beanstalk://127.0.0.1:1', 'stats']), 3, /^beanline: .*ECONNREFUSED/);
});

test('server runs the embedded beanstalkd in the foreground until SIGTERM', async (t) => {
  const child = spawn(process.execPath, [BIN, 'server', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: CHILD_MS, killSignal: 'SIGKILL' });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const line = await within(
    new Promise<string>((resolve) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
    }),
    CHILD_MS,
    'the server says where it listens',
  );
  const url = /beanstalk:\/\/\S+/.exec(line)?.[0];
  assert.ok(url !== undefined, line);
  const tube = uniqueTube();
  ok(await on(url, 'put', tube, 'x'));
  assert.ok(ok(await on(url, 'tube', tube)).some((entry) => /^current-jobs-ready: +1$/.test(entry)));
  child.kill('SIGTERM');
  assert.equal(await within(exited, CHILD_MS, 'the server exits'), 0);
  failed(await cli(['server', '--port', '70000']), 2, 'beanline: --port must be at most 65535, got 70000');
});

/** What only the command line and the dashboard use. */
const OPERATOR_PACKAGES = ['commander', 'cli-progress', 'log-update', 'picocolors', 'uplot'];

test("import 'beanline' loads neither the CLI, the dashboard nor their libraries", () => {
  const root = fileURLToPath(new URL('../../src/', import.meta.url));
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const [, name] of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^.'"][^'"]*)['"]/g)) {
      assert.ok(!OPERATOR_PACKAGES.includes(name ?? ''), `${file} imports ${name}`);
    }
    for (const [, spec] of code.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      visit(path.resolve(path.dirname(file), spec ?? ''));
    }
  };
  visit(path.join(root, 'index.js'));
  assert.ok(seen.size > 10, 'the walk followed the imports');
  assert.ok(![...seen].some((file) => /[/\\](cli|dashboard)[/\\]/.test(file)), 'no file of src/cli or src/dashboard');
});

test('every command has --help with an example, and the program lists the exit codes', async () => {
  const root = ok(await cli(['--help']));
  assert.ok(root.some((line) => line.startsWith('Exit codes: 0 done, 1 the command failed, 2 bad input, 3 no server reached')), root.join('\n'));
  const commands = root
    .slice(root.indexOf('Commands:') + 1)
    .map((line) => /^  ([a-z-]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
  assert.ok(commands.length >= 15, commands.join(', '));
  // One at a time: sixteen Node processes starting at once can outlast a child's bound on a busy machine.
  for (const name of commands) assert.match(ok(await cli([name, '--help'])).join('\n'), /\nExamples?:\n {2}beanline /, `beanline ${name} --help`);
});

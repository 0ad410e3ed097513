/**
 * `npm test`: the unit tests, then the integration tests against a real beanstalkd, then against
 * beanline's embedded server; on a machine without beanstalkd, all of them against the embedded
 * server, with the few tests that need beanstalkd itself (a binlog) skipped and saying so. The
 * dashboard's browser tests and top's tmux tests are skipped, saying so, where Chromium or tmux
 * is missing.
 *
 * With BEANLINE_REQUIRE_BEANSTALKD=1 (CI sets it) a missing beanstalkd, or any test skipped in the
 * run against it, fails the run: CI always holds everything to the real server, in a real browser
 * and under tmux.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = (dir: string, except: readonly string[] = []): string[] =>
  readdirSync(path.join(here, dir))
    .filter((name) => name.endsWith('.test.js') && !except.includes(name))
    .map((name) => path.join(here, dir, name));

/** Tests that do not depend on which server runs: once is enough. */
const ONCE = ['package.test.js', 'differential.test.js', 'dashboard-browser.test.js'];

interface Pass {
  readonly label: string;
  readonly server: 'beanstalkd' | 'embedded';
  readonly files: string[];
}

interface Outcome {
  readonly code: number;
  readonly skipped: number;
}

function beanstalkdOnPath(): boolean {
  return spawnSync('beanstalkd', ['-v'], { stdio: 'ignore' }).error === undefined;
}

/** Runs one pass with node's test runner, shown as usual, with a TAP copy to count what was skipped. */
function run(pass: Pass): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'beanline-test-'));
  const tap = path.join(dir, 'report.tap');
  const args = [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...pass.files,
  ];
  process.stdout.write(`\n== ${pass.label} ==\n`);
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, BEANLINE_TEST_SERVER: pass.server } });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const report = readFileSync(tap, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      const skipped = Number(/^# skipped (\d+)$/m.exec(report)?.[1] ?? 0);
      resolve({ code: code ?? 1, skipped });
    });
  });
}

const requireBeanstalkd = process.env['BEANLINE_REQUIRE_BEANSTALKD'] === '1';
const real = beanstalkdOnPath();
if (!real && requireBeanstalkd) {
  console.error('BEANLINE_REQUIRE_BEANSTALKD=1, but beanstalkd is not on PATH');
  process.exit(1);
}

const passes: Pass[] = real
  ? [
      { label: 'unit tests, and integration tests against beanstalkd', server: 'beanstalkd', files: [...files('unit'), ...files('integration')] },
      { label: 'integration tests against the embedded server', server: 'embedded', files: files('integration', ONCE) },
    ]
  : [{ label: 'no beanstalkd on PATH: all tests against the embedded server', server: 'embedded', files: [...files('unit'), ...files('integration')] }];

let failed = false;
for (const pass of passes) {
  const outcome = await run(pass);
  if (outcome.code !== 0) failed = true;
  if (outcome.skipped > 0) console.log(`${pass.label}: ${outcome.skipped} skipped (each says what it needs: beanstalkd on PATH, chromium or tmux)`);
  if (requireBeanstalkd && pass.server === 'beanstalkd' && outcome.skipped > 0) {
    console.error(`BEANLINE_REQUIRE_BEANSTALKD=1: ${outcome.skipped} test(s) skipped in the run against beanstalkd`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

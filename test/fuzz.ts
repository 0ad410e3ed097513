/**
 * `npm run fuzz`: the differential tests at length. Random sequences of raw protocol steps against
 * a real beanstalkd 1.12 and the embedded server; exit code 1 at the first divergence, printed with
 * its seed, a shrunk reproduction and both servers' replies.
 *
 *   node dist/test/fuzz.js [--sequences N] [--from SEED] [--concurrency C] [--against embedded|beanstalkd]
 *                          [--strict] [--no-shrink] [--keep-going] [--avoid NAME]...
 *   BEANLINE_FUZZ_SEED=<n> node dist/test/fuzz.js     replays one seed and prints every step
 *
 * (`npm run fuzz -- <options>` builds first.) A divergence is run twice more before it counts; one
 * that does not come back is reported as flaky (timing) and does not fail the run.
 *
 * Seeds run from --from (default: a new base each run, printed) to --from + N - 1. `--against
 * beanstalkd` runs two real servers against each other: they must always agree, which checks the
 * machinery itself. `--avoid` steers the generator clear of a known, reported divergence (see
 * AVOIDABLE in helpers/differential-model.ts) to look for others; a seed replays the same only with
 * the same --avoid.
 */
import { parseArgs } from 'node:util';
import {
  AVOIDABLE,
  formatResult,
  generateSequence,
  runMany,
  runSequence,
  shrink,
  type Avoidable,
  type RunResult,
  type Sequence,
  type TargetKind,
} from './helpers/differential.js';

const { values: argv } = parseArgs({
  options: {
    // About five minutes on a 2-core machine.
    sequences: { type: 'string', default: '14000' },
    from: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    against: { type: 'string', default: 'embedded' },
    strict: { type: 'boolean', default: false },
    'no-shrink': { type: 'boolean', default: false },
    'keep-going': { type: 'boolean', default: false },
    avoid: { type: 'string', multiple: true, default: [] },
  },
});

function whole(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} must be a whole number >= ${min}, got ${text}`);
  return value;
}

const against = argv.against as TargetKind;
if (against !== 'embedded' && against !== 'beanstalkd') throw new Error(`--against must be embedded or beanstalkd, got ${argv.against}`);
const options = { a: 'beanstalkd' as const, b: against, strict: argv.strict };
for (const name of argv.avoid) {
  if (!(name in AVOIDABLE)) throw new Error(`--avoid: unknown ${name}; known: ${Object.keys(AVOIDABLE).join(', ')}`);
}
const avoid = argv.avoid as Avoidable[];
const generate = (seed: number): Sequence => generateSequence(seed, { avoid });

async function report(result: RunResult): Promise<void> {
  console.log(formatResult(result));
  if (argv['no-shrink']) return;
  console.log('\nshrinking...');
  const small = await shrink(result, { ...options, budgetMs: 120_000, attempts: 2 });
  console.log(`\nminimal reproduction (${small.sequence.steps.length} of ${result.sequence.steps.length} steps):`);
  console.log(formatResult(small));
}

async function replay(seed: number): Promise<number> {
  const result = await runSequence(generate(seed), options);
  if (result.divergence === null) {
    console.log(formatResult(result));
    for (const problem of result.machinery) console.log(`machinery: ${problem}`);
    return result.machinery.length === 0 ? 0 : 1;
  }
  await report(result);
  return 1;
}

async function main(): Promise<number> {
  const single = process.env['BEANLINE_FUZZ_SEED'];
  if (single !== undefined && single !== '') return replay(whole('BEANLINE_FUZZ_SEED', single, 0));
  const count = whole('sequences', argv.sequences, 1);
  // A new stretch of seeds each run unless told; every failure names its own seed.
  const from = argv.from === undefined ? (Date.now() % 1_000_000) * 1000 : whole('from', argv.from, 0);
  const seeds = Array.from({ length: count }, (_, i) => (from + i) % 2 ** 32);
  console.log(`fuzz: ${count} sequences, seeds ${from}..${from + count - 1}, beanstalkd vs ${against}`);
  let done = 0;
  const summary = await runMany({
    ...options,
    seeds,
    concurrency: whole('concurrency', argv.concurrency, 1),
    generate,
    stopOnDivergence: !argv['keep-going'],
    onResult: (result) => {
      done += 1;
      if (result.divergence !== null) console.log(`seed ${result.sequence.seed}: ${result.divergence}`);
      if (done % 500 === 0) console.log(`  ${done} sequences`);
    },
  });
  console.log(
    `fuzz: ${summary.run} sequences in ${(summary.elapsedMs / 1000).toFixed(1)} s, ${summary.divergences.length} divergent, ${summary.flaky.length} flaky`,
  );
  for (const result of summary.flaky) console.log(`flaky (did not come back on re-runs): seed ${result.sequence.seed}: ${result.divergence}`);
  for (const { seed, problems } of summary.machinery) console.log(`machinery (seed ${seed}): ${problems.join('; ')}`);
  for (const result of summary.divergences) await report(result);
  return summary.divergences.length > 0 || summary.machinery.length > 0 ? 1 : 0;
}

process.exitCode = await main();

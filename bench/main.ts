/**
 * `npm run bench`: beanline against the other npm clients and a raw pipelined socket, on a fresh
 * beanstalkd per measurement, each client in a child process of its own. See BENCHMARKS.md.
 *
 *   npm run bench -- --runs 5 --only b,c --clients beanline,raw --jobs b=50000 --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ADAPTERS, adapterNamed } from './adapters/index.js';
import { CASES, describePlan, takesPart, type CaseDef, type CaseId } from './cases.js';
import { machineLines } from './machine.js';
import { formatNumber, markdownTable, summarize, tableNotes, type Row } from './stats.js';
import { judgeTargets, targetLines } from './targets.js';
import { runTrial } from './trial.js';

const USAGE = `npm run bench -- [options]
  --runs N          runs per client and case; the table shows medians (default 3)
  --only a,b,...    cases to run (default all: ${CASES.map((c) => c.id).join(',')})
  --clients x,y     clients to run (default all: ${ADAPTERS.map((a) => a.name).join(',')})
  --jobs a=N,...    job counts per case (defaults: ${CASES.map((c) => `${c.id}=${c.jobs}`).join(',')})
  --timeout S       seconds before a measurement is killed and marked failed (default 300)
  --profile DIR     run each child under node --cpu-prof, writing profiles to DIR
  --write           put the results into BENCHMARKS.md (between its bench:results markers)`;

const MARK_START = '<!-- bench:results:start -->';
const MARK_END = '<!-- bench:results:end -->';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    clients: { type: 'string' },
    jobs: { type: 'string', default: '' },
    timeout: { type: 'string', default: '300' },
    profile: { type: 'string' },
    write: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a whole number of 1 or more, got ${JSON.stringify(text)}`);
  return value;
}

const list = (text: string | undefined): string[] | null => (text === undefined ? null : text.split(',').map((item) => item.trim()));

const runs = positive('runs', args.runs);
const timeoutMs = positive('timeout', args.timeout) * 1000;
const onlyCases = list(args.only);
const cases = CASES.filter((c) => onlyCases === null || onlyCases.includes(c.id));
const adapters = (list(args.clients) ?? ADAPTERS.map((a) => a.name)).map(adapterNamed);
const jobCounts = new Map<CaseId, number>(
  (list(args.jobs) ?? [])
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [id, count] = entry.split('=');
      const caseDef = CASES.find((c) => c.id === id);
      if (caseDef === undefined || count === undefined) throw new Error(`--jobs: expected id=count, got ${JSON.stringify(entry)}`);
      return [caseDef.id, positive('jobs', count)];
    }),
);
if (cases.length === 0) throw new Error(`--only: no such case; known: ${CASES.map((c) => c.id).join(',')}`);

const machine = machineLines();
const rows: Row[] = cases.flatMap((caseDef: CaseDef) =>
  adapters
    .filter((adapter) => takesPart(caseDef, adapter))
    .map((adapter) => {
      const jobs = jobCounts.get(caseDef.id) ?? caseDef.jobs;
      return { caseDef, adapter, jobs, mode: describePlan(caseDef.plan(adapter, jobs), adapter), trials: [] };
    }),
);

const started = Date.now();
// Run r of every row before run r + 1 of any, so that a noisy minute spreads over all clients.
for (let run = 1; run <= runs; run += 1) {
  for (const row of rows) {
    const plan = row.caseDef.plan(row.adapter, row.jobs);
    const trial = await runTrial(row.adapter.name, plan, { timeoutMs, profileDir: args.profile ?? null });
    row.trials.push(trial);
    console.error(
      `[run ${run}/${runs}] (${row.caseDef.id}) ${row.adapter.name.padEnd(14)} ${formatNumber(trial.jobsPerSec).padStart(9)} jobs/s ` +
        `${formatNumber(trial.cpuUsPerJob, 1).padStart(6)} µs/job ${formatNumber(trial.rssMb).padStart(4)} MB` +
        (trial.failure === null ? '' : `  FAILED: ${trial.failure}`),
    );
  }
}

const summaries = summarize(rows);
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
const report = [
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` (${runs} run(s) each, ` +
    `${formatNumber((Date.now() - started) / 1000)} s in all):`,
  '',
  ...machine,
  '',
  markdownTable(summaries),
  '',
  ...tableNotes(summaries).map((note) => `${note}`),
  '',
  'Targets:',
  '',
  ...targetLines(judgeTargets(summaries)),
].join('\n');

console.log(report);

if (args.write) {
  const file = new URL('../../BENCHMARKS.md', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(MARK_START);
  const end = text.indexOf(MARK_END);
  if (start === -1 || end < start) throw new Error(`BENCHMARKS.md lacks the ${MARK_START} ... ${MARK_END} markers`);
  writeFileSync(file, `${text.slice(0, start + MARK_START.length)}\n${report}\n${text.slice(end)}`);
  console.error('BENCHMARKS.md updated');
}

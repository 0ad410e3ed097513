/**
 * `npm run bench`: beanline against the other npm clients and a raw pipelined socket, on a fresh
 * beanstalkd per measurement, each client in a child process of its own. See BENCHMARKS.md.
 *
 *   npm run bench -- --runs 5 --only b,c --clients beanline,raw --jobs b=50000 --write
 *   npm run bench -- --baseline /tmp/base      # also the build of another commit, as client `baseline`
 *   npm run bench -- --servers beanstalkd,embedded   # also on beanline's embedded server
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BASELINE_ENTRY } from './adapters/baseline.js';
import { ADAPTERS, BASELINE } from './adapters/index.js';
import { CASES, describePlan, takesPart, type CaseDef, type CaseId } from './cases.js';
import { commitOf, machineLines } from './machine.js';
import { overviewNotes } from './overview-fill.js';
import { describePlacement, PLACEMENTS, type Placement } from './placement.js';
import { scanNotes } from './scan-notes.js';
import { SERVER_KINDS, type ServerKind } from './server.js';
import { baselineTable, formatNumber, markdownTable, serverTable, summarize, tableNotes, type Row } from './stats.js';
import { judgeTargets, targetLines } from './targets.js';
import { runTrial } from './trial.js';

const DEFAULT_WARMUP = 5000;

const USAGE = `npm run bench -- [options]
  --runs N          runs per client and case; the table shows medians (default 3)
  --only a,b,...    cases to run (default all: ${CASES.map((c) => c.id).join(',')})
  --clients x,y     clients to run (default all: ${ADAPTERS.filter((a) => a.name !== BASELINE)
    .map((a) => a.name)
    .join(',')},
                    and ${BASELINE} with --baseline)
  --jobs a=N,...    job counts per case (defaults: ${CASES.map((c) => `${c.id}=${c.jobs}`).join(',')})
  --warmup N        jobs each client runs untimed (and checked) before the timed ones (default ${DEFAULT_WARMUP}; 0 for none)
  --servers x,y     servers each case runs on, from ${SERVER_KINDS.join(', ')} (beanline's, as a process of its
                    own; default beanstalkd). With both, a table compares them (jobs/s, server CPU,
                    memory per 100,000 jobs stored); the targets are judged on beanstalkd's rows
  --timeout S       seconds before a measurement is killed and marked failed (default 300)
  --pin MODE        none (default), same (server and client on CPU 0) or split (server CPU 0, client CPU 1)
  --profile DIR     run each child under node --cpu-prof, writing profiles to DIR
  --baseline DIR    also measure the client ${BASELINE}: beanline as built in DIR, a checkout of another
                    commit (DIR/${BASELINE_ENTRY} must exist: run tsc there first), in every case
                    beanline runs; the report names its commit and compares it with beanline
  --write           put the results into BENCHMARKS.md (between its bench:results markers; with
                    --pin same or split, its bench:results-same or -split markers)`;

/** The block of BENCHMARKS.md that --write replaces: one per placement. */
const marker = (placement: Placement, end: 'start' | 'end'): string =>
  `<!-- bench:results${placement === 'none' ? '' : `-${placement}`}:${end} -->`;

/** A mistake on the command line: say what, show the usage, exit 2. */
function usageError(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string', default: '3' },
        only: { type: 'string' },
        clients: { type: 'string' },
        servers: { type: 'string', default: 'beanstalkd' },
        jobs: { type: 'string', default: '' },
        warmup: { type: 'string', default: String(DEFAULT_WARMUP) },
        timeout: { type: 'string', default: '300' },
        pin: { type: 'string', default: 'none' },
        profile: { type: 'string' },
        baseline: { type: 'string' },
        write: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
}

const args = parseCommandLine();

if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function wholeNumber(name: string, text: string, least: 0 | 1): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < least) {
    usageError(`--${name}: expected a whole number of ${least} or more, got ${JSON.stringify(text)}`);
  }
  return value;
}

const positive = (name: string, text: string): number => wholeNumber(name, text, 1);

const list = (text: string | undefined): string[] | null => (text === undefined ? null : text.split(',').map((item) => item.trim()));

const runs = positive('runs', args.runs);
const timeoutMs = positive('timeout', args.timeout) * 1000;
const warmup = wholeNumber('warmup', args.warmup, 0);
const placement = args.pin as Placement;
if (!PLACEMENTS.includes(placement)) usageError(`--pin: expected one of ${PLACEMENTS.join(', ')}, got ${JSON.stringify(args.pin)}`);
const baselineDir = args.baseline === undefined ? null : resolve(args.baseline);
if (baselineDir !== null && !existsSync(join(baselineDir, BASELINE_ENTRY))) {
  usageError(`--baseline: ${join(baselineDir, BASELINE_ENTRY)} does not exist (build that checkout first)`);
}
const onlyCases = list(args.only);
const cases = CASES.filter((c) => onlyCases === null || onlyCases.includes(c.id));
const offered = ADAPTERS.filter((adapter) => adapter.name !== BASELINE || baselineDir !== null);
const adapters = (list(args.clients) ?? offered.map((a) => a.name)).map((name) => {
  if (name === BASELINE && baselineDir === null) usageError(`--clients: ${BASELINE} needs --baseline DIR`);
  const adapter = offered.find((candidate) => candidate.name === name);
  return adapter ?? usageError(`--clients: unknown client ${JSON.stringify(name)}`);
});
const jobCounts = new Map<CaseId, number>(
  (list(args.jobs) ?? [])
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [id, count] = entry.split('=');
      const caseDef = CASES.find((c) => c.id === id);
      if (caseDef === undefined || count === undefined) usageError(`--jobs: expected id=count, got ${JSON.stringify(entry)}`);
      return [caseDef.id, positive('jobs', count)];
    }),
);
const servers = [...new Set(list(args.servers) ?? [])].map((name) =>
  SERVER_KINDS.includes(name as ServerKind) ? (name as ServerKind) : usageError(`--servers: unknown server ${JSON.stringify(name)}`),
);
if (servers.length === 0) usageError('--servers: name at least one');
if (cases.length === 0) usageError(`--only: no such case; known: ${CASES.map((c) => c.id).join(',')}`);

const coldCases = cases.filter((c) => c.cold === true).map((c) => `(${c.id})`);
const coldNote = coldCases.length === 0 ? '' : ` (none in ${coldCases.join(', ')})`;
const machine = machineLines(adapters.some((adapter) => adapter.name === BASELINE) ? baselineDir : null);
const rows: Row[] = cases.flatMap((caseDef: CaseDef) =>
  adapters
    .filter((adapter) => takesPart(caseDef, adapter))
    .flatMap((adapter) => {
      const jobs = jobCounts.get(caseDef.id) ?? caseDef.jobs;
      const mode = describePlan(caseDef.plan(adapter, jobs), adapter);
      return servers.map((server) => ({ caseDef, adapter, server, jobs, mode, trials: [] }));
    }),
);

const started = Date.now();
// Run r of every row before run r + 1 of any, so that a noisy minute spreads over all clients.
for (let run = 1; run <= runs; run += 1) {
  for (const row of rows) {
    const plan = { ...row.caseDef.plan(row.adapter, row.jobs), warmup: row.caseDef.cold === true ? 0 : warmup };
    const trial = await runTrial(row.adapter.name, plan, {
      server: row.server,
      timeoutMs,
      profileDir: args.profile ?? null,
      placement,
      baselineDir,
    });
    row.trials.push(trial);
    console.error(
      `[run ${run}/${runs}] (${row.caseDef.id}) ${row.adapter.name.padEnd(14)} ${servers.length > 1 ? `${row.server.padEnd(10)} ` : ''}` +
        `${formatNumber(trial.jobsPerSec).padStart(9)} jobs/s ` +
        `${formatNumber(trial.cpuUsPerJob, 1).padStart(6)} µs/job ${formatNumber(trial.rssMb).padStart(4)} MB` +
        (trial.serverBusy === null ? '' : `  server ${formatNumber(trial.serverBusy * 100).padStart(3)}%`) +
        (trial.refresh === null ? '' : `  ${formatNumber(trial.refresh.medianMs, 1)} ms/refresh (max ${formatNumber(trial.refresh.maxMs, 1)})`) +
        (trial.failure === null ? '' : `  FAILED: ${trial.failure}`),
    );
  }
}

const allSummaries = summarize(rows);
// The targets, the baseline and the notes are about clients on beanstalkd; without it, on the server that ran.
const judgedOn: ServerKind = servers.includes('beanstalkd') ? 'beanstalkd' : (servers[0] as ServerKind);
const summaries = allSummaries.filter(({ row }) => row.server === judgedOn);
const versusServers = serverTable(allSummaries);
const versusBaseline = baselineTable(summaries);
const baselineCommit = baselineDir === null ? null : (commitOf(baselineDir)?.commit ?? baselineDir);
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
const report = [
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` (${runs} run(s) each, ` +
    `${formatNumber((Date.now() - started) / 1000)} s in all):`,
  '',
  ...machine,
  `- Placement: ${describePlacement(placement)}`,
  `- Warm-up: ${
    warmup === 0 || cases.every((c) => c.cold === true)
      ? 'none (timed from the first job)'
      : `${formatNumber(warmup)} jobs per measurement, untimed, before the timed ones${coldNote}`
  }`,
  ...(servers.length === 1 && judgedOn === 'beanstalkd'
    ? []
    : [
        `- Servers: ${servers
          .map((server) => (server === 'embedded' ? "embedded (beanline's, `node dist-bench/src/server/bin.js`, a process of its own)" : server))
          .join(', ')}, each fresh per measurement`,
      ]),
  '',
  markdownTable(allSummaries, !(servers.length === 1 && judgedOn === 'beanstalkd')),
  '',
  ...tableNotes(summaries),
  ...scanNotes(summaries),
  ...overviewNotes(summaries),
  '',
  ...(versusServers.length === 0
    ? []
    : ['The embedded server against beanstalkd, medians of this run (×: embedded over beanstalkd):', '', ...versusServers, '']),
  ...(versusBaseline === ''
    ? []
    : [`beanline against the baseline (${baselineCommit}), medians of this run (×: beanline over baseline):`, '', versusBaseline, '']),
  judgedOn === 'beanstalkd' ? 'Targets:' : `Targets (judged on the ${judgedOn} server's rows):`,
  '',
  ...targetLines(judgeTargets(summaries)),
].join('\n');

console.log(report);

if (args.write) {
  const file = new URL('../../BENCHMARKS.md', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const [startMark, endMark] = [marker(placement, 'start'), marker(placement, 'end')];
  const start = text.indexOf(startMark);
  const end = text.indexOf(endMark);
  if (start === -1 || end < start) throw new Error(`BENCHMARKS.md lacks the ${startMark} ... ${endMark} markers`);
  writeFileSync(file, `${text.slice(0, start + startMark.length)}\n${report}\n${text.slice(end)}`);
  console.error('BENCHMARKS.md updated');
}

#!/usr/bin/env node
/**
 * `beanline`: the operator's command line. Its own entry point: `import 'beanline'` never loads it
 * (nor commander). Exit codes: 0 done, 1 the command failed, 2 bad input, 3 no server reached;
 * errors are one line on stderr, never a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { register as registerBury } from './commands/bury.js';
import { register as registerDashboard } from './commands/dashboard.js';
import { register as registerDelete } from './commands/delete.js';
import { register as registerJob } from './commands/job.js';
import { register as registerJobs } from './commands/jobs.js';
import { register as registerKickJob } from './commands/kick-job.js';
import { register as registerKick } from './commands/kick.js';
import { register as registerPause } from './commands/pause.js';
import { register as registerPeek } from './commands/peek.js';
import { register as registerPut } from './commands/put.js';
import { register as registerSchedules } from './commands/schedules.js';
import { register as registerServer } from './commands/server.js';
import { register as registerStats } from './commands/stats.js';
import { register as registerTube } from './commands/tube.js';
import { register as registerTop } from './commands/top.js';
import { register as registerTubes } from './commands/tubes.js';
import { explain } from './context.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function program(): Command {
  const root = new Command('beanline')
    .description('inspect and act on beanstalkd servers')
    .option('--url <url>', 'a server, beanstalk://host:port; repeat it or separate URLs by commas for several (default $BEANSTALKD_URL, else beanstalk://127.0.0.1:11300)', collect)
    .showHelpAfterError('(beanline --help lists the commands)')
    .addHelpText('after', '\nExit codes: 0 done, 1 the command failed, 2 bad input, 3 no server reached.\nEvery command has --help with an example: beanline jobs --help')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`beanline: ${text.replace(/^error: /, '')}`) });
  for (const register of [
    registerStats,
    registerTubes,
    registerTube,
    registerJob,
    registerJobs,
    registerPeek,
    registerPut,
    registerDelete,
    registerKick,
    registerKickJob,
    registerBury,
    registerPause,
    registerSchedules,
    registerServer,
    registerDashboard,
    registerTop,
  ]) {
    register(root);
  }
  for (const sub of root.commands) sub.exitOverride().configureOutput({ outputError: (text, write) => write(`beanline ${sub.name()}: ${text.replace(/^error: /, '')}`) });
  return root;
}

// Errors are shown as one line, never a stack, and a scan meets one NOT_FOUND per missing id:
// capturing stacks would only slow it down.
Error.stackTraceLimit = 0;

// `beanline stats | head -1`: a reader that stops early is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`beanline: cannot write the output: ${error.message}\n`);
  process.exit(1);
});

try {
  await program().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help); only the exit code is left to set.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const { code, message } = explain(error);
    process.stderr.write(`beanline: ${message}\n`);
    process.exitCode = code;
  }
}

/** Asking the operator before a bulk change: only on a terminal; without one, `--yes` is required. */
import { createInterface } from 'node:readline/promises';
import { UsageError } from './context.js';

export async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) throw new UsageError('nothing changed: give --yes to act without a terminal to confirm on (or --dry-run to count)');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

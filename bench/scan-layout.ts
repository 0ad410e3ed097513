/**
 * Where the jobs of the scan case (i) and the bulk-delete case (j) sit, as a pure function of their
 * index: the parent fills the server by it and the child checks what it found against it, so neither
 * has to tell the other. On a fresh server a job's id is its index + 1 (the fill checks it).
 */

/** (i)'s tubes, round robin by index; the child looks for the buried jobs of the first. */
export const SCAN_TUBES = ['bench-scan-a', 'bench-scan-b', 'bench-scan-c'] as const;
/** (j)'s one tube. */
export const BULK_TUBE = 'bench-bulk';
/** How many ids the one-at-a-time loop in (i) asks about at most, from the highest down. */
export const LOOP_IDS = 20_000;
/** The share of (i)'s jobs deleted again, from the middle of the range, so that ids have gaps. */
const DELETED_SHARE = 0.03;

export const scanTubeOf = (index: number): string => SCAN_TUBES[index % SCAN_TUBES.length] as string;

/** A third of the jobs, spread evenly over the tubes: indexes 0, 1, 2 buried, 3 to 8 not, and so on. */
export const isBuried = (index: number): boolean => Math.floor(index / SCAN_TUBES.length) % 3 === 0;

/**
 * Every other index in a stretch around the middle, 3% of the jobs in all (3,000 of 100,000): many
 * small gaps, which the scan must walk over without counting them as jobs.
 */
export function isDeleted(index: number, jobs: number): boolean {
  const stretch = Math.round(jobs * DELETED_SHARE * 2);
  const from = Math.floor((jobs - stretch) / 2);
  return index >= from && index < from + stretch && index % 2 === 0;
}

/** Whether job `index` is one the scan of (i) must find: buried, in `tube`, not deleted. */
export const isMatch = (index: number, jobs: number, tube: string): boolean =>
  scanTubeOf(index) === tube && isBuried(index) && !isDeleted(index, jobs);

/** How many of the indexes from..to-1 are matches. */
export function matchesBetween(from: number, to: number, jobs: number, tube: string): number {
  let count = 0;
  for (let index = Math.max(0, from); index < Math.min(to, jobs); index += 1) if (isMatch(index, jobs, tube)) count += 1;
  return count;
}

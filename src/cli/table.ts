/** Plain-text tables: the first `textColumns` columns left-aligned, the others (numbers) right-aligned. */
export function table(headings: readonly string[], rows: readonly (readonly string[])[], textColumns = 1): string[] {
  const all = [headings, ...rows];
  const widths = headings.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, column) => (column < textColumns ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
